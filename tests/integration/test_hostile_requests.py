"""Arbitrary uploads and filters through the HTTP API: a 2xx or a 4xx, never a 5xx or a partial
write.

An upload the request-time check refuses leaves no job and no stored file; one it accepts runs
as a job that succeeds, or fails having changed no product.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, func, select

from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.store.tables import blobs, jobs, products
from tests.hostile_inputs import sendable_filters, uploads
from tests.store_client import StoreClient, store_client

FUZZ_SETTINGS = hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    # Small limits, so that generated files cross them.
    small = settings.model_copy(update={"import_max_bytes": 4096, "import_max_rows": 6})
    with store_client(small, engine) as client:
        yield client


def product_rows(engine: Engine, store_id: str) -> list[Any]:
    with read_transaction(engine) as connection:
        query = select(products).where(products.c.store_id == store_id).order_by(products.c.id)
        return [tuple(row) for row in connection.execute(query)]


def stored_counts(engine: Engine) -> tuple[int, int]:
    with read_transaction(engine) as connection:
        return (
            connection.execute(select(func.count()).select_from(jobs)).scalar_one(),
            connection.execute(select(func.count()).select_from(blobs)).scalar_one(),
        )


def run_jobs(engine: Engine, settings: Settings) -> None:
    worker = Worker(engine, settings, RUNNERS)
    while (job := worker.claim()) is not None:
        worker.run(job)


@FUZZ_SETTINGS
@given(data=uploads)
def test_any_upload_is_queued_or_refused_and_a_failed_import_writes_nothing(
    api: StoreClient, engine: Engine, settings: Settings, data: bytes
) -> None:
    before = product_rows(engine, api.store_id)
    counts = stored_counts(engine)
    response = api.http.post("/pcm/products/import", files={"file": ("f.csv", data, "text/csv")})
    assert response.status_code == 201 or 400 <= response.status_code < 500, response.text
    if response.status_code != 201:
        assert response.json()["errors"][0]["detail"]
        assert stored_counts(engine) == counts, "a refused upload must leave nothing behind"
        return
    run_jobs(engine, settings)
    job_id = response.json()["data"]["id"]
    job = api.http.get(f"/pcm/jobs/{job_id}").json()["data"]
    assert job["attributes"]["status"] in ("success", "failed")
    if job["attributes"]["status"] == "failed":
        assert product_rows(engine, api.store_id) == before
        assert api.http.get(f"/pcm/jobs/{job_id}/errors").json()["data"]


@FUZZ_SETTINGS
@given(text=sendable_filters)
def test_any_filter_is_applied_or_refused_with_a_400(api: StoreClient, text: str) -> None:
    for method, path, accepted in (
        ("GET", "/pcm/products", 200),
        ("GET", "/pcm/jobs", 200),
        ("POST", "/pcm/products/export", 201),
    ):
        response = api.http.request(method, path, params={"filter": text})
        assert response.status_code in (accepted, 400), (path, response.text)


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
def test_text_no_database_can_keep_is_refused_wherever_a_body_carries_it(
    api: StoreClient, engine: Engine, text: str
) -> None:
    """PostgreSQL refuses NUL in text; a lone surrogate has no UTF-8 form for either database."""

    def sent(method: str, path: str, document: Any) -> Any:
        # json.dumps escapes both, as a client would; httpx would refuse a lone surrogate raw.
        headers = {"Content-Type": "application/json"}
        return api.http.request(method, path, content=json.dumps(document), headers=headers)

    def created(path: str, document: Any) -> str:
        response = sent("POST", path, document)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    hierarchy = created(
        "/pcm/hierarchies", {"data": {"type": "hierarchy", "attributes": {"name": "H"}}}
    )
    nodes = f"/pcm/hierarchies/{hierarchy}/nodes"
    node = created(nodes, {"data": {"type": "node", "attributes": {"name": "N"}}})
    parent = {"parent": {"data": {"type": "node", "id": text}}}
    attributes = {"name": text, "description": text}
    cases = [
        ("POST", "/pcm/hierarchies", {"data": {"type": "hierarchy", "attributes": attributes}}),
        (
            "POST",
            "/pcm/hierarchies",
            {"data": {"type": "hierarchy", "attributes": {"name": "x", "description": text}}},
        ),
        (
            "POST",
            "/pcm/hierarchies",
            {
                "data": {
                    "type": "hierarchy",
                    "attributes": {"name": "x", "locales": {text: {"name": "x"}}},
                }
            },
        ),
        (
            "POST",
            "/pcm/hierarchies",
            {
                "data": {
                    "type": "hierarchy",
                    "attributes": {"name": "x", "locales": {"fr": {"name": text}}},
                }
            },
        ),
        (
            "PUT",
            f"/pcm/hierarchies/{hierarchy}",
            {"data": {"type": "hierarchy", "attributes": {"description": text}}},
        ),
        (
            "POST",
            f"/pcm/hierarchies/{hierarchy}/duplicate_job",
            {"data": {"type": "hierarchy", "attributes": attributes}},
        ),
        ("POST", nodes, {"data": {"type": "node", "attributes": attributes}}),
        (
            "POST",
            nodes,
            {"data": {"type": "node", "attributes": {"name": "M"}, "relationships": parent}},
        ),
        ("PUT", f"{nodes}/{node}", {"data": {"type": "node", "relationships": parent}}),
        ("PUT", f"{nodes}/{node}/relationships/parent", {"data": {"type": "node", "id": text}}),
        (
            "POST",
            f"{nodes}/{node}/relationships/products",
            {"data": [{"type": "product", "id": text}]},
        ),
        ("POST", "/pcm/products", {"data": {"type": "product", "attributes": {text: "x"}}}),
        (
            "POST",
            "/pcm/products",
            {
                "data": {
                    "type": "product",
                    "attributes": {"name": text, "sku": "s", "commodity_type": "physical"},
                }
            },
        ),
    ]
    before = stored_counts(engine)
    for method, path, document in cases:
        response = sent(method, path, document)
        assert response.status_code == 422, (method, path, response.text)
    unlinked = sent(
        "DELETE",
        f"{nodes}/{node}/relationships/products",
        {"data": [{"type": "product", "id": text}]},
    )
    assert unlinked.status_code == 200, unlinked.text
    assert stored_counts(engine) == before
