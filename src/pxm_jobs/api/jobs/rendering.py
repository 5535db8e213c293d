"""Jobs and their errors as JSON:API resources."""

from __future__ import annotations

from typing import Any

from pxm_jobs.clock import format_timestamp
from pxm_jobs.queue.models import Job, JobError, JobStatus

# Job meta keys starting with this are the service's own bookkeeping, never shown on the wire.
INTERNAL_META_PREFIX = "_"

CANCELLING = "cancelling"


def render_job(
    job: Job,
    *,
    queue_position: int | None = None,
    progress: tuple[int, int | None] | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    shown = {
        key: value for key, value in job.meta.items() if not key.startswith(INTERNAL_META_PREFIX)
    }
    meta: dict[str, Any] = {"x_request_id": job.request_id, **shown, **(extra_meta or {})}
    if job.status is JobStatus.PENDING and queue_position is not None:
        meta["queue_position"] = queue_position
    if progress is not None:
        meta["progress"] = {"processed": progress[0], "total": progress[1]}
    return {
        "type": "pim-job",
        "id": job.id,
        "attributes": {
            "type": job.type,
            # Elastic Path's newer status for a started job on its way to `cancelled`.
            "status": CANCELLING if job.cancelling else job.status.value,
            "created_at": format_timestamp(job.created_at),
            "updated_at": format_timestamp(job.updated_at),
            "started_at": format_timestamp(job.started_at),
            "completed_at": format_timestamp(job.completed_at),
        },
        "meta": meta,
    }


def render_job_error(error: JobError) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": "pim-job-error",
        "id": error.id,
        "attributes": {"message": error.detail.message},
    }
    meta = {
        key: value
        for key, value in (
            ("row", error.detail.row),
            ("field", error.detail.field),
            ("value", error.detail.value),
            ("code", error.detail.code),
        )
        if value is not None
    }
    if meta:
        resource["meta"] = meta
    return resource
