"""The Jobs API: list, show (optionally waiting for a change), cancel, retry and delete jobs,
and list a job's errors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import (
    EngineDep,
    ReadConnectionDep,
    SettingsDep,
    StoreIdDep,
    WriteConnectionDep,
)
from pxm_jobs.api.downloads import DownloadLinks, DownloadLinksDep
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.jobs.filter import (
    ErrorFilterQuery,
    JobFilterQuery,
    JobSortQuery,
    parse_error_filter,
    parse_job_filter,
)
from pxm_jobs.api.jobs.queueing import IdempotencyKeyDep, queue_job, retry_of
from pxm_jobs.api.jobs.rendering import render_job, render_job_error
from pxm_jobs.api.jobs.schemas import JobDocument, JobErrorListDocument, JobListDocument
from pxm_jobs.api.jobs.wait import StatusWatchDep, WaitQuery, read_wait, wait_for_status_change
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.request_id import request_id_of
from pxm_jobs.clock import utc_now
from pxm_jobs.jobs import JOB_KINDS
from pxm_jobs.jobs.kind import JobRequest
from pxm_jobs.queue.lifecycle import CancelOutcome, cancel_job, request_cancel
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.progress import read_live_progress
from pxm_jobs.queue.reads import (
    count_jobs_ahead,
    get_job,
    list_job_errors,
    list_jobs,
    read_queue_state,
)
from pxm_jobs.queue.retention import DeleteOutcome, delete_finished_job
from pxm_jobs.store.engine import read_transaction

router = APIRouter(tags=["jobs"])


def job_document(
    connection: Connection, job: Job, *, links: DownloadLinks | None = None
) -> dict[str, Any]:
    """A job as the API shows it, with where it stands in its line and how far it has got.

    File links (an export's `file_locations`, a failed import's `error_file_location`) are
    minted with `links` on every read, so they are always fresh; without `links` they are null.
    """
    position = count_jobs_ahead(connection, job) + 1 if job.status is JobStatus.PENDING else None
    progress = read_live_progress(job.id) if job.status is JobStatus.STARTED else None
    if progress is None and job.progress_processed is not None:
        progress = (job.progress_processed, job.progress_total)
    kind = JOB_KINDS.get(job.type)
    extra_meta = kind.wire_meta(job, links) if kind is not None else None
    return render_job(job, queue_position=position, progress=progress, extra_meta=extra_meta)


def _find_job(connection: Connection, store_id: str, job_id: str) -> Job:
    job = get_job(connection, store_id, require_uuid(job_id, "job"))
    if job is None:
        raise not_found("job")
    return job


@router.get("", response_model=JobListDocument, responses=error_responses(400))
def list_store_jobs(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    settings: SettingsDep,
    page: PageDep,
    links: DownloadLinksDep,
    filter: JobFilterQuery = None,
    sort: JobSortQuery = None,
) -> dict[str, Any]:
    query = parse_job_filter(filter, sort)
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


@router.get("/{job_id}", response_model=JobDocument, responses=error_responses(400, 404))
async def show_job(
    job_id: str,
    store_id: StoreIdDep,
    engine: EngineDep,
    links: DownloadLinksDep,
    watch: StatusWatchDep,
    wait: WaitQuery = None,
) -> dict[str, Any]:
    """The job; with `wait`, as soon as its status changes (or when the wait is up)."""
    seconds = read_wait(wait)
    checked_id = require_uuid(job_id, "job")

    async def read() -> tuple[JobStatus, dict[str, Any]]:
        return await run_in_threadpool(_read_job_document, engine, store_id, checked_id, links)

    if not seconds:
        _, document = await read()
        return {"data": document}
    async with watch.watching(checked_id) as change:
        return {"data": await wait_for_status_change(read, change, seconds)}


def _read_job_document(
    engine: Engine, store_id: str, job_id: str, links: DownloadLinks
) -> tuple[JobStatus, dict[str, Any]]:
    with read_transaction(engine) as connection:
        job = _find_job(connection, store_id, job_id)
        return job.status, job_document(connection, job, links=links)


@router.post("/{job_id}/cancel", response_model=JobDocument, responses=error_responses(404, 422))
def cancel_store_job(
    job_id: str,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    links: DownloadLinksDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Cancel a pending job; with PXM_CANCEL_STARTED_JOBS, ask a started one to stop."""
    result = cancel_job(connection, store_id, require_uuid(job_id, "job"), utc_now())
    if result.outcome is CancelOutcome.NOT_FOUND or result.job is None:
        raise not_found("job")
    if result.outcome is CancelOutcome.TOO_LATE and settings.cancel_started_jobs:
        stopping = request_cancel(connection, result.job, utc_now())
        if stopping is not None:
            return {"data": job_document(connection, stopping, links=links)}
        result = cancel_job(connection, store_id, result.job.id, utc_now())  # it just ended
    job = result.job
    if job is None:
        raise not_found("job")
    if result.outcome is CancelOutcome.TOO_LATE:
        asked = "pending or started" if settings.cancel_started_jobs else "pending"
        raise ApiError(
            422,
            f"only {asked} jobs can be cancelled; this job is {job.status.value}",
            title="Failed Validation",
            meta={"status": job.status.value},
        )
    return {"data": job_document(connection, job, links=links)}


@router.post(
    "/{job_id}/retry",
    status_code=201,
    response_model=JobDocument,
    responses=error_responses(400, 404, 422),
)
def retry_store_job(
    request: Request,
    response: Response,
    job_id: str,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    links: DownloadLinksDep,
    idempotency_key: IdempotencyKeyDep,
) -> dict[str, Any]:
    """Queue a new job from a failed or cancelled one's input, with `meta.retried_from`."""
    job = _find_job(connection, store_id, job_id)
    new = JobRequest(retry_of(connection, job, request_id_of(request)), {"retry": job.id})
    retried = queue_job(connection, new.keyed(idempotency_key), response, utc_now())
    return {"data": job_document(connection, retried, links=links)}


@router.delete(
    "/{job_id}", status_code=204, response_class=Response, responses=error_responses(404, 422)
)
def delete_store_job(job_id: str, store_id: StoreIdDep, connection: WriteConnectionDep) -> Response:
    """Delete a finished job with its errors and files."""
    result = delete_finished_job(connection, store_id, require_uuid(job_id, "job"))
    if result.outcome is DeleteOutcome.NOT_FOUND:
        raise not_found("job")
    if result.job is not None:
        status = result.job.status
        advice = "cancel it first" if status is JobStatus.PENDING else "wait until it ends"
        raise ApiError(
            422,
            f"only finished jobs can be deleted; this job is {status.value}: {advice}",
            title="Failed Validation",
            meta={"status": status.value},
        )
    return Response(status_code=204)


@router.get(
    "/{job_id}/errors", response_model=JobErrorListDocument, responses=error_responses(400, 404)
)
def list_errors_of_job(
    request: Request,
    job_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: ErrorFilterQuery = None,
) -> dict[str, Any]:
    codes = parse_error_filter(filter)
    job = _find_job(connection, store_id, job_id)
    errors, total = list_job_errors(
        connection, job, limit=page.limit, offset=page.offset, codes=codes
    )
    return list_document(request, [render_job_error(error) for error in errors], total, page)
