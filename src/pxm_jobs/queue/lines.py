"""Each store's line of pending jobs, as seen through its `job_lines` row.

The row is both an index (where the store's line starts, so a claim finds a ready store without
walking any backlog) and the store's lock: every statement that adds to, takes from or removes
from a store's line first locks that row, always before any job row, so claims, cancels and
recoveries of one store queue up instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Update,
    bindparam,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pxm_jobs.queue.models import JobStatus
from pxm_jobs.store.tables import job_lines, jobs


def lock_line(connection: Connection, store_id: str, *, create: bool = False) -> bool:
    """Lock the store's line row for this transaction; False if the store never queued a job."""
    if create:
        dialect_insert = (
            postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        )
        connection.execute(
            dialect_insert(job_lines).values(store_id=store_id).on_conflict_do_nothing()
        )
    locked = connection.execute(
        select(job_lines.c.store_id).where(job_lines.c.store_id == store_id).with_for_update()
    ).first()
    return locked is not None


def line_head(store_id: ColumnElement[str]) -> Select[Any]:
    """The head of a store's line: its earliest pending job (whole row; narrow it as needed)."""
    return (
        select(jobs)
        .where(jobs.c.store_id == store_id, jobs.c.status == JobStatus.PENDING.constant)
        .order_by(jobs.c.created_at, jobs.c.seq)
        .limit(literal_column("1", Integer))
    )


def _build_refresh_line_heads() -> Update:
    head = line_head(job_lines.c.store_id)
    return (
        update(job_lines)
        .where(job_lines.c.store_id.in_(bindparam("p_store_ids", expanding=True)))
        .values(
            head_created_at=head.with_only_columns(jobs.c.created_at).scalar_subquery(),
            head_seq=head.with_only_columns(jobs.c.seq).scalar_subquery(),
        )
    )


# Built once: the claim path runs these for every job, and building a statement costs more
# client time than the database spends running it.
_REFRESH_LINE_HEADS = _build_refresh_line_heads()


def refresh_line_heads(connection: Connection, store_ids: Collection[str]) -> None:
    """Point each line at its store's earliest pending job, or at nothing when none is pending.

    Run it in a statement after the one that locked the lines: on PostgreSQL a statement sees
    what committed before it began, so only then are jobs queued just before the lock in view.
    """
    if store_ids:
        connection.execute(_REFRESH_LINE_HEADS, {"p_store_ids": list(store_ids)})


def line_heads(connection: Connection, store_ids: Collection[str]) -> dict[str, int | None]:
    """Where each store's line starts: the seq of its head, or None when nothing is pending."""
    rows = connection.execute(
        select(job_lines.c.store_id, job_lines.c.head_seq).where(
            job_lines.c.store_id.in_(list(store_ids))
        )
    )
    return {store_id: head_seq for store_id, head_seq in rows}


def refresh_line_head(connection: Connection, store_id: str) -> None:
    refresh_line_heads(connection, (store_id,))


def _build_ready_lines(passed_over: Collection[str]) -> Select[Any]:
    busy = (
        select(jobs.c.seq)
        .where(jobs.c.store_id == job_lines.c.store_id, jobs.c.status == JobStatus.STARTED.constant)
        .exists()
    )
    conditions = [job_lines.c.head_seq.is_not(None), ~busy]
    if passed_over:
        conditions.append(job_lines.c.store_id.not_in(list(passed_over)))
    return (
        select(job_lines.c.store_id, job_lines.c.head_seq)
        .where(*conditions)
        .order_by(job_lines.c.head_created_at, job_lines.c.head_seq)
        .limit(bindparam("p_limit", type_=Integer, literal_execute=True))
        .with_for_update(skip_locked=True, of=job_lines)
    )


_READY_LINES = _build_ready_lines(())


def lock_ready_lines(
    connection: Connection, limit: int, passed_over: Collection[str] = ()
) -> dict[str, int]:
    """Lock up to `limit` lines whose heads are oldest among stores with no started job.

    Returns the seq of each line's head by store id, oldest head first. Lines locked by another
    claimer are skipped whole, so a busy store is passed over but a store's head is never
    skipped in favour of a later job of the same store. `passed_over` are stores this claim
    already found it could not start.

    The heads are those of the lines as they are now: locking reads a line as last committed,
    whatever the snapshot of the statement, and every move of a store's jobs re-points its line
    under the same lock.
    """
    statement = _build_ready_lines(passed_over) if passed_over else _READY_LINES
    rows = connection.execute(statement, {"p_limit": limit})
    return {store_id: head_seq for store_id, head_seq in rows}
