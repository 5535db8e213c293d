"""Which workers are alive: each one's heartbeat is its row's `last_seen_at`.

A worker's heartbeat is what keeps its jobs its own: once it has been silent for the lease
(`PXM_JOB_LEASE_SECONDS`), any other worker takes its jobs back. Nothing but this row is
written to keep a job, so a job's own locks never hold up its heartbeat.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime

from sqlalchemy import Connection, Engine

from pxm_jobs.clock import utc_now
from pxm_jobs.queue import statements as sql
from pxm_jobs.queue.models import Job
from pxm_jobs.store.engine import write_transaction


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def register_worker(engine: Engine, worker_id: str) -> None:
    with write_transaction(engine) as connection:
        sql.run(
            connection,
            sql.register_worker,
            {
                "p_worker_id": worker_id,
                "p_hostname": socket.gethostname(),
                "p_pid": os.getpid(),
                "p_now": utc_now(),
            },
        )


def touch_worker(engine: Engine, worker_id: str) -> bool:
    """The heartbeat; False if the worker's row is gone (it was taken for dead and removed)."""
    with write_transaction(engine) as connection:
        touched = sql.run(
            connection, sql.touch_worker, {"p_worker_id": worker_id, "p_now": utc_now()}
        )
        return bool(touched.rowcount)


def forget_worker(engine: Engine, worker_id: str) -> None:
    """A worker that stops: whatever it still runs may be taken back by others at once."""
    with write_transaction(engine) as connection:
        sql.run(connection, sql.forget_worker, {"p_worker_id": worker_id})


def find_abandoned_jobs(connection: Connection, now: datetime, silence_seconds: float) -> list[Job]:
    """Started jobs whose worker has not been heard from for `silence_seconds`, or is gone."""
    rows = sql.run(
        connection, sql.find_abandoned_jobs, sql.silence_parameters(now, silence_seconds)
    )
    return [Job.from_row(row) for row in rows]


def find_stop_requests(connection: Connection, worker_id: str) -> list[str]:
    """Ids of the worker's started jobs that someone asked to stop."""
    return list(sql.run(connection, sql.find_cancel_requests, {"p_worker_id": worker_id}).scalars())
