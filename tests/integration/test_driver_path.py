"""The driver path of the statements every job passes through: same answers, same faults.

On PostgreSQL the claim, the line lock and the finish, an import's upload read, look-up and
result write, and an export's count of a whole store go straight to psycopg (`driver_path`);
with PXM_DB_DRIVER_PATH off, and on SQLite, they go through SQLAlchemy. These tests hold both
ways to the same answers, and make the faults the driver path must handle as SQLAlchemy
would: a connection the database dropped before a claim, and one dropped while a job ran.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from pxm_jobs.catalog.products.csv_export import MatchCounts, count_matches
from pxm_jobs.catalog.products.queries import find_products_matching
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.lifecycle import NewJob, claim_job, enqueue_job, finish_job
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.reads import get_job
from pxm_jobs.queue.runner import JobContext
from pxm_jobs.queue.worker import Worker
from pxm_jobs.queue.workers import register_worker
from pxm_jobs.store import driver_path
from pxm_jobs.store.blobs import open_blob, write_blob
from pxm_jobs.store.engine import (
    is_sqlite,
    make_engine,
    retrying_stale_connection,
    write_transaction,
)
from pxm_jobs.tenancy.stores import create_store
from tests.child_builds import create_product
from tests.databases import POSTGRES_ADMIN_URL
from tests.store_client import store_client

STORE_JOB = "note-store"
# Stored and read back as they were: nested, non-ASCII, a quote, numbers of both kinds.
META = {"note": 'Größe "XL" — 5€', "counts": [1, 2.5], "nested": {"empty": {}}}


@pytest.fixture
def driver_engines(settings: Settings) -> Iterator[dict[bool, Engine]]:
    """An engine with the driver path and one without, on the same database."""
    engines = {
        on: make_engine(settings.model_copy(update={"db_driver_path": on})) for on in (True, False)
    }
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def driver_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How each statement sent on the driver path ended: "row" (rows came back), "none" or the
    error's name."""
    calls: list[str] = []
    sent = driver_path._run

    def spy(connection: Connection, statement: Any, parameters: Any, *, returns: str) -> Any:
        try:
            rows = sent(connection, statement, parameters, returns=returns)
        except Exception as error:
            invalidated = isinstance(error, DBAPIError) and error.connection_invalidated
            calls.append(f"{type(error).__name__}{' (invalidated)' if invalidated else ''}")
            raise
        calls.append("row" if rows else "none")
        return rows

    monkeypatch.setattr(driver_path, "_run", spy)
    return calls


def queue_one(engine: Engine, store_name: str = "shop") -> str:
    with write_transaction(engine) as connection:
        store_id = create_store(connection, store_name).store_id
        new = NewJob(store_id=store_id, type=STORE_JOB, input={"n": 1}, meta={"queued": True})
        return enqueue_job(connection, new, utc_now()).id


def claim_and_finish(engine: Engine, worker_id: str) -> tuple[Job, Job]:
    """Claim the pending job and finish it with META; both moves rolled back afterwards."""
    with engine.connect() as connection, connection.begin() as transaction:
        claimed = claim_job(connection, worker_id, utc_now())
        assert claimed is not None
        finished = finish_job(connection, claimed, META, (3, 3), utc_now())
        transaction.rollback()
    return claimed, finished


def store_with_products(settings: Settings, engine: Engine, skus: list[str]) -> str:
    """A new store holding a product for each sku (its slug and name the sku too)."""
    with store_client(settings, engine) as api:
        for sku in skus:
            create_product(api, name=sku, sku=sku, slug=sku)
        return api.store_id


def without_moments(job: Job) -> dict[str, Any]:
    """A job's fields but the ones each statement stamps with its own time."""
    fields = vars(job).copy()
    for stamped in ("updated_at", "started_at", "completed_at"):
        fields[stamped] = fields[stamped] is not None
    return fields


def test_the_driver_path_answers_what_sqlalchemy_answers(
    driver_engines: dict[bool, Engine], driver_calls: list[str]
) -> None:
    queue_one(driver_engines[True])
    register_worker(driver_engines[True], "w-1")
    driver_calls.clear()
    answers = {on: claim_and_finish(engine, "w-1") for on, engine in driver_engines.items()}
    claimed, finished = answers[True]
    assert claimed.status is JobStatus.STARTED and finished.status is JobStatus.SUCCESS
    assert finished.meta == {"queued": True, **META}
    assert (finished.progress_processed, finished.progress_total) == (3, 3)
    for job in (claimed, finished):
        assert job.created_at.tzinfo is not None and job.updated_at.tzinfo is not None
    assert [without_moments(job) for job in answers[True]] == [
        without_moments(job) for job in answers[False]
    ]
    # The claim, the line lock and the finish, of the engine with the driver path, where it
    # exists.
    assert driver_calls == ([] if is_sqlite(driver_engines[True]) else ["row", "row", "row"])


def test_a_finish_through_the_driver_path_is_read_back_as_written(
    engine: Engine, settings: Settings
) -> None:
    job_id = queue_one(engine)
    worker = Worker(engine, settings, {STORE_JOB: lambda context, connection: META})
    register_worker(engine, worker.id)
    job = worker.claim()
    assert job is not None and job.id == job_id
    assert worker.run(job) == "success"
    with engine.connect() as connection:
        stored = get_job(connection, job.store_id, job_id)
    assert stored is not None and stored.status is JobStatus.SUCCESS
    assert stored.meta == {"queued": True, **META}
    assert stored.completed_at is not None and stored.completed_at.tzinfo is not None


@pytest.fixture
def worker_engine(settings: Settings) -> Iterator[Engine]:
    """An engine as `pxm-jobs worker` makes it: no round trip to test a pooled connection."""
    engine = make_engine(settings, ping_on_checkout=False)
    yield engine
    engine.dispose()


def end_connections_of(engine: Engine) -> int:
    """End every connection the database has open for `engine`'s database but this one."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (engine.url.database,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_claim_on_a_dropped_connection_is_made_again_on_a_fresh_one(
    worker_engine: Engine, settings: Settings, driver_calls: list[str]
) -> None:
    engine = worker_engine
    if is_sqlite(engine):
        pytest.skip("SQLite has no server to drop a connection")
    job_id = queue_one(engine)
    worker = Worker(engine, settings, {STORE_JOB: lambda context, connection: {}})
    register_worker(engine, worker.id)
    driver_calls.clear()
    with engine.connect() as connection:  # the pooled connection the claim will be given
        connection.execute(text("SELECT 1"))
    assert end_connections_of(engine) > 0
    job = retrying_stale_connection(worker.claim)
    assert job is not None and job.id == job_id
    # The first claim met the dropped connection on the driver path, which invalidated it as
    # SQLAlchemy does, so the claim was made again, on a fresh connection.
    assert driver_calls == ["OperationalError (invalidated)", "row"]


def test_a_job_whose_connection_dropped_before_its_finish_is_requeued_and_runs_again(
    worker_engine: Engine, settings: Settings, driver_calls: list[str]
) -> None:
    engine = worker_engine
    if is_sqlite(engine):
        pytest.skip("SQLite has no server to drop a connection")
    job_id = queue_one(engine)
    runs: list[int] = []

    def dropped_on_first_run(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        runs.append(context.job.attempts)
        connection.execute(text("SELECT 1"))  # the job's transaction has begun
        if len(runs) == 1:
            end_connections_of(engine)
        return {"run": len(runs)}

    worker = Worker(engine, settings, {STORE_JOB: dropped_on_first_run})
    register_worker(engine, worker.id)
    driver_calls.clear()
    job = worker.claim()
    assert job is not None
    assert worker.run(job) == "requeued"
    with engine.connect() as connection:
        requeued = get_job(connection, job.store_id, job_id)
    assert requeued is not None and requeued.status is JobStatus.PENDING
    again = retrying_stale_connection(worker.claim)
    assert again is not None and again.id == job_id
    assert worker.run(again) == "success"
    with engine.connect() as connection:
        done = get_job(connection, job.store_id, job_id)
    assert done is not None and done.status is JobStatus.SUCCESS and done.meta["run"] == 2
    # The claim; the finish's line lock, on the dropped connection, which invalidated the
    # pool's older connections too; then the claim, the lock and the finish on fresh ones.
    assert driver_calls == ["row", "OperationalError (invalidated)", "row", "row", "row"]


def test_an_imports_statements_answer_the_same_on_both_paths(
    driver_engines: dict[bool, Engine], settings: Settings, driver_calls: list[str]
) -> None:
    """An import's read of its upload, look-up of the products it names, write of its results."""
    store_id = store_with_products(settings, driver_engines[True], ["BOOT-1", "BOOT-2"])
    content = b"x" * 1000
    with write_transaction(driver_engines[True]) as connection:
        blob = write_blob(
            connection, store_id=store_id, name="r.csv", content_type="text/csv", chunks=[content]
        )
    wanted = {"sku": ["BOOT-2", "NONE"], "slug": ["BOOT-1"]}
    found = {}
    for on, engine in driver_engines.items():
        driver_calls.clear()
        with engine.connect() as connection:
            opened = open_blob(connection, blob.id)
            assert opened is not None
            matched = find_products_matching(connection, store_id, wanted)
            found[on] = (opened.info, b"".join(opened.chunks), sorted(matched, key=repr))
        assert driver_calls == (["row", "row"] if on and not is_sqlite(engine) else [])
    assert found[True] == found[False]
    info, data, matched = found[True]
    assert info == blob and data == content
    assert sorted(product.sku for product in matched) == ["BOOT-1", "BOOT-2"]


def test_an_exports_count_answers_the_same_on_both_paths(
    driver_engines: dict[bool, Engine], settings: Settings, driver_calls: list[str]
) -> None:
    """The count every export of a whole store asks for, of products and of bundles."""
    store_id = store_with_products(settings, driver_engines[True], ["HAT-1", "HAT-2"])
    for on, engine in driver_engines.items():
        driver_calls.clear()
        with engine.connect() as connection:
            assert count_matches(connection, store_id, []) == MatchCounts(2, 0)
            assert count_matches(connection, "no-such-store", []) == MatchCounts(0, 0)
        assert driver_calls == (["row", "row"] if on and not is_sqlite(engine) else [])
