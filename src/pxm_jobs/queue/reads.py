"""Reading jobs back: one job, a store's list of jobs, a job's errors, the state of a line."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, Connection, func, select, tuple_

from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.models import Job, JobError, JobStatus
from pxm_jobs.store.tables import job_errors, jobs, workers


def get_job(connection: Connection, store_id: str, job_id: str) -> Job | None:
    row = connection.execute(
        select(jobs).where(jobs.c.id == job_id, jobs.c.store_id == store_id)
    ).first()
    return Job.from_row(row) if row is not None else None


class JobOrder(Enum):
    """The orders a list of jobs can be sorted in; arrival order breaks ties either way."""

    NEWEST_FIRST = "-created_at"
    OLDEST_FIRST = "created_at"
    STARTED_FIRST = "started_at"  # earliest start first; never-started jobs last
    STARTED_LAST = "-started_at"  # latest start first; never-started jobs last


@dataclass(frozen=True)
class JobQuery:
    """Which of a store's jobs to list, in what order; None means any."""

    statuses: Collection[str] | None = None
    types: Collection[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    order: JobOrder = JobOrder.NEWEST_FIRST


def _ordering(order: JobOrder) -> list[ColumnElement[object]]:
    if order is JobOrder.OLDEST_FIRST:
        return [jobs.c.created_at.asc(), jobs.c.seq.asc()]
    if order is JobOrder.STARTED_FIRST:
        return [jobs.c.started_at.asc().nulls_last(), jobs.c.seq.asc()]
    if order is JobOrder.STARTED_LAST:
        return [jobs.c.started_at.desc().nulls_last(), jobs.c.seq.desc()]
    return [jobs.c.created_at.desc(), jobs.c.seq.desc()]


def list_jobs(
    connection: Connection, store_id: str, query: JobQuery, *, limit: int, offset: int
) -> tuple[list[Job], int]:
    """A page of the store's jobs in the query's order (newest first), and how many match."""
    conditions = [jobs.c.store_id == store_id]
    if query.statuses is not None:
        conditions.append(jobs.c.status.in_(list(query.statuses)))
    if query.types is not None:
        conditions.append(jobs.c.type.in_(list(query.types)))
    if query.created_after is not None:
        conditions.append(jobs.c.created_at > query.created_after)
    if query.created_before is not None:
        conditions.append(jobs.c.created_at < query.created_before)
    total = connection.execute(select(func.count()).select_from(jobs).where(*conditions)).scalar()
    rows = connection.execute(
        select(jobs)
        .where(*conditions)
        .order_by(*_ordering(query.order))
        .limit(limit)
        .offset(offset)
    ).all()
    return [Job.from_row(row) for row in rows], int(total or 0)


def list_job_errors(
    connection: Connection,
    job: Job,
    *,
    limit: int,
    offset: int,
    codes: Collection[str] | None = None,
) -> tuple[list[JobError], int]:
    """A page of the job's errors in the order they were found; only `codes`, if given."""
    conditions = [job_errors.c.job_seq == job.seq]
    if codes is not None:
        conditions.append(job_errors.c.code.in_(list(codes)))
    total = connection.execute(
        select(func.count()).select_from(job_errors).where(*conditions)
    ).scalar()
    rows = connection.execute(
        select(job_errors)
        .where(*conditions)
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
    alive = count_live_workers(connection, now, worker_silence_seconds)
    return QueueState(int(pending), oldest, alive)


@dataclass(frozen=True)
class JobCount:
    status: str
    type: str
    count: int
    oldest_created_at: datetime | None


def count_jobs(connection: Connection) -> list[JobCount]:
    """Jobs of every store by status and type, each with the creation time of its oldest job.

    One grouped scan: the metrics endpoint derives the queue's depth and age from it too.
    """
    rows = connection.execute(
        select(jobs.c.status, jobs.c.type, func.count(), func.min(jobs.c.created_at)).group_by(
            jobs.c.status, jobs.c.type
        )
    ).all()
    return [JobCount(status, type_, int(count), oldest) for status, type_, count, oldest in rows]


def count_live_workers(connection: Connection, now: datetime, silence_seconds: float) -> int:
    alive = connection.execute(
        select(func.count())
        .select_from(workers)
        .where(workers.c.last_seen_at >= now - timedelta(seconds=silence_seconds))
    ).scalar()
    return int(alive or 0)
