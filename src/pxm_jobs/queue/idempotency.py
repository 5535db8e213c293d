"""Idempotency keys: a request retried with the same key gets the job the first one created.

A key belongs to one store and lives for IDEMPOTENCY_WINDOW after the job it created. Keys are
checked under the store's line lock, which every enqueue of the store takes first, so two
requests racing with one key queue up and the second finds the first's job; a unique index on
(store, key) makes a second live job with the key impossible anyway. A key reused after its
window is released from the old job (set to NULL) so that the index lets the new job have it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from pxm_jobs.queue.models import Job
from pxm_jobs.store.tables import jobs

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class RequestReplayed(Exception):
    """This request was already made with the same Idempotency-Key; `job` is what it created."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used, within its window, for a different request."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


def fingerprint_request(kind: str, request: Mapping[str, Any]) -> str:
    """A digest of what a request asks for, to tell a true retry from a different request."""
    canonical = json.dumps({"kind": kind, "request": request}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_idempotency_key(
    connection: Connection, store_id: str, key: str, fingerprint: str | None, now: datetime
) -> None:
    """Make `key` free for a new job of the store, or raise what its live use means.

    Raises RequestReplayed when the key's job was created by the same request, and
    IdempotencyKeyReused when by a different one. Call with the store's line locked.
    """
    row = connection.execute(
        select(jobs).where(jobs.c.store_id == store_id, jobs.c.idempotency_key == key)
    ).first()
    if row is None:
        return
    earlier = Job.from_row(row)
    if earlier.created_at <= now - IDEMPOTENCY_WINDOW:
        connection.execute(
            update(jobs).where(jobs.c.seq == earlier.seq).values(idempotency_key=None)
        )
        return
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(earlier)
    raise RequestReplayed(earlier)
