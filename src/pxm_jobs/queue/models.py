"""What a job is, as the rest of the service sees it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, String, literal_column

from pxm_jobs.job_errors import JobErrorDetail


class JobStatus(StrEnum):
    PENDING = "pending"  # queued, waiting for its turn in its store
    STARTED = "started"  # claimed by a worker, which holds its lease
    SUCCESS = "success"  # finished; its effects are committed
    FAILED = "failed"  # finished with errors; it had no effects
    CANCELLED = "cancelled"  # withdrawn before it started; it never ran

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def constant(self) -> ColumnElement[str]:
        """The status written into SQL text as a constant, where a bound value would be.

        PostgreSQL uses a partial index (`WHERE status = 'pending'`) only for a query whose
        condition is that constant; in the generic plan it settles on for a statement prepared
        by the driver, a bound value is unknown and the queue's indexes go unused.
        """
        return literal_column(f"'{self.value}'", String)


TERMINAL_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED})

# Job meta keys naming the files (blobs) a job produced, deleted with the job. Keys starting with
# `_` are the service's own bookkeeping, never shown on the wire.
FILES_META_KEY = "_files"  # [{"blob_id", "name"}]: an export's parts
ERROR_FILE_META_KEY = "_error_file"  # {"blob_id", "name"}: the rejected rows of an import
RESULT_FILE_META_KEY = "_result_file"  # {"blob_id", "name"}: what a successful import did


def produced_blob_ids(meta: dict[str, Any]) -> list[str]:
    """The blobs a job wrote, as its meta records them."""
    ids = [entry["blob_id"] for entry in meta.get(FILES_META_KEY) or ()]
    for key in (ERROR_FILE_META_KEY, RESULT_FILE_META_KEY):
        file = meta.get(key)
        if file:
            ids.append(file["blob_id"])
    return ids


class JobType(StrEnum):
    PRODUCT_IMPORT = "product-import"  # products created or updated from a CSV file
    PRODUCT_EXPORT = "product-export"  # products written to CSV files
    HIERARCHY_DUPLICATE = "hierarchy-duplicate"  # a hierarchy copied with its nodes
    CHILD_PRODUCTS = "child-products"  # child products built from a base product
    PRICEBOOK_IMPORT = "pricebook-import"  # price books, prices and modifiers from a JSONL file


@dataclass(frozen=True)
class Job:
    seq: int
    id: str
    store_id: str
    type: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    request_id: str | None
    input: dict[str, Any]
    file_id: str | None
    meta: dict[str, Any]
    progress_processed: int | None
    progress_total: int | None
    worker_id: str | None
    attempts: int
    idempotency_key: str | None = None
    request_fingerprint: str | None = None
    # When someone asked a started job to stop (PXM_CANCEL_STARTED_JOBS); it still runs until
    # it notices, and then ends `cancelled`.
    cancel_requested_at: datetime | None = None

    @property
    def cancelling(self) -> bool:
        return self.status is JobStatus.STARTED and self.cancel_requested_at is not None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Job:
        """The job of a `jobs` row; other columns a statement returned beside it are left out."""
        values = {name: value for name, value in row._asdict().items() if name in _JOB_FIELDS}
        values["status"] = JobStatus(values["status"])
        return cls(**values)


_JOB_FIELDS = frozenset(field.name for field in fields(Job))


@dataclass(frozen=True)
class JobError:
    id: str
    detail: JobErrorDetail
