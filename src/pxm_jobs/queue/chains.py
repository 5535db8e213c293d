"""Chained runs (PostgreSQL): a store's next quick jobs, run in the round that ended its last.

A worker's round runs jobs it claimed, each `started` under its lease. When they prove quick,
the round takes the next pending job of each of their stores, in the same transaction, and runs
it there: the job's row is locked but left `pending`, and once it has run it goes straight to
`success`. Until the round commits, every other transaction sees the store still busy with its
claimed job, so the one-at-a-time rule holds as before; a cancel of a taken job waits on its row
lock and then finds it no longer pending. A job run this way costs the database one row update
instead of two, and its store's line is re-pointed once per round, not once per job. See
migration 0005 for the statements.

On SQLite the same steps are statements sent one by one, under the write lock the round holds
from its start, which keeps every other writer out as the row locks do on PostgreSQL. Every test
of chained runs runs on both databases, so the two stay one rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Update,
    bindparam,
    update,
)
from sqlalchemy.exc import DBAPIError

from pxm_jobs.queue.lines import line_head
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.progress import Progress
from pxm_jobs.queue.status_watch import STATUS_CHANNEL, signal_status_changes
from pxm_jobs.queue.transitions import LeaseLost, finish_jobs
from pxm_jobs.store.engine import fetch_from_driver
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import jobs
from pxm_jobs.store.types import UtcDateTime

# What the round functions raise when a finished job's lease was lost.
LEASE_LOST_SQLSTATE = "PXMLL"


@dataclass(frozen=True)
class ChainedRun:
    """A job a round took and ran chained, with the meta and progress to finish it with."""

    job: Job
    meta: Mapping[str, Any]
    progress: Progress | None


def success_parameters(
    finished: Sequence[tuple[Job, Mapping[str, Any]]], chained: Sequence[ChainedRun]
) -> tuple[Any, ...]:
    """The arguments that record a round's successes, as `pxm_jobs_record_successes` takes them."""
    return (
        [job.seq for job, _ in finished],
        [job.attempts for job, _ in finished],
        [json.dumps({**job.meta, **meta}) for job, meta in finished],
        [run.job.seq for run in chained],
        [_naive_utc(run.job) for run in chained],
        [json.dumps({**run.job.meta, **run.meta}) for run in chained],
        [run.progress[0] if run.progress else None for run in chained],
        [run.progress[1] if run.progress else None for run in chained],
    )


def take_next_jobs(
    connection: Connection,
    finished: Sequence[tuple[Job, Mapping[str, Any]]],
    chained: Sequence[ChainedRun],
    *,
    worker_id: str,
    now: datetime,
) -> list[Job]:
    """Record a step's successes, then take the next pending job of each of their stores.

    The jobs come as they are to be run (started now, by this worker), but stay `pending`
    until `finish_and_claim` or the next step records them. `now` dates the moves on SQLite;
    PostgreSQL reads its own clock. Raises LeaseLost as `finish_and_claim` does.
    """
    stores = [job.store_id for job, _ in finished] + [run.job.store_id for run in chained]
    if connection.dialect.name != "postgresql":
        finish_jobs(connection, finished, now)
        record_chained_successes(connection, chained, worker_id, now)
        return _take_heads(connection, stores, worker_id, now)
    parameters = (worker_id, *success_parameters(finished, chained), stores, STATUS_CHANNEL)
    rows = fetch_rounds_rows(connection, _CHAIN_STEP, parameters, finished)
    signal_status_changes(connection, [job.id for job, _ in finished] + chained_ids(chained))
    return [job_of_driver_row(row) for row in rows]


def record_chained_successes(
    connection: Connection, chained: Sequence[ChainedRun], worker_id: str, now: datetime
) -> None:
    """SQLite: jobs run chained go from `pending` to `success`, as taken and as run."""
    if not chained:
        return
    moved = connection.execute(
        statement_for(connection, _build_chained_success),
        [
            {
                "p_seq": run.job.seq,
                "p_started_at": run.job.started_at,
                "p_now": now,
                "p_worker_id": worker_id,
                "p_meta": {**run.job.meta, **run.meta},
                "p_processed": run.progress[0] if run.progress else None,
                "p_total": run.progress[1] if run.progress else None,
            }
            for run in chained
        ],
    ).rowcount
    if moved != len(chained):
        # The round has held the write lock since it took them: nothing else can have moved them.
        raise RuntimeError("a job run chained was moved by someone else")
    signal_status_changes(connection, chained_ids(chained))


def _take_heads(
    connection: Connection, stores: Sequence[str], worker_id: str, now: datetime
) -> list[Job]:
    heads = []
    for store_id in stores:
        row = connection.execute(
            statement_for(connection, _build_line_head), {"p_store_id": store_id}
        ).first()
        if row is not None:
            head = Job.from_row(row)
            heads.append(
                replace(
                    head,
                    status=JobStatus.STARTED,
                    started_at=now,
                    updated_at=now,
                    worker_id=worker_id,
                    attempts=head.attempts + 1,
                )
            )
    return heads


def _build_line_head(dialect: str) -> Select[Any]:
    return line_head(bindparam("p_store_id"))


def _build_chained_success(dialect: str) -> Update:
    now = bindparam("p_now", type_=UtcDateTime())
    return (
        update(jobs)
        .where(jobs.c.seq == bindparam("p_seq"), jobs.c.status == JobStatus.PENDING.constant)
        .values(
            status=JobStatus.SUCCESS,
            started_at=bindparam("p_started_at", type_=UtcDateTime()),
            completed_at=now,
            updated_at=now,
            worker_id=bindparam("p_worker_id"),
            attempts=jobs.c.attempts + 1,
            meta=bindparam("p_meta", type_=jobs.c.meta.type),
            progress_processed=bindparam("p_processed", type_=Integer),
            progress_total=bindparam("p_total", type_=Integer),
        )
    )


def chained_ids(chained: Sequence[ChainedRun]) -> list[str]:
    return [run.job.id for run in chained]


def fetch_rounds_rows(
    connection: Connection,
    statement: str,
    parameters: Sequence[Any],
    finished: Sequence[tuple[Job, Mapping[str, Any]]],
    *,
    ends_transaction: bool = False,
) -> list[tuple[Any, ...]]:
    """The rows of a round function's call; a lost lease of `finished` raises LeaseLost."""
    try:
        return fetch_from_driver(
            connection, statement, parameters, ends_transaction=ends_transaction
        )
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == LEASE_LOST_SQLSTATE:
            raise LeaseLost(finished[0][0].id) from error
        raise


JOB_COLUMNS = tuple(column.name for column in jobs.c)
_TIME_COLUMNS = tuple(column.name for column in jobs.c if isinstance(column.type, UtcDateTime))
# The columns are named, not `*`, so that their order is this table's whatever the database's.
_CHAIN_STEP = (
    f"SELECT {', '.join(JOB_COLUMNS)} FROM pxm_jobs_chain_step(%s, "  # noqa: S608 (own names)
    "%s::bigint[], %s::integer[], %s::text[], %s::bigint[], %s::timestamp[], %s::text[], "
    "%s::integer[], %s::integer[], %s::text[], %s)"
)


def job_of_driver_row(row: Sequence[Any]) -> Job:
    """The job of a row as the driver returns it: times without their zone, which is UTC."""
    values = dict(zip(JOB_COLUMNS, row, strict=True))
    for name in _TIME_COLUMNS:
        if values[name] is not None:
            values[name] = values[name].replace(tzinfo=UTC)
    values["status"] = JobStatus(values["status"])
    return Job(**values)


def _naive_utc(job: Job) -> Any:
    assert job.started_at is not None, "a chained job is dated when taken"
    return job.started_at.astimezone(UTC).replace(tzinfo=None)
