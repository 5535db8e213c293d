"""Jobs and their errors on the wire: the documents of the Jobs API and of job-creating routes."""

from __future__ import annotations

from typing import Literal

from pydantic import MISSING, ConfigDict, Field

from pxm_jobs.api.common_schemas import ListLinks, ListMeta, PublicModel
from pxm_jobs.queue.models import JobStatus, JobType


class JobAttributes(PublicModel):
    # A str, not the enum: the queue can hold job types this build does not run yet.
    type: str = Field(examples=[job_type.value for job_type in JobType])
    # `cancelling`: a started job asked to stop (PXM_CANCEL_STARTED_JOBS), not yet stopped.
    status: JobStatus | Literal["cancelling"]
    created_at: str = Field(examples=["2024-01-05T13:46:41.695Z"])
    updated_at: str
    started_at: str | None = Field(description="Null until a worker starts the job.")
    completed_at: str | None = Field(description="Null until the job ends.")


class JobProgress(PublicModel):
    processed: int = Field(ge=0)
    total: int | None = Field(description="Null while the total is not known yet.")


class ImportedRows(PublicModel):
    created: int = Field(ge=0)
    updated: int = Field(ge=0)


class ProductImportRows(ImportedRows):
    rejected: int | MISSING = Field(
        default=MISSING,
        ge=0,
        description="With error_policy=reject_failed_rows: the rows left out for their problems.",
    )


class PricebookImportRows(PublicModel):
    pricebooks: ImportedRows
    prices: ImportedRows
    modifiers: ImportedRows


class CopiedItems(PublicModel):
    nodes: int = Field(ge=0)
    product_links: int = Field(ge=0)


class JobMeta(PublicModel):
    """The request id, type-specific keys, and where the job stands.

    Declared in the order they appear; open to keys of job types added later.
    """

    model_config = ConfigDict(extra="allow")

    x_request_id: str | None = Field(description="X-Request-ID of the request that created it.")
    filter: str | MISSING = Field(default=MISSING, description="product-export: its filter.")
    copied_from: str | MISSING = Field(
        default=MISSING, description="hierarchy-duplicate: the source hierarchy id."
    )
    hierarchy_id: str | MISSING = Field(
        default=MISSING, description="hierarchy-duplicate: the id of the new hierarchy."
    )
    copied: CopiedItems | MISSING = MISSING
    dry_run: bool | MISSING = Field(
        default=MISSING, description="product-import and pricebook-import: validate only."
    )
    error_policy: str | MISSING = Field(
        default=MISSING,
        description="product-import: `reject_failed_rows` when asked for; absent for the "
        "default, `reject_everything`.",
    )
    rows: ProductImportRows | PricebookImportRows | MISSING = Field(
        default=MISSING,
        description="product-import and pricebook-import, once they succeeded: what they "
        "created and updated (and, keeping the valid rows, left out).",
    )
    file_locations: list[str] | MISSING | None = Field(
        default=MISSING,
        description="product-export: signed download URLs once it succeeded, null before.",
    )
    retried_from: str | MISSING = Field(
        default=MISSING, description="A retry: the id of the failed or cancelled job it redoes."
    )
    error_file_location: str | MISSING | None = Field(
        default=MISSING,
        description="product-import: once it failed, or succeeded leaving rows out, a signed "
        "link to its rejected rows with an `_error` column, to fix and import again; null "
        "otherwise.",
    )
    result_file_location: str | MISSING | None = Field(
        default=MISSING,
        description="product-import: once it succeeded, a signed link to a CSV of `row, id, "
        "external_ref, sku, action` (`created`, `updated` or `unchanged`) for each row applied; "
        "null otherwise.",
    )
    queue_position: int | MISSING = Field(
        default=MISSING, ge=1, description="While pending: 1 means it starts next in its store."
    )
    progress: JobProgress | MISSING = Field(
        default=MISSING, description="Once started: rows or items processed so far."
    )


class JobPublic(PublicModel):
    type: Literal["pim-job"]
    id: str
    attributes: JobAttributes
    meta: JobMeta


class JobDocument(PublicModel):
    data: JobPublic


class QueueMeta(PublicModel):
    pending: int = Field(ge=0)
    oldest_pending_age_seconds: float | None
    workers_alive: int = Field(ge=0)


class JobListMeta(ListMeta):
    queue: QueueMeta = Field(description="The state of the caller's store's queue.")


class JobListDocument(PublicModel):
    data: list[JobPublic]
    meta: JobListMeta
    links: ListLinks


class JobErrorAttributes(PublicModel):
    message: str


class JobErrorMeta(PublicModel):
    row: int | MISSING = Field(
        default=MISSING,
        description="1-based CSV line (the header is 1), or the ordinal of the JSONL object.",
    )
    field: str | MISSING = MISSING
    value: str | MISSING = MISSING
    code: str | MISSING = MISSING


class JobErrorPublic(PublicModel):
    type: Literal["pim-job-error"]
    id: str
    attributes: JobErrorAttributes
    meta: JobErrorMeta | MISSING = MISSING


class JobErrorListDocument(PublicModel):
    data: list[JobErrorPublic]
    meta: ListMeta
    links: ListLinks
