"""The `product-import` job: apply an uploaded CSV file to the store's products."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.products.csv_import import import_products
from pxm_jobs.catalog.products.rejected_rows import write_rejected_rows
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.metrics import record_import
from pxm_jobs.queue.models import ERROR_FILE_META_KEY, Job
from pxm_jobs.queue.runner import FailureReport, JobContext, JobFailed
from pxm_jobs.store.blobs import get_blob, read_blob

FILE_MISSING = "file_missing"


def run_product_import(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Import the job's file: every row applies, or the job fails listing every problem.

    Job input: `dry_run` (true to validate only) and, when the upload check counted them,
    `rows` (CSV records with the header), which only makes progress reports show a total.
    A failed import also offers its rejected rows as a file (see `catalog.rejected_rows`).
    """
    job = context.job
    blob = get_blob(connection, job.file_id) if job.file_id is not None else None
    if blob is None or blob.store_id != job.store_id:
        message = "the uploaded file of this import is no longer available; upload it again"
        raise JobFailed([JobErrorDetail(message=message, code=FILE_MISSING)])
    records = job.input.get("rows")
    started = time.monotonic()
    try:
        result = import_products(
            connection,
            store_id=job.store_id,
            chunks=read_blob(connection, blob.id),
            settings=context.settings,
            dry_run=_is_true(job.input.get("dry_run", False)),
            report_progress=context.report_progress,
            total_rows=records - 1 if isinstance(records, int) and records > 0 else None,
        )
    except ImportRejected as rejected:
        report = _rejected_rows_report(job, blob.id, context.settings, rejected.errors)
        raise JobFailed(rejected.errors, write_report=report) from rejected
    record_import(result.created + result.updated + result.unchanged, time.monotonic() - started)
    return {"rows": {"created": result.created, "updated": result.updated}}


def _rejected_rows_report(
    job: Job, blob_id: str, settings: Settings, errors: Sequence[JobErrorDetail]
) -> FailureReport:
    def write(connection: Connection) -> Mapping[str, Any]:
        written = write_rejected_rows(
            connection,
            store_id=job.store_id,
            upload=read_blob(connection, blob_id),
            errors=errors,
            expires_at=utc_now() + timedelta(days=settings.export_retention_days),
        )
        if written is None:
            return {}
        return {ERROR_FILE_META_KEY: {"blob_id": written.id, "name": written.name}}

    return write


def _is_true(value: object) -> bool:
    # A query-string flag may reach the job as text; "false" must not mean true.
    return value is True or (isinstance(value, str) and value.lower() == "true")
