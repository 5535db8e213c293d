"""The `product-export` job: write the store's matching products as CSV files to download."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import CatalogError
from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products.csv_export import (
    ExportedFile,
    SpooledPart,
    count_matches,
    find_bundles,
    rows_per_part,
    spool_parts,
    store_part,
)
from pxm_jobs.catalog.products.export_columns import check_export_columns
from pxm_jobs.catalog.products.product_filter import parse_product_filter
from pxm_jobs.clock import utc_now
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.kind import FileLinks, JobKind, JobRequest, as_retry
from pxm_jobs.queue.lifecycle import NewJob, add_job_errors
from pxm_jobs.queue.models import FILES_META_KEY, Job, JobStatus, JobType
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.store.blobs import keep_blobs_until

INVALID_REQUEST = "invalid_request"
BUNDLE_NOT_EXPORTED = "bundle_not_exported"
EXPORT_FILES_LOST = "export_files_lost"
# Parts stored before the export's end are purged this long after, unless it succeeded.
UNCLAIMED_PARTS_KEPT = timedelta(days=1)
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
    reading = context.read_separately() if context.read_separately else nullcontext(connection)
    with ExitStack() as spooled:
        with reading as reader:
            matched = count_matches(reader, job.store_id, filters)
            bundles = _skipped_bundles(reader, job, filters, matched.bundles)
            parts = spooled.enter_context(
                spool_parts(
                    reader,
                    store_id=job.store_id,
                    filters=filters,
                    matched=matched.exported,
                    columns=columns,
                    rows_per_file=rows_per_part(settings),
                    bytes_per_file=settings.bytes_per_export_file(),
                    escape_formulas=settings.csv_escape_formulas,
                    report_progress=context.report_progress,
                )
            )
        # The reading transaction has ended: it holds nothing while the parts are stored.
        expires_at = utc_now() + timedelta(days=settings.export_retention_days)
        files = _store_parts(context, connection, parts, expires_at)
    # Written last, with the files: on SQLite a job's first write takes the write lock.
    add_job_errors(connection, job.seq, bundles)
    return {FILES_META_KEY: [{"blob_id": file.blob_id, "name": file.name} for file in files]}


def _store_parts(
    context: JobContext, connection: Connection, parts: list[SpooledPart], expires_at: datetime
) -> list[ExportedFile]:
    """Store the parts, each in a transaction of its own where the job has one to offer.

    Parts stored that way are kept only briefly, unless the job's own transaction (which makes
    it a success) gives them the export's retention: an export that fails after storing some
    leaves nothing lasting behind, and no link to it was ever given.
    """
    store_id = context.job.store_id
    if context.write_separately is None:
        return [
            store_part(connection, part, number, store_id=store_id, expires_at=expires_at)
            for number, part in enumerate(parts, start=1)
        ]
    unclaimed_until = utc_now() + UNCLAIMED_PARTS_KEPT
    files = []
    for number, part in enumerate(parts, start=1):
        with context.write_separately() as writer:
            files.append(
                store_part(writer, part, number, store_id=store_id, expires_at=unclaimed_until)
            )
    kept = keep_blobs_until(connection, [file.blob_id for file in files], expires_at)
    if kept != len(files):
        message = "the export's files were removed before it could finish; run it again"
        raise JobFailed([JobErrorDetail(message=message, code=EXPORT_FILES_LOST)])
    return files


def _skipped_bundles(
    reader: Connection, job: Job, filters: list[FilterTerm], total: int
) -> list[JobErrorDetail]:
    """One job error per bundle the filter matches (EP exports no bundles), of `total`."""
    if total == 0:
        return []
    ids = find_bundles(reader, job.store_id, filters, SKIPPED_BUNDLES_LISTED)
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
    return errors


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
