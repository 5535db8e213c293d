"""Building children through the in-process API in integration tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from pxm_jobs.config import Settings
from tests.job_api import run_jobs, show_job
from tests.store_client import StoreClient

Json = dict[str, Any]


def create_product(api: StoreClient, **attributes: Any) -> Json:
    values = {"name": "Shirt", "slug": "shirt", "sku": "SHIRT", "commodity_type": "physical"}
    document = {"data": {"type": "product", "attributes": {**values, **attributes}}}
    response = api.http.post("/pcm/products", json=document)
    assert response.status_code == 201, response.text
    product: Json = response.json()["data"]
    return product


def update_product(api: StoreClient, product_id: str, **attributes: Any) -> Json:
    document = {"data": {"type": "product", "id": product_id, "attributes": attributes}}
    response = api.http.put(f"/pcm/products/{product_id}", json=document)
    assert response.status_code == 200, response.text
    product: Json = response.json()["data"]
    return product


def build(api: StoreClient, engine: Engine, settings: Settings, product_id: str) -> Json:
    """Queue a build, run it, and return the finished job."""
    response = api.http.post(f"/pcm/products/{product_id}/build")
    assert response.status_code == 201, response.text
    run_jobs(engine, settings)
    return show_job(api, response.json()["data"]["id"])


def built(api: StoreClient, engine: Engine, settings: Settings, product_id: str) -> Json:
    job = build(api, engine, settings, product_id)
    assert job["attributes"]["status"] == "success", job_errors(api, job)
    return job


def job_errors(api: StoreClient, job: Json) -> list[Json]:
    listed: list[Json] = api.http.get(f"/pcm/jobs/{job['id']}/errors").json()["data"]
    return listed


def children_of(api: StoreClient, product_id: str) -> list[Json]:
    response = api.http.get(f"/pcm/products/{product_id}/children?page[limit]=100")
    assert response.status_code == 200, response.text
    found: list[Json] = response.json()["data"]
    return found


def by_sku(children: list[Json]) -> dict[str, Json]:
    return {child["attributes"]["sku"]: child for child in children}
