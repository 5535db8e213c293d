"""A job whose database goes away: it goes back in its line, even while connections are refused.

The database is made to refuse new connections for a number of tries, as a server that is
restarting does, by failing the driver's connect; nothing else of the queue is stood in for.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError

from pxm_jobs.config import Settings
from pxm_jobs.queue.execution import JobRun
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.queue.runner import JobContext
from pxm_jobs.store.engine import is_sqlite
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import claim, reread


class RefusedConnections:
    """Makes the engine's next `count` connects fail as a restarting server's do."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.left = 0
        self.refused = 0
        self.lock = threading.Lock()
        event.listen(engine, "do_connect", self._connect)

    def refuse_next(self, count: int, in_use: Connection | None = None) -> None:
        with self.lock:
            self.left = count
        # A restart closes every connection: the one in use and those waiting in the pool.
        if in_use is not None:
            in_use.invalidate()
        self.engine.dispose()

    def _connect(self, *_: object) -> None:
        with self.lock:
            if self.left == 0:
                return
            self.left -= 1
            self.refused += 1
        if is_sqlite(self.engine):
            raise sqlite3.OperationalError("the database cannot be reached")
        raise psycopg.OperationalError("connection refused: the server is restarting")


@pytest.fixture
def refused(engine: Engine) -> Iterator[RefusedConnections]:
    refusing = RefusedConnections(engine)
    yield refusing
    event.remove(engine, "do_connect", refusing._connect)


@pytest.fixture
def quick_retries(settings: Settings) -> Settings:
    return settings.model_copy(update={"worker_poll_seconds": 0.05})


def lose_the_connection(refused: RefusedConnections, tries: int) -> Any:
    def run(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        refused.refuse_next(tries, connection)
        raise OperationalError(
            "SELECT 1", {}, psycopg.OperationalError("server closed the connection"), True
        )

    return run


def test_a_job_that_loses_its_connection_is_requeued_once_the_database_answers(
    engine: Engine, quick_retries: Settings, refused: RefusedConnections
) -> None:
    [store_id] = make_stores(engine, 1)
    [queued] = queue_jobs(engine, store_id, 1)
    job = claim(engine)
    assert job is not None and job.id == queued.id
    run = JobRun(
        engine, quick_retries, {"test-job": lose_the_connection(refused, 3)}, threading.Event()
    )

    assert run.run(job) == "requeued"

    assert refused.refused == 3, "the requeue must have been tried while connections failed"
    assert reread(engine, job).status == JobStatus.PENDING


def test_a_job_that_cannot_connect_at_all_is_requeued_not_failed(
    engine: Engine, quick_retries: Settings, refused: RefusedConnections
) -> None:
    [store_id] = make_stores(engine, 1)
    queue_jobs(engine, store_id, 1)
    job = claim(engine)
    assert job is not None
    ran = threading.Event()

    def never_reached(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        ran.set()
        return {}

    run = JobRun(engine, quick_retries, {"test-job": never_reached}, threading.Event())
    refused.refuse_next(2)

    assert run.run(job) == "requeued"

    assert not ran.is_set()
    assert refused.refused == 2
    assert reread(engine, job).status == JobStatus.PENDING
