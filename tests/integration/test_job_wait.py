"""`GET /pcm/jobs/{id}?wait=N` (spec §3 [ext]): answers on a status change, on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.api.jobs.wait import WAIT_RECHECK_SECONDS
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.lifecycle import cancel_job
from pxm_jobs.queue.status_watch import waiting_on
from pxm_jobs.store.engine import write_transaction
from tests.job_api import only_error, run_jobs, show_job
from tests.store_client import StoreClient, store_client

Json = dict[str, Any]


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def pending_job(api: StoreClient) -> Json:
    job: Json = api.http.post("/pcm/products/export").json()["data"]
    return job


def timed_show(api: StoreClient, job_id: str, wait: float) -> tuple[Json, float]:
    started = time.monotonic()
    shown = show_job(api, job_id, f"?wait={wait}")
    return shown, time.monotonic() - started


def answered_at(api: StoreClient, job_id: str, wait: float) -> tuple[Json, float]:
    """The job as a waiting request shows it, and when (time.monotonic()) the answer came."""
    shown = show_job(api, job_id, f"?wait={wait}")
    return shown, time.monotonic()


def later(seconds: float, action: Any) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("wait", ["61", "-1", "soon", "nan", "inf"])
def test_wait_is_0_to_60_seconds(api: StoreClient, wait: str) -> None:
    job = pending_job(api)
    response = api.http.get(f"/pcm/jobs/{job['id']}", params={"wait": wait})
    assert response.status_code == 400
    assert "wait must be a number of seconds from 0 to 60" in only_error(response)["detail"]


def test_the_answer_comes_as_soon_as_the_status_changes(api: StoreClient, engine: Engine) -> None:
    job = pending_job(api)

    def cancel() -> None:
        with write_transaction(engine) as connection:
            cancel_job(connection, api.store_id, job["id"], utc_now())

    canceller = later(0.3, cancel)
    shown, elapsed = timed_show(api, job["id"], 10)
    canceller.join()
    assert shown["attributes"]["status"] == "cancelled"
    assert 0.25 <= elapsed < 1.5


def test_a_change_made_by_another_process_wakes_the_waiter(
    api: StoreClient, engine: Engine
) -> None:
    """Made outside `write_transaction`, the change rings no bell in this process: on
    PostgreSQL the NOTIFY does, through the listener; on SQLite the periodic re-read finds it."""
    job = pending_job(api)

    def cancel_elsewhere() -> None:
        with engine.begin() as connection:
            cancel_job(connection, api.store_id, job["id"], utc_now())

    canceller = later(0.3, cancel_elsewhere)
    shown, elapsed = timed_show(api, job["id"], 10)
    canceller.join()
    assert shown["attributes"]["status"] == "cancelled"
    bound = 1.5 if engine.dialect.name == "postgresql" else WAIT_RECHECK_SECONDS + 1
    assert elapsed < bound


def test_without_a_change_the_wait_runs_out(api: StoreClient) -> None:
    job = pending_job(api)
    shown, elapsed = timed_show(api, job["id"], 0.5)
    assert shown["attributes"]["status"] == "pending"
    assert shown["meta"]["queue_position"] == 1
    assert 0.45 <= elapsed < 1.5


def test_a_finished_job_is_answered_at_once(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = pending_job(api)
    run_jobs(engine, settings)
    shown, elapsed = timed_show(api, job["id"], 30)
    assert shown["attributes"]["status"] == "success" and elapsed < 1
    assert api.http.get("/pcm/jobs/00000000-0000-4000-8000-000000000000?wait=1").status_code == 404


def test_waiters_hold_no_connection_and_no_thread(api: StoreClient, engine: Engine) -> None:
    job = pending_job(api)
    # More waiters than the threadpool has threads (40): other requests must still be served.
    waiters = 45
    with ThreadPoolExecutor(waiters) as pool:
        waiting = [pool.submit(answered_at, api, job["id"], 10) for _ in range(waiters)]
        # Each one reads the job once, then waits holding no connection: there comes a moment
        # when all of them wait and no connection is out of the pool.
        deadline = time.monotonic() + 5
        while waiting_on(job["id"]) < waiters or engine.pool.checkedout() > 0:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "waiting requests kept database connections"
            time.sleep(0.02)
        assert not any(future.done() for future in waiting)
        started = time.monotonic()
        listed = api.http.get("/pcm/jobs")
        assert listed.status_code == 200 and time.monotonic() - started < 1.5
        cancelled_at = time.monotonic()
        assert api.http.post(f"/pcm/jobs/{job['id']}/cancel").status_code == 200
        answers = [future.result(timeout=15) for future in waiting]
    assert all(shown["attributes"]["status"] == "cancelled" for shown, _ in answers)
    # Woken by the cancel, not by the end of their wait.
    assert max(at for _, at in answers) - cancelled_at < 2.5
