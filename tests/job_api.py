"""Driving jobs through the in-process API in integration tests: queue them, run them, read them."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from tests.store_client import StoreClient

Json = dict[str, Any]


def csv_bytes(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


def run_jobs(engine: Engine, settings: Settings) -> None:
    """Run every pending job to its end, as the worker would."""
    worker = Worker(engine, settings, RUNNERS)
    while (job := worker.claim()) is not None:
        worker.run(job)


def post_import(api: StoreClient, content: bytes, query: str = "", **kwargs: Any) -> Any:
    return api.http.post(
        f"/pcm/products/import{query}",
        files={"file": ("products.csv", content, "text/csv")},
        **kwargs,
    )


def queue_import(api: StoreClient, content: bytes, query: str = "", **kwargs: Any) -> Json:
    response = post_import(api, content, query, **kwargs)
    assert response.status_code == 201, response.text
    job: Json = response.json()["data"]
    return job


def show_job(api: StoreClient, job_id: str, query: str = "") -> Json:
    response = api.http.get(f"/pcm/jobs/{job_id}{query}")
    assert response.status_code == 200, response.text
    job: Json = response.json()["data"]
    return job


def only_error(response: Any) -> Json:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: Json = errors[0]
    return error


def download(api: StoreClient, url: str) -> Any:
    """GET without any credential, as a browser given the link would."""
    return api.http.get(url, headers={"Authorization": ""})
