"""Queueing jobs safely: Idempotency-Key on every job-creating request, and retries of jobs.

A request with an `Idempotency-Key` header that was already made (same store, same key, within
24 hours) gets the job the first one created, with `Idempotent-Replayed: true`; the same key
with a different request is a 422. What makes two requests "the same" is a fingerprint of what
they ask for (for an import, the file's SHA-256), never of incidental headers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Response
from sqlalchemy import Connection

from pxm_jobs.api.errors import ApiError
from pxm_jobs.clock import format_timestamp
from pxm_jobs.jobs import JOB_KINDS
from pxm_jobs.jobs.kind import JobRequestRejected
from pxm_jobs.queue.idempotency import MAX_KEY_LENGTH, IdempotencyKeyReused, RequestReplayed
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.models import Job, JobStatus

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})


def read_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="A key of your choosing (a UUID per request): a retried request with "
            "the same key, within 24 h, returns the job the first one created.",
        ),
    ] = None,
) -> str | None:
    if idempotency_key is None:
        return None
    key = idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            f"the {IDEMPOTENCY_HEADER} header must be 1 to {MAX_KEY_LENGTH} printable "
            "characters; send a fresh UUID with each new request",
            meta={"header": IDEMPOTENCY_HEADER},
        )
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(read_idempotency_key)]


def queue_job(connection: Connection, new: NewJob, response: Response, now: datetime) -> Job:
    """Queue `new`, or answer with the job its idempotency key already created."""
    try:
        return enqueue_job(connection, new, now)
    except RequestReplayed as replayed:
        response.headers[REPLAYED_HEADER] = "true"
        return replayed.job
    except IdempotencyKeyReused as reused:
        raise key_reused(reused) from None


def key_reused(reused: IdempotencyKeyReused) -> ApiError:
    return ApiError(
        422,
        f"this {IDEMPOTENCY_HEADER} was already used at "
        f"{format_timestamp(reused.job.created_at)} for a different request (job "
        f"{reused.job.id}); send a new key with each new request",
        title="Failed Validation",
        meta={"header": IDEMPOTENCY_HEADER, "job_id": reused.job.id},
    )


def retry_of(connection: Connection, job: Job, request_id: str | None) -> NewJob:
    """A new job doing what `job` was asked to do, from its stored input; a 422 if it cannot."""
    kind = JOB_KINDS.get(job.type)
    if job.status not in RETRYABLE or kind is None:
        raise ApiError(
            422,
            f"only failed or cancelled jobs can be retried; this job is {job.status.value}",
            title="Failed Validation",
            meta={"status": job.status.value},
        )
    try:
        new = kind.retry(connection, job)
    except JobRequestRejected as rejected:
        raise ApiError(422, rejected.detail, title="Failed Validation") from None
    return replace(new, request_id=request_id, meta={**new.meta, "retried_from": job.id})
