"""Every failure answers in the JSON:API error envelope, with a request id and no trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings


class Echo(BaseModel):
    name: str
    count: int


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, run_worker=False)

    @app.get("/test/crash")
    def crash() -> None:
        raise RuntimeError("secret internals")

    @app.post("/test/echo")
    def echo(body: Echo) -> Echo:
        return body

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def only_error(response_json: dict[str, object]) -> dict[str, str]:
    errors = response_json["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    error: dict[str, str] = errors[0]
    return error


def test_an_unhandled_error_is_a_500_with_a_request_id_and_no_trace(client: TestClient) -> None:
    response = client.get("/test/crash")
    assert response.status_code == 500
    error = only_error(response.json())
    assert error["status"] == "500"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_the_callers_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/pcm/jobs", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert only_error(response.json())["request_id"] == "abc-123"


def test_malformed_json_is_a_400_and_invalid_fields_a_422(client: TestClient) -> None:
    malformed = client.post(
        "/test/echo", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert "not valid JSON" in only_error(malformed.json())["detail"]
    invalid = client.post("/test/echo", json={"name": "x", "count": "many"})
    assert invalid.status_code == 422
    error = only_error(invalid.json())
    assert error["title"] == "Failed Validation" and "count" in error["detail"]


def test_bodies_over_the_limit_get_a_413(client: TestClient, settings: Settings) -> None:
    too_big = b"x" * (settings.json_body_max_bytes + 1)
    response = client.post(
        "/pcm/jobs/00000000-0000-0000-0000-000000000000/cancel",
        content=too_big,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert only_error(response.json())["status"] == "413"
    assert response.headers["X-Request-ID"]


def test_unknown_routes_and_methods_are_enveloped(client: TestClient) -> None:
    assert only_error(client.get("/nothing/here").json())["status"] == "404"
    assert only_error(client.put("/pcm/jobs").json())["status"] == "405"


def test_a_405_lists_every_method_of_the_path(client: TestClient) -> None:
    # GET and POST /pcm/products are separate routes; the router alone would name only one.
    assert client.request("OPTIONS", "/pcm/products").headers["Allow"] == "GET, POST"
    product = "/pcm/products/00000000-0000-0000-0000-000000000000"
    allowed = client.patch(product).headers["Allow"].split(", ")
    assert {"GET", "PUT", "DELETE"} <= set(allowed) and "PATCH" not in allowed
