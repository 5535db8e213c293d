"""The Jobs API: list a store's jobs, show one, list its errors, cancel it while pending."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection

from pxm_jobs.api.deps import (
    ReadConnectionDep,
    SettingsDep,
    StoreIdDep,
    WriteConnectionDep,
)
from pxm_jobs.api.downloads import DownloadLinks, DownloadLinksDep, export_file_locations
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.job_filter import parse_job_filter
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.rendering import render_job, render_job_error
from pxm_jobs.clock import utc_now
from pxm_jobs.queue.models import Job, JobStatus, JobType
from pxm_jobs.queue.progress import read_live_progress
from pxm_jobs.queue.reads import (
    count_jobs_ahead,
    get_job,
    list_job_errors,
    list_jobs,
    read_queue_state,
)
from pxm_jobs.queue.transitions import CancelOutcome, cancel_job

router = APIRouter(tags=["jobs"])


def job_document(
    connection: Connection, job: Job, *, links: DownloadLinks | None = None
) -> dict[str, Any]:
    """A job as the API shows it, with where it stands in its line and how far it has got.

    An export's `file_locations` are minted with `links` on every read, so they are always
    fresh; without `links` (no export can be shown) they are null.
    """
    position = count_jobs_ahead(connection, job) + 1 if job.status is JobStatus.PENDING else None
    progress = read_live_progress(job.id) if job.status is JobStatus.STARTED else None
    if progress is None and job.progress_processed is not None:
        progress = (job.progress_processed, job.progress_total)
    extra_meta = None
    if job.type == JobType.PRODUCT_EXPORT:
        extra_meta = {"file_locations": export_file_locations(job, links)}
    return render_job(job, queue_position=position, progress=progress, extra_meta=extra_meta)


def _find_job(connection: Connection, store_id: str, job_id: str) -> Job:
    job = get_job(connection, store_id, require_uuid(job_id, "job"))
    if job is None:
        raise not_found("job")
    return job


@router.get("")
def list_store_jobs(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    settings: SettingsDep,
    page: PageDep,
    links: DownloadLinksDep,
    filter: str | None = None,
) -> dict[str, Any]:
    query = parse_job_filter(filter)
    found, total = list_jobs(connection, store_id, query, limit=page.limit, offset=page.offset)
    shown = [job_document(connection, job, links=links) for job in found]
    document = list_document(request, shown, total, page)
    now = utc_now()
    state = read_queue_state(connection, store_id, now, settings.job_lease_seconds * 2)
    oldest = state.oldest_pending_created_at
    document["meta"]["queue"] = {
        "pending": state.pending,
        "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
        "workers_alive": state.workers_alive,
    }
    return document


@router.get("/{job_id}")
def show_job(
    job_id: str, store_id: StoreIdDep, connection: ReadConnectionDep, links: DownloadLinksDep
) -> dict[str, Any]:
    job = _find_job(connection, store_id, job_id)
    return {"data": job_document(connection, job, links=links)}


@router.post("/{job_id}/cancel")
def cancel_store_job(
    job_id: str, store_id: StoreIdDep, connection: WriteConnectionDep, links: DownloadLinksDep
) -> dict[str, Any]:
    result = cancel_job(connection, store_id, require_uuid(job_id, "job"), utc_now())
    if result.outcome is CancelOutcome.NOT_FOUND or result.job is None:
        raise not_found("job")
    if result.outcome is CancelOutcome.TOO_LATE:
        raise ApiError(
            422,
            f"only pending jobs can be cancelled; this job is {result.job.status.value}",
            title="Failed Validation",
            meta={"status": result.job.status.value},
        )
    return {"data": job_document(connection, result.job, links=links)}


@router.get("/{job_id}/errors")
def list_errors_of_job(
    request: Request,
    job_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    job = _find_job(connection, store_id, job_id)
    errors, total = list_job_errors(connection, job, limit=page.limit, offset=page.offset)
    return list_document(request, [render_job_error(error) for error in errors], total, page)
