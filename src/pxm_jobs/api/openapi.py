"""The OpenAPI document at /openapi.json, with what the framework cannot know put right.

FastAPI adds a 422 answer in its own shape to every operation with parameters that does not
declare one, whether or not it can happen; this service answers every 422 in the error envelope,
and each route that can refuse input with a 422 declares it. The page maxima are settings, so
the document takes them from the settings it serves with.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI

from pxm_jobs.api.common_schemas import error_schemas
from pxm_jobs.api.pagination import LIMIT_PARAMETER, OFFSET_PARAMETER
from pxm_jobs.config import Settings

_FRAMEWORK_ERROR_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")
_FRAMEWORK_ERROR_REF: Final = "#/components/schemas/HTTPValidationError"


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the refined document; it is built once, on the first request for it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = refine_openapi(build(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def refine_openapi(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    maxima = {
        LIMIT_PARAMETER: settings.page_limit_max,
        OFFSET_PARAMETER: settings.page_offset_max,
    }
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if _is_framework_validation_error(responses.get("422")):
                del responses["422"]
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter["name"] in maxima:
                    parameter["schema"]["maximum"] = maxima[parameter["name"]]
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FRAMEWORK_ERROR_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(error_schemas())
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def _is_framework_validation_error(response: dict[str, Any] | None) -> bool:
    if response is None:
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == _FRAMEWORK_ERROR_REF)
