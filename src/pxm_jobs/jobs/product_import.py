"""The `product-import` job: apply an uploaded CSV file to the store's products."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.product_import import import_products
from pxm_jobs.queue.models import JobErrorDetail
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.store.blobs import get_blob, read_blob

FILE_MISSING = "file_missing"


def run_product_import(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Import the job's file: every row applies, or the job fails listing every problem.

    Job input: `dry_run` (true to validate only) and, when the upload check counted them,
    `rows` (CSV records with the header), which only makes progress reports show a total.
    """
    job = context.job
    blob = get_blob(connection, job.file_id) if job.file_id is not None else None
    if blob is None or blob.store_id != job.store_id:
        message = "the uploaded file of this import is no longer available; upload it again"
        raise JobFailed([JobErrorDetail(message=message, code=FILE_MISSING)])
    records = job.input.get("rows")
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
        raise JobFailed(rejected.errors) from rejected
    return {"rows": {"created": result.created, "updated": result.updated}}


def _is_true(value: object) -> bool:
    # A query-string flag may reach the job as text; "false" must not mean true.
    return value is True or (isinstance(value, str) and value.lower() == "true")
