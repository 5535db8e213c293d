"""The queue's moves, one transaction each, as a worker or a request would make them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import CancelResult, cancel_job, claim_job, finish_job
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.reads import get_job
from pxm_jobs.store.engine import one_statement, read_transaction, write_transaction


def claim(engine: Engine, worker_id: str = "w1") -> Job | None:
    with one_statement(engine) as connection:
        return claim_job(connection, worker_id, utc_now())


def finish(engine: Engine, job: Job, meta: Mapping[str, Any] | None = None) -> Job:
    with write_transaction(engine) as connection:
        return finish_job(connection, job, meta or {}, None, utc_now())


def cancel(engine: Engine, job: Job) -> CancelResult:
    with write_transaction(engine) as connection:
        return cancel_job(connection, job.store_id, job.id, utc_now())


def reread(engine: Engine, job: Job) -> Job:
    with read_transaction(engine) as connection:
        found = get_job(connection, job.store_id, job.id)
    assert found is not None
    return found
