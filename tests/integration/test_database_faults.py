"""Database faults under the API: a 503 with Retry-After, never a 500, and the next request works.

Each test makes the fault for real (backends terminated, a database that refuses writes, a lock
held by another transaction, the SQLite file deleted) and then asks again.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, event

from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.models import JobType
from pxm_jobs.queue.runner import JobContext
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import file_identity, is_sqlite, write_transaction
from tests.databases import POSTGRES_ADMIN_URL
from tests.store_client import StoreClient, store_client

LOCK_WAIT_SECONDS = 1.0


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    quick = settings.model_copy(update={"request_lock_wait_seconds": LOCK_WAIT_SECONDS})
    with store_client(quick, engine) as client:
        yield client


def new_product() -> dict[str, Any]:
    sku = f"SKU-{uuid.uuid4().hex[:8]}"
    attributes = {"name": f"Boot {sku}", "sku": sku, "commodity_type": "physical"}
    return {"data": {"type": "product", "attributes": attributes}}


def assert_retry_later(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["errors"][0]["detail"]


def database_name(engine: Engine) -> str:
    return str(engine.url.database)


def test_terminated_connections_are_replaced_before_the_next_request(
    api: StoreClient, engine: Engine
) -> None:
    if is_sqlite(engine):
        pytest.skip("SQLite has no server to drop a connection")
    for _ in range(3):  # several pooled connections, all about to be cut
        assert api.http.get("/pcm/jobs").status_code == 200
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database_name(engine),),
        ).fetchone()
    assert ended is not None and ended[0] > 0
    for _ in range(5):
        response = api.http.get("/pcm/jobs")
        assert response.status_code == 200, response.text
    assert api.http.post("/pcm/products", json=new_product()).status_code == 201


@contextmanager
def read_only_moment(engine: Engine) -> Iterator[None]:
    """Connections opened during the block cannot write; ones opened after it can again.

    SQLite: the file opened read-only, as a permission change makes it. PostgreSQL: the database
    set to refuse writes in new sessions. The pool is emptied, so the block opens new ones.
    """
    if is_sqlite(engine):
        read_only = threading.Event()
        read_only.set()

        @event.listens_for(engine, "do_connect")
        def open_read_only(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> None:
            if read_only.is_set():
                cargs[0] = f"file:{cargs[0]}?mode=ro"
                cparams["uri"] = True

        engine.dispose()
        try:
            yield
        finally:
            read_only.clear()
        return
    name = database_name(engine)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        engine.dispose()
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


def test_writes_work_again_once_the_database_takes_writes_again(
    api: StoreClient, engine: Engine
) -> None:
    with read_only_moment(engine):
        for _ in range(3):
            assert_retry_later(api.http.post("/pcm/products", json=new_product()))
    for _ in range(5):
        response = api.http.post("/pcm/products", json=new_product())
        assert response.status_code == 201, response.text


@contextmanager
def lock_held(engine: Engine) -> Iterator[None]:
    """Another transaction holds what writes need: SQLite's write lock, PostgreSQL's tables."""
    with write_transaction(engine) as connection:  # on SQLite, BEGIN IMMEDIATE
        if not is_sqlite(engine):
            connection.exec_driver_sql("LOCK TABLE products, job_lines IN EXCLUSIVE MODE")
        yield


def test_a_held_lock_is_answered_503_with_retry_after_and_then_the_write_goes_through(
    api: StoreClient, engine: Engine
) -> None:
    with lock_held(engine):
        assert_retry_later(api.http.post("/pcm/products", json=new_product()))
        assert_retry_later(api.http.post("/pcm/products/export"))
        # Reads go on meanwhile.
        assert api.http.get("/pcm/jobs").status_code == 200
    assert api.http.post("/pcm/products", json=new_product()).status_code == 201
    assert api.http.post("/pcm/products/export").status_code == 201


def test_a_deleted_sqlite_file_stops_writes_instead_of_losing_them(
    api: StoreClient, engine: Engine
) -> None:
    if not is_sqlite(engine):
        pytest.skip("only SQLite keeps the database in a file the service opened")
    identity = file_identity(engine)
    assert identity is not None
    told: list[str] = []
    identity.on_replaced = told.append
    assert api.http.post("/pcm/products", json=new_product()).status_code == 201
    os.remove(identity.path)
    for _ in range(3):
        response = api.http.post("/pcm/products", json=new_product())
        assert_retry_later(response)
        assert "deleted or replaced" in response.json()["errors"][0]["detail"]
    engine.dispose()  # new connections would create an empty file in its place
    assert_retry_later(api.http.post("/pcm/products", json=new_product()))
    assert len(told) == 1 and "was deleted" in told[0]


def test_one_stores_export_does_not_hold_up_another_stores_writes(
    settings: Settings, engine: Engine
) -> None:
    """The export is held where it has read everything (its last progress report); another
    store's write must go through meanwhile, not wait on the export's write lock."""
    quick = settings.model_copy(update={"request_lock_wait_seconds": LOCK_WAIT_SECONDS})
    reading_done, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def held_export(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        runs.append(context.job.id)

        def report(processed: int, total: int | None) -> None:
            if total is not None and processed == total:
                reading_done.set()
                assert release.wait(30)

        return RUNNERS[JobType.PRODUCT_EXPORT](replace(context, report_progress=report), connection)

    runners = {**RUNNERS, JobType.PRODUCT_EXPORT: held_export}
    with store_client(quick, engine) as exporter, store_client(quick, engine) as other:
        assert exporter.http.post("/pcm/products", json=new_product()).status_code == 201
        export = exporter.http.post("/pcm/products/export")
        assert export.status_code == 201
        worker = Worker(engine, quick, runners)
        job = worker.claim()
        assert job is not None
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(worker.run, job)
            assert reading_done.wait(30)
            try:
                response = other.http.post("/pcm/products", json=new_product())
            finally:
                release.set()
            assert running.result() == "success"
        assert response.status_code == 201, response.text
    # Read on a connection of its own, the export is not refused at its first write on SQLite
    # and run again from the start with the write lock held all along.
    assert len(runs) == 1


def test_another_stores_write_goes_through_while_an_export_stores_its_parts(
    settings: Settings, engine: Engine
) -> None:
    """The export is held after its first part is stored and before its second: its reading
    transaction has ended, and another store's write must complete before the export does."""
    quick = settings.model_copy(
        update={"request_lock_wait_seconds": LOCK_WAIT_SECONDS, "export_rows_per_file": 1}
    )
    part_stored, release = threading.Event(), threading.Event()
    connections_held: list[int] = []

    def held_export(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        assert context.write_separately is not None
        write_separately = context.write_separately

        @contextmanager
        def held_after_first_part() -> Iterator[Connection]:
            if not part_stored.is_set():
                # Only the job's own connection: the reading one went back to the pool.
                connections_held.append(engine.pool.checkedout())  # type: ignore[attr-defined]
            with write_separately() as writer:
                yield writer
            if not part_stored.is_set():
                part_stored.set()
                assert release.wait(30)

        held = replace(context, write_separately=held_after_first_part)
        return RUNNERS[JobType.PRODUCT_EXPORT](held, connection)

    runners = {**RUNNERS, JobType.PRODUCT_EXPORT: held_export}
    with store_client(quick, engine) as exporter, store_client(quick, engine) as other:
        for _ in range(2):
            assert exporter.http.post("/pcm/products", json=new_product()).status_code == 201
        export = exporter.http.post("/pcm/products/export")
        assert export.status_code == 201
        job_id = export.json()["data"]["id"]
        worker = Worker(engine, quick, runners)
        job = worker.claim()
        assert job is not None
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(worker.run, job)
            assert part_stored.wait(30)
            try:
                response = other.http.post("/pcm/products", json=new_product())
                still = exporter.http.get(f"/pcm/jobs/{job_id}").json()["data"]["attributes"]
            finally:
                release.set()
            assert running.result() == "success"
        assert response.status_code == 201, response.text
        assert still["status"] == "started"
        shown = exporter.http.get(f"/pcm/jobs/{job_id}").json()["data"]
        links = shown["meta"]["file_locations"]
        assert len(links) == 2
        for link in links:
            assert exporter.http.get(link, headers={"Authorization": ""}).status_code == 200
    assert connections_held == [1]
