"""Queueing jobs safely: Idempotency-Key on every job-creating request, and retries of jobs.

A request with an `Idempotency-Key` header that was already made (same store, same key, within
24 hours) gets the job the first one created, with `Idempotent-Replayed: true`; the same key
with a different request is a 422. What makes two requests "the same" is a fingerprint of what
they ask for (for an import, the file's SHA-256), never of incidental headers.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Response
from sqlalchemy import Connection

from pxm_jobs.api.errors import ApiError
from pxm_jobs.catalog.hierarchies.duplicate import CopyRequest
from pxm_jobs.catalog.hierarchies.queries import get_hierarchy
from pxm_jobs.clock import format_timestamp
from pxm_jobs.queue.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyReused,
    RequestReplayed,
    fingerprint_request,
)
from pxm_jobs.queue.models import Job, JobStatus, JobType
from pxm_jobs.queue.transitions import NewJob, enqueue_job
from pxm_jobs.store.blobs import get_blob

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


def keyed(new: NewJob, key: str | None, request: dict[str, Any]) -> NewJob:
    """`new` carrying the caller's idempotency key and the fingerprint of its request."""
    if key is None:
        return new
    return replace(new, idempotency_key=key, fingerprint=fingerprint_request(new.type, request))


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
    if job.status not in RETRYABLE:
        raise ApiError(
            422,
            f"only failed or cancelled jobs can be retried; this job is {job.status.value}",
            title="Failed Validation",
            meta={"status": job.status.value},
        )
    meta: dict[str, Any] = {}
    job_input = dict(job.input)
    if job.type == JobType.PRODUCT_IMPORT:
        blob = get_blob(connection, job.file_id) if job.file_id is not None else None
        if blob is None:
            raise ApiError(
                422,
                "the uploaded file of this import is no longer stored; upload it again",
                title="Failed Validation",
            )
        if job_input.get("dry_run"):
            meta["dry_run"] = True
    elif job.type == JobType.PRODUCT_EXPORT:
        if job_input.get("filter"):
            meta["filter"] = job_input["filter"]
    elif job.type == JobType.HIERARCHY_DUPLICATE:
        copy = CopyRequest.from_job_input(job_input)
        if get_hierarchy(connection, job.store_id, copy.source_id) is None:
            raise ApiError(
                422,
                f"hierarchy {copy.source_id}, the source of this copy, no longer exists",
                title="Failed Validation",
            )
        # The failed or cancelled copy never made its hierarchy; the retry promises a new one.
        copy = CopyRequest(copy.source_id, str(uuid.uuid4()), copy.changes, copy.include_products)
        job_input = copy.to_job_input()
        meta.update(copied_from=copy.source_id, hierarchy_id=copy.new_id)
    meta["retried_from"] = job.id
    return NewJob(
        store_id=job.store_id,
        type=job.type,
        input=job_input,
        meta=meta,
        request_id=request_id,
        file_id=job.file_id,
    )
