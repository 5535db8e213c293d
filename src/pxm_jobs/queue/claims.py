"""Claims: a worker starts the heads of the lines of stores that have no started job.

On PostgreSQL a claim, and the successes recorded before it in a worker's round, are one call
of the `pxm_jobs_round` function (migrations 0004 and 0005), which runs the statements below in
the database; on SQLite, in the worker's own process, they are sent one by one. Every test of
claims runs on both databases, so the two stay one rule.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.sql.dml import ReturningUpdate

from pxm_jobs.queue.chains import (
    JOB_COLUMNS,
    ChainedRun,
    chained_ids,
    fetch_rounds_rows,
    job_of_driver_row,
    record_chained_successes,
    success_parameters,
)
from pxm_jobs.queue.lines import line_heads, lock_ready_lines, refresh_line_heads
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.status_watch import STATUS_CHANNEL, signal_status_changes, status_notice
from pxm_jobs.queue.transitions import finish_jobs
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import jobs
from pxm_jobs.store.types import UtcDateTime

# Lines a claim may find busy after locking them before it gives up until the next try.
CLAIM_LINE_TRIES = 8


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
    chained: Sequence[ChainedRun] = (),
    relined: Collection[str] = (),
    ends_transaction: bool = False,
) -> list[Job]:
    """Mark this worker's `finished` jobs `success` (each with its meta), then `claim_jobs`.

    `chained`: jobs the round ran chained and has not recorded yet (see `chains`), recorded as
    successes too. `relined`: the stores of every job the round ran
    chained, whose lines are re-pointed before the claim.

    `now` dates the moves on SQLite, where the write lock orders them as their times do. On
    PostgreSQL the database's clock dates them as they happen (see migration 0004), and `now`
    only sets when the new leases expire.

    `ends_transaction`: the caller commits right after, sending nothing more; on PostgreSQL
    the round may then commit itself (`fetch_from_driver`).

    Raises LeaseLost, naming the first job, when any lease is gone: the caller rolls back all.
    """
    if connection.dialect.name == "postgresql":
        claimed = _round_in_database(
            connection,
            finished,
            chained,
            sorted(relined),
            worker_id,
            now,
            lease_seconds,
            limit,
            ends_transaction,
        )
        moved = [job.id for job, _ in finished] + chained_ids(chained)
    else:
        finish_jobs(connection, finished, now)
        record_chained_successes(connection, chained, worker_id, now)
        refresh_line_heads(connection, sorted(relined))
        claimed = _claim_statements(connection, worker_id, now, lease_seconds, limit)
        moved = []  # finish_jobs signals its own
    signal_status_changes(connection, moved + [job.id for job in claimed])
    return sorted(claimed, key=lambda job: (job.created_at, job.seq))


def _round_in_database(
    connection: Connection,
    finished: Sequence[tuple[Job, Mapping[str, Any]]],
    chained: Sequence[ChainedRun],
    relined: list[str],
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
        *success_parameters(finished, chained),
        relined,
        limit,
        STATUS_CHANNEL,
    )
    rows = fetch_rounds_rows(
        connection, _ROUND, parameters, finished, ends_transaction=ends_transaction
    )
    return [job_of_driver_row(row) for row in rows]


# The round runs thousands of times a second: sent by the driver, not built by SQLAlchemy. The
# columns are named, not `*`, so that their order is this table's whatever the database's is.
_ROUND = (
    f"SELECT {', '.join(JOB_COLUMNS)} FROM pxm_jobs_round(%s, %s, "  # noqa: S608 (own names)
    "%s::bigint[], %s::integer[], %s::text[], %s::bigint[], %s::timestamp[], %s::text[], "
    "%s::integer[], %s::integer[], %s::text[], %s, %s)"
)


def _claim_statements(
    connection: Connection, worker_id: str, now: datetime, lease_seconds: float, limit: int
) -> list[Job]:
    if limit <= 0:
        return []
    start_heads = statement_for(connection, _build_start_heads)
    passed_over: list[str] = []
    for _ in range(CLAIM_LINE_TRIES):
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
        # A store is tried again only if its line pointed at a job no longer pending (one a
        # round ran chained while the line was held, see `chains`) and now points further on.
        refreshed = line_heads(connection, heads.keys())
        passed_over.extend(
            store_id for store_id, head in heads.items() if refreshed[store_id] in (None, head)
        )
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
