"""The `product-import` job: apply an uploaded CSV file to the store's products."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, BinaryIO

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import CatalogError, ImportRejected
from pxm_jobs.catalog.gzip_files import inflated, is_gzip, limited
from pxm_jobs.catalog.products.csv_import import import_products
from pxm_jobs.catalog.products.error_policy import (
    DEFAULT_ERROR_POLICY,
    ErrorPolicy,
    read_error_policy,
)
from pxm_jobs.catalog.products.import_results import write_import_results
from pxm_jobs.catalog.products.rejected_rows import write_rejected_rows
from pxm_jobs.catalog.products.upload_check import ImportFileChecker
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.kind import FileLinks, JobKind, JobRequest, JobRequestRejected, as_retry
from pxm_jobs.queue.lifecycle import NewJob, add_job_errors
from pxm_jobs.queue.metrics import record_import
from pxm_jobs.queue.models import (
    ERROR_FILE_META_KEY,
    RESULT_FILE_META_KEY,
    Job,
    JobStatus,
    JobType,
)
from pxm_jobs.queue.runner import FailureReport, JobContext, JobFailed
from pxm_jobs.store.blobs import CHUNK_BYTES, get_blob, open_blob, read_blob, write_blob

FILE_MISSING = "file_missing"
INVALID_REQUEST = "invalid_request"
ERROR_POLICY = "error_policy"  # the job input's and meta's key


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file that passed the request-time checks, stored for the job to read."""

    blob_id: str
    rows: int  # CSV records, the header included
    sha256: str


def store_upload(
    connection: Connection, store_id: str, file: BinaryIO, filename: str, settings: Settings
) -> StoredUpload:
    """Store the upload while checking it; raises a CatalogError naming the first problem.

    A gzip upload (told by its first bytes) is stored inflated: the job, its retries and its
    file of rejected rows then read plain CSV, and the limits hold for the CSV itself, counted
    as it is inflated so that a gzip bomb stops at the limit.
    """
    checker = ImportFileChecker(settings)
    digest = hashlib.sha256()
    first = file.read(CHUNK_BYTES)
    gzipped = is_gzip(first)
    uploaded: Iterator[bytes] = chain([first], iter(lambda: file.read(CHUNK_BYTES), b""))
    if gzipped:
        # The compressed bytes are capped too: empty gzip members inflate to nothing at all.
        limit = settings.import_max_bytes
        uploaded = inflated(limited(uploaded, limit), limit)

    def checked_chunks() -> Iterator[bytes]:
        for chunk in uploaded:
            if chunk:
                checker.feed(chunk)
                digest.update(chunk)
                yield chunk

    blob = write_blob(
        connection,
        store_id=store_id,
        name=filename.removesuffix(".gz") if gzipped else filename,
        content_type="text/csv",
        chunks=checked_chunks(),
    )
    return StoredUpload(blob.id, checker.finish().rows, digest.hexdigest())


def request_import(
    store_id: str,
    upload: StoredUpload,
    *,
    dry_run: bool,
    request_id: str | None,
    error_policy: ErrorPolicy = DEFAULT_ERROR_POLICY,
) -> JobRequest:
    """The job for a checked upload. The default error policy is left unsaid, in the input and
    in what an Idempotency-Key compares, so a default import is recorded as it always was."""
    job_input: dict[str, Any] = {"rows": upload.rows}
    asked: dict[str, Any] = {"file_sha256": upload.sha256, "dry_run": dry_run}
    if dry_run:
        job_input["dry_run"] = True
    if error_policy is not DEFAULT_ERROR_POLICY:
        job_input[ERROR_POLICY] = asked[ERROR_POLICY] = error_policy.value
    new = NewJob(
        store_id=store_id,
        type=JobType.PRODUCT_IMPORT,
        input=job_input,
        meta=_shown_input(job_input),
        request_id=request_id,
        file_id=upload.blob_id,
    )
    return JobRequest(new, asked)


def _shown_input(job_input: Mapping[str, Any]) -> dict[str, Any]:
    """What the job shows of its input in `meta`: a dry run, and a policy other than EP's."""
    shown: dict[str, Any] = {}
    if job_input.get("dry_run"):
        shown["dry_run"] = True
    if ERROR_POLICY in job_input:
        shown[ERROR_POLICY] = job_input[ERROR_POLICY]
    return shown


def run_product_import(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Import the job's file: every row applies, or the job fails listing every problem.

    Job input: `dry_run` (true to validate only), `error_policy` (`reject_failed_rows` to apply
    the rows without problems and leave out the others) and, when the upload check counted
    them, `rows` (CSV records with the header), which only makes progress reports show a total.
    Rows left out, of a failed import or of one keeping the good rows, are offered as a file
    (`catalog.products.rejected_rows`); a successful import offers what it did with each row
    (`catalog.products.import_results`). Both files commit with the job's end.
    """
    job, settings = context.job, context.settings
    opened = open_blob(connection, job.file_id) if job.file_id is not None else None
    if opened is None or opened.info.store_id != job.store_id:
        message = "the uploaded file of this import is no longer available; upload it again"
        raise JobFailed([JobErrorDetail(message=message, code=FILE_MISSING)])
    blob = opened.info
    policy = _error_policy_of(job)
    records = job.input.get("rows")
    started = time.monotonic()
    try:
        result = import_products(
            connection,
            store_id=job.store_id,
            chunks=opened.chunks,
            settings=settings,
            dry_run=_is_true(job.input.get("dry_run", False)),
            report_progress=context.report_progress,
            total_rows=records - 1 if isinstance(records, int) and records > 0 else None,
            keep_valid_rows=policy is ErrorPolicy.REJECT_FAILED_ROWS,
        )
    except ImportRejected as rejected:
        report = _rejected_rows_report(job, blob.id, settings, rejected.errors)
        raise JobFailed(rejected.errors, write_report=report) from rejected
    record_import(result.created + result.updated + result.unchanged, time.monotonic() - started)
    rows = {"created": result.created, "updated": result.updated}
    if policy is ErrorPolicy.REJECT_FAILED_ROWS:
        rows["rejected"] = result.rejected
    meta: dict[str, Any] = {"rows": rows}
    if result.problems:
        add_job_errors(connection, job.seq, result.problems)
        meta.update(_rejected_rows_report(job, blob.id, settings, result.problems)(connection))
    results = write_import_results(
        connection,
        store_id=job.store_id,
        outcomes=result.outcomes,
        expires_at=_files_expire(settings),
        escape_formulas=settings.csv_escape_formulas,
    )
    meta[RESULT_FILE_META_KEY] = {"blob_id": results.id, "name": results.name}
    return meta


def _error_policy_of(job: Job) -> ErrorPolicy:
    try:
        return read_error_policy(job.input.get(ERROR_POLICY))
    except CatalogError as error:  # checked when queued: only an edited job gets here
        raise JobFailed([JobErrorDetail(message=error.detail, code=INVALID_REQUEST)]) from error


def _files_expire(settings: Settings) -> datetime:
    return utc_now() + timedelta(days=settings.export_retention_days)


def retry_import(connection: Connection, job: Job) -> NewJob:
    """The same file again, if it is still stored; a dry run stays a dry run, and the error
    policy stays the one asked for."""
    if job.file_id is None or get_blob(connection, job.file_id) is None:
        raise JobRequestRejected(
            "the uploaded file of this import is no longer stored; upload it again"
        )
    return as_retry(job, job.input, _shown_input(job.input))


def import_meta(job: Job, links: FileLinks | None) -> dict[str, Any]:
    """Fresh links, or null: `error_file_location` to the rows a finished import left out (all
    of a failed one's rows with problems), `result_file_location` to what a successful one did.
    """
    finished = job.status in (JobStatus.FAILED, JobStatus.SUCCESS)
    result_file = job.meta.get(RESULT_FILE_META_KEY) if job.status is JobStatus.SUCCESS else None
    return {
        "error_file_location": _link(
            job.meta.get(ERROR_FILE_META_KEY) if finished else None, links
        ),
        "result_file_location": _link(result_file, links),
    }


def _link(file: Mapping[str, Any] | None, links: FileLinks | None) -> str | None:
    if not file or links is None:
        return None
    return links.url_for(file["blob_id"], file["name"])


KIND = JobKind(JobType.PRODUCT_IMPORT, run_product_import, retry_import, import_meta)


def _rejected_rows_report(
    job: Job, blob_id: str, settings: Settings, errors: Sequence[JobErrorDetail]
) -> FailureReport:
    def write(connection: Connection) -> Mapping[str, Any]:
        written = write_rejected_rows(
            connection,
            store_id=job.store_id,
            upload=read_blob(connection, blob_id),
            errors=errors,
            expires_at=_files_expire(settings),
            max_bytes=settings.bytes_per_export_file(),
            escape_formulas=settings.csv_escape_formulas,
        )
        if written is None:
            return {}
        return {ERROR_FILE_META_KEY: {"blob_id": written.id, "name": written.name}}

    return write


def _is_true(value: object) -> bool:
    # A query-string flag may reach the job as text; "false" must not mean true.
    return value is True or (isinstance(value, str) and value.lower() == "true")
