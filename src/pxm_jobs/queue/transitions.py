"""The moves of a job from one state to another: queued, finished, failed, cancelled.

Claims are in `claims`, recoveries of abandoned jobs in `recovery`. Each move is one
conditional UPDATE whose WHERE clause names the state it leaves, so a move that lost a race
changes nothing and says so. Moves out of `started` are fenced: they also name the worker and
attempt holding the lease, so a worker that lost its lease cannot finish the job.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update
from sqlalchemy.sql.dml import ReturningUpdate, Update

from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.idempotency import claim_idempotency_key
from pxm_jobs.queue.lines import lock_line, refresh_line_head
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.status_watch import signal_status_change, status_notice
from pxm_jobs.queue.wakeup import signal_new_work
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import job_errors, jobs
from pxm_jobs.store.types import UtcDateTime


class LeaseLost(Exception):
    """The worker no longer holds this job's lease; another worker may be running it."""


@dataclass(frozen=True)
class NewJob:
    store_id: str
    type: str
    input: Mapping[str, Any]
    meta: Mapping[str, Any]
    request_id: str | None = None
    file_id: str | None = None
    id: str | None = None
    # The caller's Idempotency-Key, and a digest of the request it came with.
    idempotency_key: str | None = None
    fingerprint: str | None = None


def enqueue_job(connection: Connection, new: NewJob, now: datetime) -> Job:
    """Add a pending job at the end of its store's line.

    With an idempotency key, raises RequestReplayed (the key's earlier job is the answer) or
    IdempotencyKeyReused instead, adding nothing.
    """
    lock_line(connection, new.store_id, create=True)
    if new.idempotency_key is not None:
        claim_idempotency_key(connection, new.store_id, new.idempotency_key, new.fingerprint, now)
    row = connection.execute(
        insert(jobs)
        .values(
            id=new.id or str(uuid.uuid4()),
            store_id=new.store_id,
            type=new.type,
            status=JobStatus.PENDING,
            created_at=now,
            updated_at=now,
            request_id=new.request_id,
            input=dict(new.input),
            file_id=new.file_id,
            meta=dict(new.meta),
            attempts=0,
            idempotency_key=new.idempotency_key,
            request_fingerprint=new.fingerprint,
        )
        .returning(*jobs.c)
    ).one()
    refresh_line_head(connection, new.store_id)
    signal_new_work(connection)
    return Job.from_row(row)


def holds_lease(job: Job) -> ColumnElement[bool]:
    """The condition that `job`'s row is still started under the lease this worker holds."""
    return (
        (jobs.c.seq == job.seq)
        & (jobs.c.status == JobStatus.STARTED.constant)
        & (jobs.c.worker_id == job.worker_id)
        & (jobs.c.attempts == job.attempts)
    )


def extend_lease(connection: Connection, job: Job, now: datetime, lease_seconds: float) -> bool:
    """Push the lease of a running job forward; False if the lease was already lost."""
    result = connection.execute(
        update(jobs)
        .where(holds_lease(job))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return result.rowcount == 1


def ended_under_lease(connection: Connection, job: Job) -> bool:
    """Whether the job ended, under the lease this worker held: it finished, nobody took it."""
    row = connection.execute(
        select(jobs.c.status, jobs.c.worker_id, jobs.c.attempts).where(jobs.c.seq == job.seq)
    ).first()
    return (
        row is not None
        and JobStatus(row.status).is_terminal
        and row.worker_id == job.worker_id
        and row.attempts == job.attempts
    )


def record_progress(connection: Connection, job: Job, processed: int, total: int | None) -> None:
    connection.execute(
        update(jobs)
        .where(holds_lease(job))
        .values(progress_processed=processed, progress_total=total)
    )


def _build_end_job(dialect: str) -> ReturningUpdate[Any]:
    return _build_end_job_quietly(dialect).returning(*jobs.c, *status_notice(dialect))


def _build_end_job_quietly(dialect: str) -> Update:
    now = bindparam("p_now", type_=UtcDateTime())
    return (
        update(jobs)
        .where(
            jobs.c.seq == bindparam("p_seq"),
            jobs.c.status == JobStatus.STARTED.constant,
            jobs.c.worker_id == bindparam("p_worker_id"),
            jobs.c.attempts == bindparam("p_attempts"),
        )
        .values(
            status=bindparam("p_status"),
            completed_at=now,
            updated_at=now,
            lease_expires_at=None,
            meta=bindparam("p_meta", type_=jobs.c.meta.type),
        )
    )


def _end_job(
    connection: Connection, job: Job, status: JobStatus, meta: Mapping[str, Any], now: datetime
) -> Job | None:
    """Move a started job to a terminal status if this worker still holds its lease."""
    row = connection.execute(
        statement_for(connection, _build_end_job),
        {
            "p_seq": job.seq,
            "p_worker_id": job.worker_id,
            "p_attempts": job.attempts,
            "p_status": status.value,
            "p_now": now,
            "p_meta": {**job.meta, **meta},
        },
    ).first()
    if row is None:
        return None
    signal_status_change(connection, job.id, notified=True)
    return Job.from_row(row)


def finish_job(connection: Connection, job: Job, meta: Mapping[str, Any], now: datetime) -> Job:
    """Mark a started job `success`, in the transaction that holds its effects.

    Raises LeaseLost when the lease is gone, so the caller rolls the effects back.
    """
    finished = _end_job(connection, job, JobStatus.SUCCESS, meta, now)
    if finished is None:
        raise LeaseLost(job.id)
    return finished


def finish_jobs(
    connection: Connection, finished: Sequence[tuple[Job, Mapping[str, Any]]], now: datetime
) -> None:
    """`finish_job` for several jobs of one worker (each with its meta), as one executemany.

    Raises LeaseLost, naming the first job, when any lease is gone: the caller rolls back all.
    (A PostgreSQL worker records a round's successes with its claim: `claims.finish_and_claim`.)
    """
    if not finished:
        return
    ended = connection.execute(
        statement_for(connection, _build_end_job_quietly),
        [
            {
                "p_seq": job.seq,
                "p_worker_id": job.worker_id,
                "p_attempts": job.attempts,
                "p_status": JobStatus.SUCCESS.value,
                "p_now": now,
                "p_meta": {**job.meta, **meta},
            }
            for job, meta in finished
        ],
    ).rowcount
    if ended != len(finished):
        raise LeaseLost(finished[0][0].id)
    for job, _ in finished:
        # The statement sent no NOTIFY (on PostgreSQL this does); waiters here wake on commit.
        signal_status_change(connection, job.id, notified=False)


def fail_job(
    connection: Connection,
    job: Job,
    errors: Sequence[JobErrorDetail],
    meta: Mapping[str, Any],
    now: datetime,
) -> Job | None:
    """Mark a started job `failed` and record why; None if the lease was lost meanwhile."""
    failed = _end_job(connection, job, JobStatus.FAILED, meta, now)
    if failed is not None:
        add_job_errors(connection, job.seq, errors)
    return failed


def add_job_errors(connection: Connection, job_seq: int, errors: Sequence[JobErrorDetail]) -> None:
    if not errors:
        return
    connection.execute(
        insert(job_errors),
        [
            {
                "id": str(uuid.uuid4()),
                "job_seq": job_seq,
                "position": position,
                "message": error.message,
                "code": error.code,
                "row": error.row,
                "field": error.field,
                "value": error.value,
            }
            for position, error in enumerate(errors)
        ],
    )


class CancelOutcome(Enum):
    CANCELLED = "cancelled"  # the job was pending and is now cancelled
    ALREADY_CANCELLED = "already_cancelled"  # nothing to do: asking again is fine
    TOO_LATE = "too_late"  # the job started or finished first
    NOT_FOUND = "not_found"  # no such job in this store


@dataclass(frozen=True)
class CancelResult:
    outcome: CancelOutcome
    job: Job | None


def cancel_job(connection: Connection, store_id: str, job_id: str, now: datetime) -> CancelResult:
    """Cancel a pending job; whichever of this and a claim comes second finds it not pending."""
    # The line lock comes first, as in every other move, so that this never deadlocks a claim.
    lock_line(connection, store_id)
    row = connection.execute(
        update(jobs)
        .where(
            jobs.c.id == job_id,
            jobs.c.store_id == store_id,
            jobs.c.status == JobStatus.PENDING.constant,
        )
        .values(status=JobStatus.CANCELLED, completed_at=now, updated_at=now)
        .returning(*jobs.c, *status_notice(connection.dialect.name))
    ).first()
    if row is not None:
        refresh_line_head(connection, store_id)
        signal_status_change(connection, job_id, notified=True)
        return CancelResult(CancelOutcome.CANCELLED, Job.from_row(row))
    current = connection.execute(
        select(jobs).where(jobs.c.id == job_id, jobs.c.store_id == store_id)
    ).first()
    if current is None:
        return CancelResult(CancelOutcome.NOT_FOUND, None)
    job = Job.from_row(current)
    if job.status is JobStatus.CANCELLED:
        return CancelResult(CancelOutcome.ALREADY_CANCELLED, job)
    return CancelResult(CancelOutcome.TOO_LATE, job)
