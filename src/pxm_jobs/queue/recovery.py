"""Taking back jobs whose worker stopped renewing their lease: crashed, killed or cut off."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.lines import lock_line, refresh_line_head
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.status_watch import signal_status_change
from pxm_jobs.queue.transitions import add_job_errors, holds_lease
from pxm_jobs.store.tables import jobs


def find_expired_jobs(connection: Connection, now: datetime, limit: int = 100) -> list[Job]:
    rows = connection.execute(
        select(jobs)
        .where(jobs.c.status == JobStatus.STARTED.constant, jobs.c.lease_expires_at < now)
        .order_by(jobs.c.lease_expires_at)
        .limit(limit)
    ).all()
    return [Job.from_row(row) for row in rows]


def recover_expired_job(
    connection: Connection, job: Job, now: datetime, max_attempts: int
) -> JobStatus | None:
    """Take back a job whose worker stopped renewing its lease.

    Below `max_attempts` it returns to `pending` at the head of its store's line (its creation
    time is unchanged); at the limit it fails. None if the job moved on in the meantime.
    """
    lock_line(connection, job.store_id)
    if not _row_free(connection, job):
        # Its worker's round is moving it right now (a worker paused mid-round holds it until
        # it goes on or dies): waiting here would hold up this worker's own lease renewals.
        return None
    still_expired = holds_lease(job) & (jobs.c.lease_expires_at < now)
    if job.attempts >= max_attempts:
        error = JobErrorDetail(
            message=(
                f"the worker running this job stopped responding {job.attempts} times "
                "(crashed, killed or lost its database connection); the job was not retried "
                "again because it may be what kills the worker"
            ),
            code="worker_lost",
        )
        failed = connection.execute(
            update(jobs)
            .where(still_expired)
            .values(
                status=JobStatus.FAILED, completed_at=now, updated_at=now, lease_expires_at=None
            )
        )
        if failed.rowcount != 1:
            return None
        add_job_errors(connection, job.seq, [error])
        signal_status_change(connection, job.id)
        return JobStatus.FAILED
    requeued = connection.execute(
        update(jobs)
        .where(still_expired)
        .values(
            status=JobStatus.PENDING,
            started_at=None,
            updated_at=now,
            worker_id=None,
            lease_expires_at=None,
            progress_processed=None,
            progress_total=None,
        )
    )
    if requeued.rowcount != 1:
        return None
    refresh_line_head(connection, job.store_id)
    signal_status_change(connection, job.id)
    return JobStatus.PENDING


def _row_free(connection: Connection, job: Job) -> bool:
    """Lock the job's row unless another transaction holds it (PostgreSQL; SQLite has no
    row locks, and the write lock this transaction holds already keeps everyone else out)."""
    locked = connection.execute(
        select(jobs.c.seq).where(jobs.c.seq == job.seq).with_for_update(skip_locked=True)
    ).first()
    return locked is not None
