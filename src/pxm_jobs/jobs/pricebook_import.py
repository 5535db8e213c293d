"""The `pricebook-import` job: apply an uploaded JSONL file (or a gzip of one) to price books."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.pricebooks.jsonl_import import import_pricebooks
from pxm_jobs.catalog.pricebooks.upload_check import check_upload
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.kind import FileLinks, JobKind, JobRequest, JobRequestRejected, as_retry
from pxm_jobs.queue.lifecycle import NewJob
from pxm_jobs.queue.models import Job, JobType
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.store.blobs import CHUNK_BYTES, get_blob, open_blob, write_blob

GZIP_CONTENT_TYPE = "application/gzip"
JSONL_CONTENT_TYPE = "application/jsonl"
FILE_MISSING = "file_missing"


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file that passed the request-time checks, stored for the job to read."""

    blob_id: str
    sha256: str


def store_upload(
    connection: Connection, store_id: str, file: BinaryIO, filename: str, settings: Settings
) -> StoredUpload:
    """Check the upload (a CatalogError names the problem), then store it as it was sent."""
    summary = check_upload(file, settings.import_max_bytes)
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            yield chunk

    blob = write_blob(
        connection,
        store_id=store_id,
        name=filename,
        content_type=GZIP_CONTENT_TYPE if summary.gzipped else JSONL_CONTENT_TYPE,
        chunks=chunks(),
    )
    return StoredUpload(blob.id, digest.hexdigest())


def request_import(
    store_id: str, upload: StoredUpload, *, dry_run: bool, request_id: str | None
) -> JobRequest:
    new = NewJob(
        store_id=store_id,
        type=JobType.PRICEBOOK_IMPORT,
        input={"dry_run": True} if dry_run else {},
        meta={"dry_run": True} if dry_run else {},
        request_id=request_id,
        file_id=upload.blob_id,
    )
    return JobRequest(new, {"file_sha256": upload.sha256, "dry_run": dry_run})


def run_pricebook_import(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Import the job's file: every object applies, or the job fails listing every problem.

    Job input: `dry_run` (true to check only). On success, `meta.rows` counts the price books,
    prices and modifiers created and updated.
    """
    job = context.job
    opened = open_blob(connection, job.file_id) if job.file_id is not None else None
    if opened is None or opened.info.store_id != job.store_id:
        message = "the uploaded file of this import is no longer available; upload it again"
        raise JobFailed([JobErrorDetail(message=message, code=FILE_MISSING)])
    try:
        result = import_pricebooks(
            connection,
            store_id=job.store_id,
            chunks=opened.chunks,
            settings=context.settings,
            dry_run=job.input.get("dry_run") is True,
            report_progress=context.report_progress,
        )
    except ImportRejected as rejected:
        raise JobFailed(rejected.errors) from rejected
    return {"rows": result.as_meta()}


def retry_import(connection: Connection, job: Job) -> NewJob:
    """The same file again, if it is still stored; a dry run stays a dry run."""
    if job.file_id is None or get_blob(connection, job.file_id) is None:
        raise JobRequestRejected(
            "the uploaded file of this import is no longer stored; upload it again"
        )
    return as_retry(job, job.input, {"dry_run": True} if job.input.get("dry_run") else {})


def import_meta(job: Job, links: FileLinks | None) -> dict[str, Any]:
    """Nothing beyond what the job's meta holds (`dry_run`, and `rows` once it succeeded)."""
    return {}


KIND = JobKind(JobType.PRICEBOOK_IMPORT, run_pricebook_import, retry_import, import_meta)
