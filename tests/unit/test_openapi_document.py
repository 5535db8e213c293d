"""/openapi.json describes every endpoint the app serves: its parameters, its request body,
the bearer scheme, and the shape of every answer, errors included.

Whether the answers really have these shapes is the contract test's job
(tests/acceptance/test_api_contract.py); this checks that nothing is left undescribed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from tests.tenants import ADMIN_PREFIXES, endpoints

SETTINGS = Settings(database_url="sqlite://", page_limit_max=77, page_offset_max=5000)
APP = create_app(SETTINGS, run_worker=False)
DOCUMENT = APP.openapi()
ERROR_REF = "#/components/schemas/ErrorDocument"
ADMIN_STATUSES = {"401", "403", "413", "500"}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def operation(method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]
    return found


def json_schema(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def test_every_endpoint_served_is_documented_and_nothing_else() -> None:
    served = {(e.method, e.path) for e in endpoints(APP) if e.documented}
    documented = {(method, path) for method, path, _ in operations()}
    assert served == documented
    assert not any(path.startswith("/pcm/job/") for _, path in documented), "aliases stay hidden"


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in operations()])
def test_every_error_an_operation_answers_is_the_envelope(method: str, path: str) -> None:
    responses = operation(method, path)["responses"]
    errors = {status: response for status, response in responses.items() if status >= "400"}
    # Whatever the route: the HTTP parser answers 400 to a request it cannot read, and the
    # limits on the request's head 414 and 431.
    assert {"400", "414", "431", "500"} <= set(errors)
    for response in errors.values():
        assert json_schema(response) == {"$ref": ERROR_REF}


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in operations()])
def test_every_success_has_a_described_shape(method: str, path: str) -> None:
    responses = operation(method, path)["responses"]
    [success] = [status for status in responses if status.startswith("2")]
    content = responses[success].get("content", {})
    if success == "204":
        assert not content
    elif "application/json" in content:
        assert json_schema(responses[success])["$ref"].startswith("#/components/schemas/")
    else:
        assert content, f"{method} {path} says nothing of what it answers"


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in operations()])
def test_admin_operations_declare_the_bearer_scheme_and_its_refusals(
    method: str, path: str
) -> None:
    found = operation(method, path)
    if not path.startswith(ADMIN_PREFIXES):
        assert "security" not in found
        return
    assert found["security"] == [{"bearerAuth": []}]
    assert set(found["responses"]) >= ADMIN_STATUSES


def test_the_bearer_scheme_is_described() -> None:
    scheme = DOCUMENT["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, op in operations() if "requestBody" in op]
)
def test_a_request_body_can_be_refused_as_malformed_or_invalid(method: str, path: str) -> None:
    assert {"400", "422"} <= set(operation(method, path)["responses"])


def test_the_framework_validation_error_shape_appears_nowhere() -> None:
    assert "HTTPValidationError" not in str(DOCUMENT)


def test_lists_document_their_page_parameters_with_the_configured_bounds() -> None:
    paged = 0
    for _, _, found in operations():
        parameters = {parameter["name"]: parameter for parameter in found.get("parameters", [])}
        if "page[limit]" not in parameters:
            continue
        paged += 1
        limit, offset = parameters["page[limit]"]["schema"], parameters["page[offset]"]["schema"]
        assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 77)
        assert (offset["type"], offset["minimum"], offset["maximum"]) == ("integer", 0, 5000)
        assert "400" in found["responses"]
    assert paged >= 8


def test_query_parameters_are_documented_by_their_wire_names() -> None:
    def names(method: str, path: str) -> set[str]:
        return {parameter["name"] for parameter in operation(method, path).get("parameters", [])}

    assert {"filter", "page[limit]", "page[offset]"} <= names("GET", "/pcm/products")
    assert {"filter", "page[limit]", "page[offset]"} <= names("GET", "/pcm/jobs")
    assert {"filter", "useTemplateSlugs"} <= names("POST", "/pcm/products/export")
    assert "dry_run" in names("POST", "/pcm/products/import")


def test_the_import_takes_a_multipart_file() -> None:
    body = operation("POST", "/pcm/products/import")["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert body["required"] and schema["required"] == ["file"]
    assert schema["properties"]["file"] == schema["properties"]["file"] | {
        "type": "string",
        "format": "binary",
    }


def test_the_token_endpoint_takes_a_form() -> None:
    body = operation("POST", "/oauth/access_token")["requestBody"]
    reference = body["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"]
    form = DOCUMENT["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert set(form["properties"]) == {"grant_type", "client_id", "client_secret"}


def test_the_error_envelope_is_described_as_the_contract_states() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["ErrorDocument"]["required"] == ["errors"]
    error = schemas["ErrorObject"]
    assert error["required"] == ["status", "title", "detail"]
    assert {"request_id", "meta"} <= set(error["properties"])


def test_never_set_timestamps_are_documented_as_null_not_absent() -> None:
    attributes = DOCUMENT["components"]["schemas"]["JobAttributes"]
    for name in ("started_at", "completed_at"):
        assert name in attributes["required"]
        assert {"type": "null"} in attributes["properties"][name]["anyOf"]
