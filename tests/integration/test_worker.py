"""The worker's threads: one job per transaction, heartbeats that never wait on a job, prompt
answers while a job runs, and jobs handed back when a worker stops."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select, text, update

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.runner import JobContext, JobFailed, JobRunner
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import make_engine, read_transaction
from pxm_jobs.store.tables import jobs, workers
from tests.databases import empty_postgres
from tests.factories import make_stores, queue_jobs
from tests.job_api import csv_bytes, queue_import, show_job
from tests.queue_steps import reread
from tests.store_client import StoreClient, sign_in

DEADLINE_SECONDS = 30.0  # what "never" means here: far beyond any answer that did not wait
LEASE_SECONDS = 1.0


class CountingRunner:
    """A job runner that counts its runs, and does what the test gives it."""

    def __init__(self, work: Callable[[JobContext, Connection], None] | None = None) -> None:
        self.work = work
        self.runs: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, context: JobContext, connection: Connection) -> Mapping[str, Any]:
        with self.lock:
            self.runs.append(context.job.id)
        if self.work is not None:
            self.work(context, connection)
        return {"ran": True}


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def statuses(engine: Engine) -> dict[str, str]:
    with read_transaction(engine) as connection:
        return {row.id: row.status for row in connection.execute(select(jobs.c.id, jobs.c.status))}


def last_seen(engine: Engine, worker_id: str) -> Any:
    with read_transaction(engine) as connection:
        return connection.execute(
            select(workers.c.last_seen_at).where(workers.c.id == worker_id)
        ).scalar_one_or_none()


@pytest.fixture
def quick_lease(settings: Settings) -> Settings:
    return settings.model_copy(update={"job_lease_seconds": LEASE_SECONDS})


def test_running_workers_drain_every_store_in_order(engine: Engine, settings: Settings) -> None:
    store_ids = make_stores(engine, 4)
    queued = {store_id: queue_jobs(engine, store_id, 10) for store_id in store_ids}
    runner = CountingRunner()
    workers_ = [Worker(engine, settings, {"test-job": runner}, concurrency=2) for _ in range(2)]
    for worker in workers_:
        worker.start()
    try:
        wait_for(lambda: set(statuses(engine).values()) == {"success"}, "every job succeeded")
    finally:
        for worker in workers_:
            assert worker.stop(grace_seconds=DEADLINE_SECONDS)
    with read_transaction(engine) as connection:
        rows = connection.execute(
            select(
                jobs.c.store_id, jobs.c.id, jobs.c.started_at, jobs.c.completed_at, jobs.c.attempts
            )
        ).all()
    for store_id, store_jobs in queued.items():
        ran = sorted((row for row in rows if row.store_id == store_id), key=lambda r: r.started_at)
        assert [row.id for row in ran] == [job.id for job in store_jobs], "creation order"
        for before, after in itertools.pairwise(ran):
            assert before.completed_at <= after.started_at, "two jobs of one store overlapped"
    assert {row.attempts for row in rows} == {1}, "a job was claimed twice"


def test_a_failed_job_records_its_errors_and_the_next_one_runs(
    engine: Engine, settings: Settings
) -> None:
    [store] = make_stores(engine, 1)
    failing, following = queue_jobs(engine, store, 2)

    def fail_the_first(context: JobContext, connection: Connection) -> None:
        if context.job.id == failing.id:
            raise JobFailed([JobErrorDetail(message="row 2 is wrong", row=2, code="invalid_row")])

    worker = Worker(engine, settings, {"test-job": CountingRunner(fail_the_first)})
    for _ in range(2):
        claimed = worker.claim()
        assert claimed is not None
        worker.run(claimed)
    assert reread(engine, failing).status is JobStatus.FAILED
    assert reread(engine, following).status is JobStatus.SUCCESS


def test_a_job_holding_its_row_for_twice_the_lease_keeps_it_and_runs_once(
    engine: Engine, quick_lease: Settings
) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    holding = threading.Event()
    beats: list[Any] = []

    def hold_own_row(context: JobContext, connection: Connection) -> None:
        # Lock the job's own row (on SQLite, take the write lock) as a job's work might.
        connection.execute(
            update(jobs).where(jobs.c.seq == context.job.seq).values(updated_at=jobs.c.updated_at)
        )
        holding.set()
        time.sleep(2 * LEASE_SECONDS)
        if engine.dialect.name == "postgresql":
            beats.append(last_seen(engine, context.job.worker_id or ""))

    runner = CountingRunner(hold_own_row)
    running = Worker(engine, quick_lease, {"test-job": runner}, concurrency=1)
    running.start()
    try:
        assert holding.wait(DEADLINE_SECONDS)
        started_beat = last_seen(engine, running.id)
        # Another worker, whose housekeeping would take the job back if its lease lapsed.
        other = Worker(engine, quick_lease, {"test-job": runner}, concurrency=1)
        other.start()
        try:
            wait_for(lambda: reread(engine, job).status is JobStatus.SUCCESS, "the job ended")
        finally:
            other.stop(grace_seconds=DEADLINE_SECONDS)
    finally:
        running.stop(grace_seconds=DEADLINE_SECONDS)
    assert runner.runs == [job.id], "the job ran exactly once"
    assert reread(engine, job).attempts == 1
    if engine.dialect.name == "postgresql":
        assert beats and beats[0] > started_beat, "the heartbeat went on while the job held"


def test_stopping_with_a_short_grace_hands_the_running_job_back_at_once(
    engine: Engine, settings: Settings
) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    inside = threading.Event()

    def report_until_stopped(context: JobContext, connection: Connection) -> None:
        inside.set()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            context.report_progress(1, None)  # raises once the worker must stop
            time.sleep(0.01)

    runner = CountingRunner(report_until_stopped)
    worker = Worker(engine, settings, {"test-job": runner}, concurrency=1)
    worker.start()
    assert inside.wait(DEADLINE_SECONDS)
    assert not worker.stop(grace_seconds=0.1), "the job did not finish within the grace"
    back = reread(engine, job)
    assert (back.status, back.attempts, back.worker_id) == (JobStatus.PENDING, 0, None)
    assert last_seen(engine, worker.id) is None, "the stopped worker signed off"
    again = Worker(engine, settings, {"test-job": CountingRunner()})
    claimed = again.claim()
    assert claimed is not None and claimed.id == job.id and claimed.attempts == 1


class PausingImport:
    """The real import, stopped at its first progress report (while it reads) until released."""

    def __init__(self) -> None:
        self.paused = threading.Event()
        self.release = threading.Event()
        self.runs = 0

    def __call__(self, context: JobContext, connection: Connection) -> Mapping[str, Any]:
        self.runs += 1

        def report(processed: int, total: int | None) -> None:
            context.report_progress(processed, total)
            if not self.paused.is_set():
                self.paused.set()
                assert self.release.wait(DEADLINE_SECONDS), "the test never released the job"

        real: JobRunner = RUNNERS[JobType.PRODUCT_IMPORT]
        return real(JobContext(context.job, context.settings, report), connection)


@pytest.fixture
def two_stores(settings: Settings, engine: Engine) -> Iterator[tuple[StoreClient, StoreClient]]:
    app = create_app(settings, engine=engine, run_worker=False)
    with (
        TestClient(app, raise_server_exceptions=False) as first,
        TestClient(app, raise_server_exceptions=False) as second,
    ):
        clients = []
        for http, name in ((first, "a"), (second, "b")):
            store_id, token = sign_in(http, engine, name)
            http.headers["Authorization"] = f"Bearer {token}"
            clients.append(StoreClient(http, store_id))
        yield clients[0], clients[1]


def test_cancels_and_enqueues_answer_while_a_long_import_runs(
    engine: Engine, settings: Settings, two_stores: tuple[StoreClient, StoreClient]
) -> None:
    store_a, store_b = two_stores
    rows = [[f"Shoe {n}", f"s-{n}", "physical", f"shoe-{n}"] for n in range(3)]
    importing = queue_import(store_a, csv_bytes(["name", "sku", "commodity_type", "slug"], *rows))
    waiting_a = store_a.http.post("/pcm/products/export").json()["data"]
    waiting_b = store_b.http.post("/pcm/products/export").json()["data"]
    pausing = PausingImport()
    worker = Worker(engine, settings, {JobType.PRODUCT_IMPORT: pausing})
    claimed = worker.claim()
    assert claimed is not None and claimed.id == importing["id"]
    running = threading.Thread(target=worker.run, args=(claimed,))
    running.start()
    try:
        assert pausing.paused.wait(DEADLINE_SECONDS)
        with ThreadPoolExecutor(3) as pool:
            answers = [
                pool.submit(store_a.http.post, f"/pcm/jobs/{waiting_a['id']}/cancel"),
                pool.submit(store_b.http.post, f"/pcm/jobs/{waiting_b['id']}/cancel"),
                pool.submit(store_a.http.post, "/pcm/products/export"),
            ]
            codes = [answer.result(timeout=DEADLINE_SECONDS).status_code for answer in answers]
        assert not pausing.release.is_set() and running.is_alive(), "the import still runs"
        assert codes == [200, 200, 201]
    finally:
        pausing.release.set()
        running.join(DEADLINE_SECONDS)
    done = show_job(store_a, importing["id"])
    assert done["attributes"]["status"] == "success"
    assert done["meta"]["rows"] == {"created": 3, "updated": 0}
    # On SQLite the import read without the write lock; the writes made meanwhile meant its
    # first write was refused, and it ran again from the start with the lock taken first.
    assert pausing.runs == (2 if engine.dialect.name == "sqlite" else 1)
    listed = store_a.http.get("/pcm/products").json()["meta"]["results"]["total"]
    assert listed == 3


def test_a_claim_passes_over_a_line_another_transaction_holds(postgres_url: str) -> None:
    """A claim never waits (PostgreSQL; SQLite's write lock orders every writer anyway)."""
    settings = Settings(database_url=postgres_url)
    engine = make_engine(settings)
    try:
        empty_postgres(engine)
        busy, free = make_stores(engine, 2)
        [busy_job] = queue_jobs(engine, busy, 1)
        [free_job] = queue_jobs(engine, free, 1)
        with engine.connect() as holder, holder.begin():
            holder.execute(
                text("SELECT 1 FROM job_lines WHERE store_id = :store FOR UPDATE"), {"store": busy}
            )
            claimed = Worker(engine, settings, {}).claim()
            assert claimed is not None and claimed.id == free_job.id
        assert reread(engine, busy_job).status is JobStatus.PENDING
    finally:
        engine.dispose()
