"""PostgreSQL drops every connection under load: workers reconnect, no job is lost or stuck.

PostgreSQL only: it is the one database here with a server to lose. The suite ends every
connection to the test database (what a failover or an operator's `pg_terminate_backend` does);
`make stress` (PXM_STRESS=1) also restarts the whole server, which the suite does not do
because it would cut off every other user of a shared PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from pxm_jobs.config import Settings
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.store.engine import make_engine, read_transaction
from pxm_jobs.store.tables import jobs
from tests.databases import empty_postgres
from tests.factories import make_stores, queue_jobs
from tests.integration.test_worker_processes import start_worker
from tests.workload import RECORD_JOB, create_run_log

STORES = 5
JOBS_PER_STORE = 40
DRAIN_TIMEOUT_SECONDS = 180


STRESS = os.environ.get("PXM_STRESS") == "1"


def restart_postgres(engine: Engine) -> None:
    version = next(Path("/etc/postgresql").iterdir()).name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )


def terminate_backends(engine: Engine) -> None:
    """End every other connection to the test database, the workers' ones included."""
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()


FAULTS: list[Callable[[Engine], None]] = [terminate_backends]
if STRESS:
    FAULTS.append(restart_postgres)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=postgres_url))
    empty_postgres(engine)
    yield engine
    engine.dispose()


def count_unfinished(engine: Engine) -> int:
    while True:
        try:
            with read_transaction(engine) as connection:
                return int(
                    connection.execute(
                        select(func.count()).where(
                            jobs.c.status.in_([JobStatus.PENDING, JobStatus.STARTED])
                        )
                    ).scalar_one()
                )
        except Exception:  # the server is still coming back
            time.sleep(0.5)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.__name__)
def test_workers_survive_losing_the_database(
    postgres_engine: Engine, postgres_url: str, fault: Callable[[Engine], None]
) -> None:
    engine = postgres_engine
    create_run_log(engine)
    for store_id in make_stores(engine, STORES):
        queue_jobs(
            engine, store_id, JOBS_PER_STORE, job_type=RECORD_JOB, payload={"max_sleep": 0.03}
        )
    workers = [start_worker(postgres_url) for _ in range(2)]
    try:
        # Restart once the workers are under way, whatever time they took to start.
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while count_unfinished(engine) == STORES * JOBS_PER_STORE:
            assert time.monotonic() < deadline, "the workers never started a job"
            time.sleep(0.05)
        assert count_unfinished(engine) > 0, "the fault must land while jobs remain"
        fault(engine)
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while count_unfinished(engine) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert count_unfinished(engine) == 0, "a job stayed pending or started after the fault"
    with read_transaction(engine) as connection:
        statuses = dict(
            connection.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        )
        logged = connection.execute(text("SELECT count(*) FROM test_run_log")).scalar_one()
    assert statuses == {JobStatus.SUCCESS: STORES * JOBS_PER_STORE}
    assert logged == STORES * JOBS_PER_STORE
