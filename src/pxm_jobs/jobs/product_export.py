"""The `product-export` job: write the store's matching products as CSV files to download."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import CatalogError
from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products.csv_export import export_products, find_bundles, rows_per_part
from pxm_jobs.catalog.products.export_columns import check_export_columns
from pxm_jobs.catalog.products.product_filter import parse_product_filter
from pxm_jobs.clock import utc_now
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.kind import FileLinks, JobKind, JobRequest, as_retry
from pxm_jobs.queue.lifecycle import NewJob, add_job_errors
from pxm_jobs.queue.models import FILES_META_KEY, Job, JobStatus, JobType
from pxm_jobs.queue.runner import JobContext, JobFailed

INVALID_REQUEST = "invalid_request"
BUNDLE_NOT_EXPORTED = "bundle_not_exported"
# Beyond this many, the skipped bundles are counted in one error rather than listed.
SKIPPED_BUNDLES_LISTED = 1000


def request_export(
    store_id: str,
    *,
    filter_text: str | None,
    columns: Sequence[str],
    use_template_slugs: bool,
    request_id: str | None,
) -> JobRequest:
    """The export asked for; raises InvalidFilter or InvalidExportColumns before queuing."""
    if filter_text:
        parse_product_filter(filter_text)
    checked = check_export_columns(columns)
    job_input: dict[str, Any] = {"use_template_slugs": use_template_slugs}
    if filter_text:
        job_input["filter"] = filter_text
    if checked is not None:
        job_input["columns"] = list(checked)
    new = NewJob(
        store_id=store_id,
        type=JobType.PRODUCT_EXPORT,
        input=job_input,
        meta={"filter": filter_text} if filter_text else {},
        request_id=request_id,
    )
    return JobRequest(new, job_input)


def run_product_export(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Export the products the job's filter selects; the files commit with the job's success.

    Job input: `filter` (text, or absent for every product), `columns` (a list, or absent for
    every column) and `use_template_slugs`, accepted and kept for when templates exist.
    """
    job, settings = context.job, context.settings
    filter_text = job.input.get("filter")
    try:
        filters = parse_product_filter(filter_text) if filter_text else []
        columns = check_export_columns(job.input.get("columns") or ())
    except CatalogError as error:
        # The request was checked when the job was queued; only a changed rule gets here.
        raise JobFailed([JobErrorDetail(message=error.detail, code=INVALID_REQUEST)]) from error
    _skipped_bundles(connection, job, filters)
    files = export_products(
        connection,
        store_id=job.store_id,
        filters=filters,
        columns=columns,
        rows_per_file=rows_per_part(settings),
        expires_at=utc_now() + timedelta(days=settings.export_retention_days),
        report_progress=context.report_progress,
    )
    return {FILES_META_KEY: [{"blob_id": file.blob_id, "name": file.name} for file in files]}


def _skipped_bundles(connection: Connection, job: Job, filters: list[FilterTerm]) -> int:
    """Record one job error per bundle the filter matches (EP exports no bundles); how many."""
    ids, total = find_bundles(connection, job.store_id, filters, SKIPPED_BUNDLES_LISTED)
    errors = [
        JobErrorDetail(
            message=f"product {bundle_id} is a bundle; bundles are not exported",
            code=BUNDLE_NOT_EXPORTED,
            field="id",
            value=bundle_id,
        )
        for bundle_id in ids
    ]
    if total > len(ids):
        message = f"{total - len(ids)} more bundles were not exported"
        errors.append(JobErrorDetail(message=message, code=BUNDLE_NOT_EXPORTED))
    if errors:
        add_job_errors(connection, job.seq, errors)
    return total


def retry_export(connection: Connection, job: Job) -> NewJob:
    """The same filter and columns, run against the products as they are now."""
    filter_text = job.input.get("filter")
    return as_retry(job, job.input, {"filter": filter_text} if filter_text else {})


def export_meta(job: Job, links: FileLinks | None) -> dict[str, Any]:
    """`file_locations`: fresh links to the files once the export succeeded, null before."""
    if job.status is not JobStatus.SUCCESS or links is None:
        return {"file_locations": None}
    files = job.meta.get(FILES_META_KEY) or []
    return {"file_locations": [links.url_for(file["blob_id"], file["name"]) for file in files]}


KIND = JobKind(JobType.PRODUCT_EXPORT, run_product_export, retry_export, export_meta)
