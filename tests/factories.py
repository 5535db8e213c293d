"""Small builders for test data, written straight to the tables."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, insert

from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.models import Job
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import stores


def add_store(connection: Connection, name: str = "store") -> str:
    store_id = str(uuid.uuid4())
    connection.execute(insert(stores).values(id=store_id, name=name, created_at=utc_now()))
    return store_id


def make_stores(engine: Engine, count: int) -> list[str]:
    with write_transaction(engine) as connection:
        return [add_store(connection, f"store-{n}") for n in range(count)]


def queue_jobs(
    engine: Engine,
    store_id: str,
    count: int,
    *,
    job_type: str = "test-job",
    start: datetime | None = None,
    payload: dict[str, object] | None = None,
) -> list[Job]:
    """`count` pending jobs for the store, created a millisecond apart from `start`."""
    start = start or utc_now()
    with write_transaction(engine) as connection:
        return [
            enqueue_job(
                connection,
                NewJob(store_id=store_id, type=job_type, input=payload or {}, meta={}),
                start + timedelta(milliseconds=n),
            )
            for n in range(count)
        ]
