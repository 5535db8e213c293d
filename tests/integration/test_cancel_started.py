"""Cancelling a started job (PXM_CANCEL_STARTED_JOBS): it stops at its next report, nothing of
it is written, and it ends `cancelled`; a job that ends first keeps its status."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.housekeeping import Housekeeper
from pxm_jobs.queue.lifecycle import request_cancel
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.runner import JobContext, JobRunner
from pxm_jobs.queue.wakeup import WorkSignal
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import write_transaction
from tests.factories import make_stores, queue_jobs
from tests.job_api import csv_bytes, queue_import, show_job
from tests.queue_steps import claim, reread
from tests.store_client import StoreClient, store_client

DEADLINE_SECONDS = 30.0
ROWS = [[f"Boot {n}", f"b-{n}", "physical", f"boot-{n}"] for n in range(3)]
CSV = csv_bytes(["name", "sku", "commodity_type", "slug"], *ROWS)


class PausedImport:
    """The real import, held at its first progress report until released; then it reports
    again, as a job does between batches."""

    def __init__(self) -> None:
        self.paused = threading.Event()
        self.release = threading.Event()

    def __call__(self, context: JobContext, connection: Connection) -> Mapping[str, Any]:
        def report(processed: int, total: int | None) -> None:
            context.report_progress(processed, total)
            if not self.paused.is_set():
                self.paused.set()
                assert self.release.wait(DEADLINE_SECONDS), "the test never released the job"
                context.report_progress(processed, total)

        real: JobRunner = RUNNERS[JobType.PRODUCT_IMPORT]
        return real(JobContext(context.job, context.settings, report), connection)


@pytest.fixture
def cancelling(settings: Settings) -> Settings:
    return settings.model_copy(update={"cancel_started_jobs": True})


@pytest.fixture
def api(cancelling: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(cancelling, engine) as client:
        yield client


def run_in_thread(worker: Worker) -> tuple[threading.Thread, list[str]]:
    claimed = worker.claim()
    assert claimed is not None
    outcomes: list[str] = []
    thread = threading.Thread(target=lambda: outcomes.append(worker.run(claimed)))
    thread.start()
    return thread, outcomes


def product_count(api: StoreClient) -> int:
    return int(api.http.get("/pcm/products").json()["meta"]["results"]["total"])


def test_a_started_import_asked_to_stop_ends_cancelled_with_nothing_written(
    engine: Engine, cancelling: Settings, api: StoreClient
) -> None:
    job = queue_import(api, CSV)
    following = api.http.post("/pcm/products/export").json()["data"]
    paused = PausedImport()
    worker = Worker(engine, cancelling, {JobType.PRODUCT_IMPORT: paused})
    thread, outcomes = run_in_thread(worker)
    try:
        assert paused.paused.wait(DEADLINE_SECONDS)
        answer = api.http.post(f"/pcm/jobs/{job['id']}/cancel")
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["attributes"]["status"] == "cancelling"
        assert show_job(api, job["id"])["attributes"]["status"] == "cancelling"
        again = api.http.post(f"/pcm/jobs/{job['id']}/cancel")
        assert again.status_code == 200, "asking twice is fine"
    finally:
        paused.release.set()
        thread.join(DEADLINE_SECONDS)
    assert outcomes == ["cancelled"]
    ended = show_job(api, job["id"])["attributes"]
    assert ended["status"] == "cancelled" and ended["completed_at"] is not None
    assert product_count(api) == 0, "nothing of a cancelled job is written"
    nxt = Worker(engine, cancelling, RUNNERS).claim()
    assert nxt is not None and nxt.id == following["id"], "the store's next job runs after it"


def test_a_job_that_ends_before_the_cancel_keeps_its_status(
    engine: Engine, cancelling: Settings, api: StoreClient
) -> None:
    job = queue_import(api, CSV)
    worker = Worker(engine, cancelling, RUNNERS)
    claimed = worker.claim()
    assert claimed is not None
    assert worker.run(claimed) == "success"
    answer = api.http.post(f"/pcm/jobs/{job['id']}/cancel")
    assert answer.status_code == 422
    assert "this job is success" in answer.json()["errors"][0]["detail"]
    assert product_count(api) == 3


def test_by_default_a_started_job_cannot_be_cancelled(engine: Engine, settings: Settings) -> None:
    with store_client(settings, engine) as api:
        job = queue_import(api, CSV)
        assert Worker(engine, settings, RUNNERS).claim() is not None
        answer = api.http.post(f"/pcm/jobs/{job['id']}/cancel")
        assert answer.status_code == 422
        assert "only pending jobs can be cancelled" in answer.json()["errors"][0]["detail"]
        assert show_job(api, job["id"])["attributes"]["status"] == "started"


def test_a_job_asked_to_stop_whose_worker_died_is_cancelled_not_run_again(
    engine: Engine, cancelling: Settings
) -> None:
    [store_id] = make_stores(engine, 1)
    queue_jobs(engine, store_id, 1)
    job = claim(engine, worker_id="gone")  # no heartbeat at all: the worker is silent
    assert job is not None
    with write_transaction(engine) as connection:
        assert request_cancel(connection, job, utc_now()) is not None
    keeper = Housekeeper(engine, cancelling, "keeper", WorkSignal(engine), threading.Event())
    assert keeper.recover_abandoned() == 1
    ended = reread(engine, job)
    assert ended.status == JobStatus.CANCELLED and ended.completed_at is not None
    assert ended.completed_at <= utc_now()
