"""The JSON:API error envelope, for every failure on every path, framework ones included."""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from pxm_jobs.api.request_id import REQUEST_ID_HEADER, request_id_of

logger = logging.getLogger(__name__)

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ApiError(Exception):
    """A request that cannot be served as asked; `detail` says what to change."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.meta = meta
        self.headers = headers or {}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, f"the requested {what} was not found", title="Not Found")


def error_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_of(request)
    error: dict[str, Any] = {"status": str(status), "title": title, "detail": _encodable(detail)}
    if request_id:
        error["request_id"] = request_id
    if meta:
        error["meta"] = _encodable(meta)
    response_headers = dict(headers or {})
    if request_id:
        response_headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse({"errors": [error]}, status_code=status, headers=response_headers)


def _encodable(value: Any) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD.

    Details and meta may quote what the caller sent, and a JSON body can hold lone surrogates,
    which have no UTF-8 form: left in, the refusal itself would fail to encode.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


def _describe_validation_error(error: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    where = ".".join(location)
    if error.get("type") == "json_invalid":
        return f"the request body is not valid JSON: {error.get('msg', '')}", {}
    message = error.get("msg", "invalid value")
    detail = f"{where}: {message}" if where else message
    return detail, ({"field": where} if where else {})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(
            request, error.status, error.title, error.detail, meta=error.meta, headers=error.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        status = error.status_code
        headers = dict(error.headers or {})
        if status == 404:
            detail = f"no resource at {request.method} {request.url.path}; check the path"
        elif status == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
            headers["Allow"] = ", ".join(_allowed_methods(request))
        else:
            detail = str(error.detail)
        return error_response(request, status, HTTPStatus(status).phrase, detail, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        if _json_body_unlabelled(request, error):
            return error_response(
                request,
                422,
                "Failed Validation",
                "the body was not read as JSON because the request has no "
                "'Content-Type: application/json' header; set that header and send it again",
                meta={"header": "Content-Type"},
            )
        problems = [_describe_validation_error(dict(item)) for item in error.errors()]
        malformed = any(item.get("type") == "json_invalid" for item in error.errors())
        status = 400 if malformed else 422
        title = "Bad Request" if malformed else "Failed Validation"
        detail = "; ".join(text for text, _ in problems) or "the request is not valid"
        meta = problems[0][1] if len(problems) == 1 else None
        return error_response(request, status, title, detail, meta=meta)

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            "Internal Server Error",
            "the server failed to handle this request; quote the request_id when reporting it",
        )


def _json_body_unlabelled(request: Request, error: RequestValidationError) -> bool:
    """A body the framework refused because it was not labelled as JSON (curl's `-d` sends
    `application/x-www-form-urlencoded`), not because of what it holds."""
    content_type = request.headers.get("content-type", "").lower()
    if "json" in content_type or content_type.startswith("multipart/"):
        return False
    has_body = request.headers.get("content-length", "0") not in ("", "0") or (
        "transfer-encoding" in request.headers
    )
    return has_body and any(item.get("loc", ())[:1] == ("body",) for item in error.errors())


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path.

    The router names only the first route whose path matched, but GET and POST of one path are
    often separate routes, and `Allow` must list them all; asking the router about each method
    works however routes are nested.
    """
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def envelope_bytes(status: int, detail: str, request_id: str | None) -> bytes:
    """The envelope as bytes, for answers sent before a request reaches FastAPI."""
    error: dict[str, Any] = {"status": str(status), "title": HTTPStatus(status).phrase}
    error["detail"] = detail
    if request_id:
        error["request_id"] = request_id
    return json.dumps({"errors": [error]}).encode()
