"""Deleting finished jobs with their errors and files: one on request, or all past retention.

Each deletion is one conditional DELETE whose WHERE names the finished states, so a pending or
started job is never touched, whatever races it. No line lock is taken: a finished job is in
no store's line, and claims, cancels and recoveries only ever lock pending and started rows,
so deleting finished ones never waits on them nor makes them wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, delete, select

from pxm_jobs.queue.models import TERMINAL_STATUSES, Job, produced_blob_ids
from pxm_jobs.queue.reads import get_job
from pxm_jobs.store.blobs import delete_blobs
from pxm_jobs.store.tables import blobs, jobs

# Jobs deleted per pruning transaction: their errors go with them, so keep each one short.
PRUNE_BATCH = 100

_FINISHED = sorted(TERMINAL_STATUSES)


class DeleteOutcome(Enum):
    DELETED = "deleted"  # the job, its errors and its files are gone
    NOT_FINISHED = "not_finished"  # the job is pending or started: cancel it or let it end
    NOT_FOUND = "not_found"  # no such job in this store


@dataclass(frozen=True)
class DeleteResult:
    outcome: DeleteOutcome
    job: Job | None  # the job as it is, when it was not deleted


def delete_finished_job(connection: Connection, store_id: str, job_id: str) -> DeleteResult:
    """Delete a finished job of the store, with its errors and the files only it refers to."""
    row = connection.execute(
        delete(jobs)
        .where(jobs.c.id == job_id, jobs.c.store_id == store_id, jobs.c.status.in_(_FINISHED))
        .returning(jobs.c.file_id, jobs.c.meta)
    ).first()
    if row is not None:
        _delete_files(connection, [(row.file_id, row.meta)])
        return DeleteResult(DeleteOutcome.DELETED, None)
    current = get_job(connection, store_id, job_id)
    if current is None:
        return DeleteResult(DeleteOutcome.NOT_FOUND, None)
    return DeleteResult(DeleteOutcome.NOT_FINISHED, current)


def prune_finished_jobs(connection: Connection, before: datetime, limit: int = PRUNE_BATCH) -> int:
    """Delete up to `limit` jobs that finished before `before`, oldest first; how many went.

    The partial index on finished jobs' completion time finds them without reading any other.
    """
    oldest = (
        select(jobs.c.seq)
        .where(jobs.c.completed_at.is_not(None), jobs.c.completed_at < before)
        .order_by(jobs.c.completed_at)
        .limit(limit)
    )
    rows = connection.execute(
        delete(jobs)
        .where(jobs.c.seq.in_(oldest), jobs.c.status.in_(_FINISHED))
        .returning(jobs.c.file_id, jobs.c.meta)
    ).all()
    _delete_files(connection, [(row.file_id, row.meta) for row in rows])
    return len(rows)


# What a deleted job leaves to clean up: its upload's blob id and its meta.
_Leftovers = tuple[str | None, dict[str, Any] | None]


def _delete_files(connection: Connection, deleted: Sequence[_Leftovers]) -> None:
    """Delete the blobs the deleted jobs had, except uploads a remaining job (a retry) uses."""
    candidates = set(_blob_ids(deleted))
    if not candidates:
        return
    still_used = select(jobs.c.seq).where(jobs.c.file_id == blobs.c.id).exists()
    unused = connection.execute(
        select(blobs.c.id).where(blobs.c.id.in_(sorted(candidates)), ~still_used)
    ).scalars()
    delete_blobs(connection, list(unused))


def _blob_ids(deleted: Iterable[_Leftovers]) -> Iterable[str]:
    for file_id, meta in deleted:
        if file_id is not None:
            yield file_id
        yield from produced_blob_ids(meta or {})
