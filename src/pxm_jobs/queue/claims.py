"""Claims: a worker starts the heads of the lines of stores that have no started job.

On PostgreSQL a claim, and the successes recorded before it in a worker's round, are one call
of the `pxm_jobs_round` function (migration 0004), which runs the statements below in the
database; on SQLite, in the worker's own process, they are sent one by one. Every test of
claims runs on both databases, so the two stay one rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import ReturningUpdate

from pxm_jobs.queue.lines import lock_ready_lines, refresh_line_heads
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.status_watch import STATUS_CHANNEL, signal_status_changes, status_notice
from pxm_jobs.queue.transitions import LeaseLost, finish_jobs
from pxm_jobs.store.engine import fetch_from_driver
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import jobs
from pxm_jobs.store.types import UtcDateTime

# Lines a claim may find busy after locking them before it gives up until the next try.
CLAIM_LINE_TRIES = 8
# What `pxm_jobs_round` raises when a finished job's lease was lost.
LEASE_LOST_SQLSTATE = "PXMLL"


def claim_jobs(
    connection: Connection, *, worker_id: str, now: datetime, lease_seconds: float, limit: int
) -> list[Job]:
    """Start the heads of the lines of up to `limit` stores that have no started job.

    The jobs come oldest first, each of a different store; an empty list if none is ready.
    """
    return finish_and_claim(
        connection, (), worker_id=worker_id, now=now, lease_seconds=lease_seconds, limit=limit
    )


def finish_and_claim(
    connection: Connection,
    finished: Sequence[tuple[Job, Mapping[str, Any]]],
    *,
    worker_id: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    ends_transaction: bool = False,
) -> list[Job]:
    """Mark this worker's `finished` jobs `success` (each with its meta), then `claim_jobs`.

    `now` dates the moves on SQLite, where the write lock orders them as their times do. On
    PostgreSQL the database's clock dates them as they happen (see migration 0004), and `now`
    only sets when the new leases expire.

    `ends_transaction`: the caller commits right after, sending nothing more; on PostgreSQL
    the round may then commit itself (`fetch_from_driver`).

    Raises LeaseLost, naming the first job, when any lease is gone: the caller rolls back all.
    """
    if connection.dialect.name == "postgresql":
        claimed = _round_in_database(
            connection, finished, worker_id, now, lease_seconds, limit, ends_transaction
        )
        moved = [job.id for job, _ in finished]
    else:
        finish_jobs(connection, finished, now)
        claimed = _claim_statements(connection, worker_id, now, lease_seconds, limit)
        moved = []  # finish_jobs signals its own
    signal_status_changes(connection, moved + [job.id for job in claimed])
    return sorted(claimed, key=lambda job: (job.created_at, job.seq))


def _round_in_database(
    connection: Connection,
    finished: Sequence[tuple[Job, Mapping[str, Any]]],
    worker_id: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    ends_transaction: bool,
) -> list[Job]:
    lease_expires_at = (now + timedelta(seconds=lease_seconds)).astimezone(UTC)
    parameters = (
        worker_id,
        lease_expires_at.replace(tzinfo=None),
        [job.seq for job, _ in finished],
        [job.attempts for job, _ in finished],
        [json.dumps({**job.meta, **meta}) for job, meta in finished],
        limit,
        STATUS_CHANNEL,
    )
    try:
        rows = fetch_from_driver(connection, _ROUND, parameters, ends_transaction=ends_transaction)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == LEASE_LOST_SQLSTATE:
            raise LeaseLost(finished[0][0].id) from error
        raise
    return [_job_of_driver_row(row) for row in rows]


_JOB_COLUMNS = tuple(column.name for column in jobs.c)
_TIME_COLUMNS = tuple(column.name for column in jobs.c if isinstance(column.type, UtcDateTime))
# The round runs thousands of times a second: sent by the driver, not built by SQLAlchemy. The
# columns are named, not `*`, so that their order is this table's whatever the database's is.
_ROUND = (
    f"SELECT {', '.join(_JOB_COLUMNS)} FROM pxm_jobs_round(%s, %s, "  # noqa: S608 (own names)
    "%s::bigint[], %s::integer[], %s::text[], %s, %s)"
)


def _job_of_driver_row(row: Sequence[Any]) -> Job:
    """The job of a row as the driver returns it: times without their zone, which is UTC."""
    values = dict(zip(_JOB_COLUMNS, row, strict=True))
    for name in _TIME_COLUMNS:
        if values[name] is not None:
            values[name] = values[name].replace(tzinfo=UTC)
    values["status"] = JobStatus(values["status"])
    return Job(**values)


def _claim_statements(
    connection: Connection, worker_id: str, now: datetime, lease_seconds: float, limit: int
) -> list[Job]:
    if limit <= 0:
        return []
    start_heads = statement_for(connection, _build_start_heads)
    passed_over: list[str] = []
    while len(passed_over) < CLAIM_LINE_TRIES:
        heads = lock_ready_lines(connection, limit, passed_over)
        if not heads:
            return []
        rows = connection.execute(
            start_heads,
            {
                "p_seqs": list(heads.values()),
                "p_worker_id": worker_id,
                "p_now": now,
                "p_lease_expires_at": now + timedelta(seconds=lease_seconds),
            },
        ).all()
        refresh_line_heads(connection, heads.keys())
        if rows:
            return [Job.from_row(row) for row in rows]
        passed_over.extend(heads)
    return []


def claim_next_job(
    connection: Connection, *, worker_id: str, now: datetime, lease_seconds: float
) -> Job | None:
    """Start the head of the line of some store that has no started job; None if none is ready."""
    claimed = claim_jobs(
        connection, worker_id=worker_id, now=now, lease_seconds=lease_seconds, limit=1
    )
    return claimed[0] if claimed else None


def _build_start_heads(dialect: str) -> ReturningUpdate[Any]:
    """The given heads of lines, started, unless their store already has a started job.

    The line locks were taken on the snapshot of the statement that found the lines; a claim
    that committed just before may have started a job that snapshot did not show. This
    statement reads afresh (PostgreSQL gives each statement a new snapshot), so it asks again.
    """
    running = jobs.alias("running")
    now = bindparam("p_now", type_=UtcDateTime())
    store_busy = (
        select(running.c.seq)
        .where(
            running.c.store_id == jobs.c.store_id,
            running.c.status == JobStatus.STARTED.constant,
        )
        .exists()
    )
    return (
        update(jobs)
        .where(
            jobs.c.seq.in_(bindparam("p_seqs", expanding=True)),
            jobs.c.status == JobStatus.PENDING.constant,
            ~store_busy,
        )
        .values(
            status=JobStatus.STARTED,
            started_at=now,
            updated_at=now,
            worker_id=bindparam("p_worker_id"),
            lease_expires_at=bindparam("p_lease_expires_at", type_=UtcDateTime()),
            attempts=jobs.c.attempts + 1,
        )
        .returning(*jobs.c, *status_notice(dialect))
    )
