"""`GET /metrics` (Prometheus text format): queue gauges from the database, worker timings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import jobs
from tests.job_api import csv_bytes, queue_import, run_jobs
from tests.store_client import StoreClient, store_client

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def scrape(http: TestClient) -> Samples:
    """Every sample of /metrics, fetched as a scraper does: no token."""
    response = http.get("/metrics", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_queue_gauges_count_every_store_by_status_and_type(
    api: StoreClient, engine: Engine
) -> None:
    empty = scrape(api.http)
    assert value(empty, "pxm_jobs_jobs", status="pending", type="product-export") == 0
    assert value(empty, "pxm_jobs_queue_depth") == 0
    assert value(empty, "pxm_jobs_oldest_pending_age_seconds") == 0
    first = api.http.post("/pcm/products/export").json()["data"]
    api.http.post("/pcm/products/export")
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs)
            .where(jobs.c.id == first["id"])
            .values(created_at=utc_now() - timedelta(minutes=5))
        )
    samples = scrape(api.http)
    assert value(samples, "pxm_jobs_jobs", status="pending", type="product-export") == 2
    assert value(samples, "pxm_jobs_queue_depth") == 2
    assert 300 <= value(samples, "pxm_jobs_oldest_pending_age_seconds") < 330
    assert value(samples, "pxm_jobs_workers_alive") == 0
    assert not any("store" in dict(labels) for _, labels in samples), "no per-store series"


def test_worker_timings_and_import_rows_are_recorded(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    before = scrape(api.http)
    rows = [[f"Shoe {n}", f"s-{n}", "physical"] for n in range(4)]
    queue_import(api, csv_bytes(["name", "sku", "commodity_type"], *rows))
    run_jobs(engine, settings)
    after = scrape(api.http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pxm_jobs_pickup_latency_seconds_count", type="product-import") == 1
    assert grew("pxm_jobs_run_seconds_count", type="product-import", outcome="success") == 1
    assert grew("pxm_jobs_import_rows_total") == 4
    assert grew("pxm_jobs_import_rows_per_second_count") == 1
    assert value(after, "pxm_jobs_jobs", status="success", type="product-import") == 1


def test_recovered_jobs_are_counted(api: StoreClient, engine: Engine, settings: Settings) -> None:
    before = scrape(api.http)
    api.http.post("/pcm/products/export")
    # A worker that claims and is never heard from: no heartbeat row at all.
    lost = Worker(engine, settings, RUNNERS)
    assert lost.claim() is not None
    assert Worker(engine, settings, RUNNERS).housekeeper.recover_abandoned() == 1
    after = scrape(api.http)
    requeued = value(after, "pxm_jobs_recovered_total", outcome="pending")
    assert requeued - value(before, "pxm_jobs_recovered_total", outcome="pending") == 1
