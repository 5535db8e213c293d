"""The life of a job: every move from one state to another, and nothing else.

    move      from      to         made by
    enqueue   (new)     pending    a request that creates a job (import, export, copy, retry)
    claim     pending   started    a worker thread, for the front job of a store with none started
    finish    started   success    the job's own transaction, which also holds its effects
    fail      started   failed     a transaction of its own, after the job's effects rolled back
    cancel    pending   cancelled  a request, while the job still waits
    stop      started   cancelled  the job's worker, once the job noticed it was asked to stop
                                   (`request_cancel`, with PXM_CANCEL_STARTED_JOBS), its work
                                   rolled back; or recovery, for such a job whose worker died
    requeue   started   pending    recovery, when the job's worker went silent; or the worker
                                   itself, handing back what it cannot finish before it stops
    give_up   started   failed     recovery, once the job's worker was lost `max_attempts` times

Each move is one statement (in `statements`) whose WHERE clause names the state it leaves, so a
move that lost a race changes nothing and says so. Moves out of `started` are fenced by the
worker and attempt that claimed the job. Every move but the claim locks the store's line row
first (before any job row, so that moves of one store queue up instead of deadlocking) and
re-points it after; the claim never waits on a lock, it passes over what others hold.

The moves an integration can observe (claim, finish, fail, cancel, stop, give_up) each make one
call to `events`, which writes the event in the move's own transaction when anyone observes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection

from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.job_events import JobEvent
from pxm_jobs.queue import statements as sql
from pxm_jobs.queue.events import record_job_event, record_move_events
from pxm_jobs.queue.idempotency import claim_idempotency_key
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.progress import Progress
from pxm_jobs.queue.status_watch import signal_status_change
from pxm_jobs.queue.stop_requests import ask_to_stop
from pxm_jobs.queue.wakeup import signal_new_work
from pxm_jobs.store.engine import call_after_commit
from pxm_jobs.store.storable_text import escape_unstorable


class LeaseLost(Exception):
    """This worker no longer holds the job: it was taken back, and may run elsewhere now."""


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
    """(new) → pending, behind the store's other jobs.

    With an idempotency key, raises RequestReplayed (the key's earlier job is the answer) or
    IdempotencyKeyReused instead, adding nothing.
    """
    sql.run(connection, sql.create_line, {"p_store_id": new.store_id})
    _lock_line(connection, new.store_id)
    if new.idempotency_key is not None:
        claim_idempotency_key(connection, new.store_id, new.idempotency_key, new.fingerprint, now)
    row = sql.run(
        connection,
        sql.insert_job,
        {
            "id": new.id or str(uuid.uuid4()),
            "store_id": new.store_id,
            "type": new.type,
            "status": JobStatus.PENDING.value,
            "created_at": now,
            "updated_at": now,
            "request_id": new.request_id,
            "input": dict(new.input),
            "file_id": new.file_id,
            "meta": dict(new.meta),
            "attempts": 0,
            "idempotency_key": new.idempotency_key,
            "request_fingerprint": new.fingerprint,
        },
    ).one()
    _repoint_line(connection, new.store_id)
    signal_new_work(connection)
    # Lists waiting in this process show the new job at once; other processes' on a re-read.
    signal_status_change(connection, row.id, notified=True)
    return Job.from_row(row)


def claim_job(connection: Connection, worker_id: str, now: datetime) -> Job | None:
    """pending → started: the front job of some store with no job started; None if none is."""
    row = sql.first_row(connection, sql.claim_job, {"p_worker_id": worker_id, "p_now": now})
    if row is None:
        return None
    job = Job.from_row(row)
    record_move_events(connection, job, row, JobEvent.STARTED, now)
    signal_status_change(connection, row.id, notified=True)
    return job


def finish_job(
    connection: Connection,
    job: Job,
    meta: Mapping[str, Any],
    progress: Progress | None,
    now: datetime,
) -> Job:
    """started → success, in the transaction that holds the job's effects.

    Raises LeaseLost when the job was taken back, so that the caller rolls the effects back.
    """
    _lock_line(connection, job.store_id)
    row = sql.first_row(connection, sql.finish_job, _ending(job, meta, progress, now))
    if row is None:
        raise LeaseLost(job.id)
    finished = Job.from_row(row)
    record_move_events(connection, finished, row, JobEvent.SUCCEEDED, now)
    if getattr(row, "line_repointed", None) is None:  # PostgreSQL's statement re-pointed it
        _repoint_line(connection, job.store_id)
    signal_status_change(connection, job.id, notified=True)
    # The store's next job can run now: idle threads must not sleep out their poll for it.
    signal_new_work(connection, notified=True)
    return finished


def fail_job(
    connection: Connection,
    job: Job,
    errors: Sequence[JobErrorDetail],
    meta: Mapping[str, Any],
    progress: Progress | None,
    now: datetime,
) -> Job | None:
    """started → failed, with why; None if the job was taken back meanwhile."""
    _lock_line(connection, job.store_id)
    row = sql.run(connection, sql.fail_job, _ending(job, meta, progress, now)).first()
    if row is None:
        return None
    add_job_errors(connection, job.seq, errors)
    failed = Job.from_row(row)
    record_job_event(connection, failed, JobEvent.FAILED, now)
    _repoint_line(connection, job.store_id)
    signal_status_change(connection, job.id, notified=True)
    signal_new_work(connection)  # as for finish: the store's next job can run
    return failed


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
    """pending → cancelled; whichever of this and a claim comes second finds it not pending."""
    ids = {"p_store_id": store_id, "p_job_id": job_id}
    if _lock_line(connection, store_id):
        row = sql.run(connection, sql.cancel_job, {**ids, "p_now": now}).first()
        if row is not None:
            cancelled = Job.from_row(row)
            record_job_event(connection, cancelled, JobEvent.CANCELLED, now)
            _repoint_line(connection, store_id)
            signal_status_change(connection, job_id, notified=True)
            # The store's next job may be its front now.
            signal_new_work(connection)
            return CancelResult(CancelOutcome.CANCELLED, cancelled)
    current = sql.run(connection, sql.find_job, ids).first()
    if current is None:
        return CancelResult(CancelOutcome.NOT_FOUND, None)
    job = Job.from_row(current)
    if job.status is JobStatus.CANCELLED:
        return CancelResult(CancelOutcome.ALREADY_CANCELLED, job)
    return CancelResult(CancelOutcome.TOO_LATE, job)


def request_cancel(connection: Connection, job: Job, now: datetime) -> Job | None:
    """Ask a started job to stop (its row says when); None if it is no longer started.

    Not a move: the job stays `started`, and with it the store's one-started-job rule, until
    its run notices at its next progress report and `stop_job` ends it.
    """
    ids = {"p_store_id": job.store_id, "p_job_id": job.id}
    row = sql.run(connection, sql.request_cancel, {**ids, "p_now": now}).first()
    if row is None:
        current = sql.run(connection, sql.find_job, ids).first()
        found = Job.from_row(current) if current is not None else None
        return found if found is not None and found.cancelling else None
    if connection.dialect.name == "postgresql":
        sql.run(connection, sql.notify_cancel, {"p_job_id": job.id})  # workers of every process
    call_after_commit(connection, lambda: ask_to_stop([job.id]))  # a worker of this process
    signal_status_change(connection, job.id, notified=True)
    return Job.from_row(row)


def stop_job(connection: Connection, job: Job, progress: Progress | None, now: datetime) -> bool:
    """started → cancelled, fenced; False if the job is not this worker's to end any more."""
    _lock_line(connection, job.store_id)
    processed, total = progress or (job.progress_processed, job.progress_total)
    row = sql.run(
        connection,
        sql.end_cancelled_job,
        {**_fence(job), "p_processed": processed, "p_total": total, "p_now": now},
    ).first()
    if row is None:
        return False
    record_job_event(connection, Job.from_row(row), JobEvent.CANCELLED, now)
    _repoint_line(connection, job.store_id)
    signal_status_change(connection, job.id, notified=True)
    signal_new_work(connection)
    return True


def requeue_job(connection: Connection, job: Job, now: datetime, *, handed_back: bool) -> bool:
    """started → pending, at the front of its line again; False if it is not ours to move.

    Passes over a job whose line or row another transaction holds (its worker, frozen in the
    middle of a move, or a recovery elsewhere): never waits, so a worker's heartbeat never
    waits behind it. `handed_back`: the job's own worker gives it up on its way out, and the
    run it did not finish does not count as an attempt.
    """
    if not _held_by_nobody(connection, job):
        return False
    attempts_after = job.attempts - 1 if handed_back else job.attempts
    row = sql.run(
        connection,
        sql.requeue_job,
        {**_fence(job), "p_attempts_after": attempts_after, "p_now": now},
    ).first()
    if row is None:
        return False
    _repoint_line(connection, job.store_id)
    signal_status_change(connection, job.id, notified=True)
    signal_new_work(connection)
    return True


def recover_abandoned_job(
    connection: Connection, job: Job, now: datetime, max_attempts: int
) -> JobStatus | None:
    """requeue, or give_up once the job has lost its worker `max_attempts` times.

    What became of the job; None if it moved on meanwhile or someone else holds it. A job that
    was asked to stop is not run again: it ends `cancelled`.
    """
    if job.cancel_requested_at is not None:
        if not _held_by_nobody(connection, job):
            return None
        return JobStatus.CANCELLED if stop_job(connection, job, None, now) else None
    if job.attempts < max_attempts:
        return JobStatus.PENDING if requeue_job(connection, job, now, handed_back=False) else None
    if not _held_by_nobody(connection, job):
        return None
    error = JobErrorDetail(
        message=(
            f"the worker running this job stopped responding {job.attempts} times "
            "(crashed, killed or lost its database connection); the job was not retried "
            "again because it may be what stops the worker"
        ),
        code="worker_lost",
    )
    ended = sql.run(connection, sql.fail_job, _ending(job, job.meta, None, now)).first()
    if ended is None:
        return None
    add_job_errors(connection, job.seq, [error])
    record_job_event(connection, Job.from_row(ended), JobEvent.FAILED, now)
    _repoint_line(connection, job.store_id)
    signal_status_change(connection, job.id, notified=True)
    signal_new_work(connection)
    return JobStatus.FAILED


def record_progress(connection: Connection, job: Job, progress: Progress) -> None:
    """How far the started job has got, for other processes to show; fenced like a move."""
    processed, total = progress
    sql.run(
        connection, sql.record_progress, {**_fence(job), "p_processed": processed, "p_total": total}
    )


def add_job_errors(connection: Connection, job_seq: int, errors: Sequence[JobErrorDetail]) -> None:
    """The job's errors, in order. An error quoting bad input keeps a character no column can
    hold (NUL, a lone surrogate) as its escape: recording why a job failed must not fail."""
    if not errors:
        return
    connection.execute(
        sql.add_job_errors(connection.dialect.name),
        [
            {
                "id": str(uuid.uuid4()),
                "job_seq": job_seq,
                "position": position,
                "message": escape_unstorable(error.message),
                "code": error.code,
                "row": error.row,
                "field": _escaped(error.field),
                "value": _escaped(error.value),
            }
            for position, error in enumerate(errors)
        ],
    )


def _escaped(text: str | None) -> str | None:
    return None if text is None else escape_unstorable(text)


def _lock_line(connection: Connection, store_id: str) -> bool:
    """Lock the store's line for this transaction; False if the store never queued a job."""
    return sql.first_row(connection, sql.lock_line, {"p_store_id": store_id}) is not None


def _held_by_nobody(connection: Connection, job: Job) -> bool:
    """Lock the job's line and row, unless another transaction holds either."""
    line = sql.run(connection, sql.lock_line_unless_held, {"p_store_id": job.store_id}).first()
    if line is None:
        return False
    return sql.run(connection, sql.lock_job_unless_held, {"p_seq": job.seq}).first() is not None


def _repoint_line(connection: Connection, store_id: str) -> None:
    sql.run(connection, sql.repoint_line, {"p_store_id": store_id})


def _fence(job: Job) -> dict[str, Any]:
    return {"p_seq": job.seq, "p_worker_id": job.worker_id, "p_attempts": job.attempts}


def _ending(
    job: Job, meta: Mapping[str, Any], progress: Progress | None, now: datetime
) -> dict[str, Any]:
    processed, total = progress or (job.progress_processed, job.progress_total)
    return {
        **_fence(job),
        "p_meta": {**job.meta, **meta},
        "p_processed": processed,
        "p_total": total,
        "p_now": now,
    }
