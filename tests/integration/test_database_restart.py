"""PostgreSQL restarts under load: workers reconnect, no job is lost and none stays stuck.

PostgreSQL only: it is the one database here with a server to restart.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
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


def restart_postgres() -> None:
    version = next(Path("/etc/postgresql").iterdir()).name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )


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


def test_workers_survive_a_database_restart(postgres_engine: Engine, postgres_url: str) -> None:
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
        assert count_unfinished(engine) > 0, "the restart must land while jobs remain"
        restart_postgres()
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while count_unfinished(engine) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert count_unfinished(engine) == 0, "a job stayed pending or started after the restart"
    with read_transaction(engine) as connection:
        statuses = dict(
            connection.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        )
        logged = connection.execute(text("SELECT count(*) FROM test_run_log")).scalar_one()
    assert statuses == {JobStatus.SUCCESS: STORES * JOBS_PER_STORE}
    assert logged == STORES * JOBS_PER_STORE
