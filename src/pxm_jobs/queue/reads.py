"""Reading jobs back: one job, a store's list of jobs, a job's errors, the state of a line."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, tuple_

from pxm_jobs.queue.models import Job, JobError, JobErrorDetail, JobStatus
from pxm_jobs.store.tables import job_errors, jobs, workers


def get_job(connection: Connection, store_id: str, job_id: str) -> Job | None:
    row = connection.execute(
        select(jobs).where(jobs.c.id == job_id, jobs.c.store_id == store_id)
    ).first()
    return Job.from_row(row) if row is not None else None


@dataclass(frozen=True)
class JobQuery:
    """Which of a store's jobs to list; None means any."""

    statuses: Collection[str] | None = None
    types: Collection[str] | None = None


def list_jobs(
    connection: Connection, store_id: str, query: JobQuery, *, limit: int, offset: int
) -> tuple[list[Job], int]:
    """A page of the store's jobs, newest first, and how many match in all."""
    conditions = [jobs.c.store_id == store_id]
    if query.statuses is not None:
        conditions.append(jobs.c.status.in_(list(query.statuses)))
    if query.types is not None:
        conditions.append(jobs.c.type.in_(list(query.types)))
    total = connection.execute(select(func.count()).select_from(jobs).where(*conditions)).scalar()
    rows = connection.execute(
        select(jobs)
        .where(*conditions)
        .order_by(jobs.c.created_at.desc(), jobs.c.seq.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [Job.from_row(row) for row in rows], int(total or 0)


def list_job_errors(
    connection: Connection, job: Job, *, limit: int, offset: int
) -> tuple[list[JobError], int]:
    total = connection.execute(
        select(func.count()).select_from(job_errors).where(job_errors.c.job_seq == job.seq)
    ).scalar()
    rows = connection.execute(
        select(job_errors)
        .where(job_errors.c.job_seq == job.seq)
        .order_by(job_errors.c.position)
        .limit(limit)
        .offset(offset)
    ).all()
    errors = [
        JobError(
            id=row.id,
            detail=JobErrorDetail(
                message=row.message, code=row.code, row=row.row, field=row.field, value=row.value
            ),
        )
        for row in rows
    ]
    return errors, int(total or 0)


def count_jobs_ahead(connection: Connection, job: Job) -> int:
    """How many pending jobs of the store come before this one (0 = it is the head)."""
    ahead = connection.execute(
        select(func.count())
        .select_from(jobs)
        .where(
            jobs.c.store_id == job.store_id,
            jobs.c.status == JobStatus.PENDING,
            tuple_(jobs.c.created_at, jobs.c.seq) < tuple_(job.created_at, job.seq),
        )
    ).scalar()
    return int(ahead or 0)


@dataclass(frozen=True)
class QueueState:
    pending: int
    oldest_pending_created_at: datetime | None
    workers_alive: int


def read_queue_state(
    connection: Connection, store_id: str, now: datetime, worker_silence_seconds: float
) -> QueueState:
    pending, oldest = connection.execute(
        select(func.count(), func.min(jobs.c.created_at)).where(
            jobs.c.store_id == store_id, jobs.c.status == JobStatus.PENDING
        )
    ).one()
    alive = connection.execute(
        select(func.count())
        .select_from(workers)
        .where(workers.c.last_seen_at >= now - timedelta(seconds=worker_silence_seconds))
    ).scalar()
    return QueueState(int(pending), oldest, int(alive or 0))
