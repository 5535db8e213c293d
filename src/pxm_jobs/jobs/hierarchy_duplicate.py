"""The `hierarchy-duplicate` job: copy a hierarchy, its tree and, if asked, its product links."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.hierarchies.duplicate import CopyRequest, check_copy_changes, copy_hierarchy
from pxm_jobs.catalog.hierarchies.errors import HierarchyNotFound
from pxm_jobs.catalog.hierarchies.queries import get_hierarchy
from pxm_jobs.clock import utc_now
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.kind import FileLinks, JobKind, JobRequest, JobRequestRejected, as_retry
from pxm_jobs.queue.lifecycle import NewJob
from pxm_jobs.queue.models import Job, JobType
from pxm_jobs.queue.runner import JobContext, JobFailed


def request_duplicate(
    store_id: str, source_id: str, attributes: Mapping[str, Any], request_id: str | None
) -> JobRequest:
    """A copy of an existing hierarchy; the copy's id is chosen now, and shown from the start.

    Raises a CatalogError when the attributes break the hierarchy rules.
    """
    given = dict(attributes)
    include_products = bool(given.pop("include_products", False))
    changes = check_copy_changes(given)
    copy = CopyRequest(source_id, str(uuid.uuid4()), changes, include_products)
    new = NewJob(
        store_id=store_id,
        type=JobType.HIERARCHY_DUPLICATE,
        input=copy.to_job_input(),
        meta={"copied_from": copy.source_id, "hierarchy_id": copy.new_id},
        request_id=request_id,
    )
    # The new hierarchy's id is drawn per request: it is no part of what was asked.
    return JobRequest(
        new, {"source": source_id, "changes": changes, "include_products": include_products}
    )


def run_hierarchy_duplicate(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Copy the source hierarchy under the id the job promised; all of it, or nothing."""
    job = context.job
    request = CopyRequest.from_job_input(job.input)
    try:
        copy = copy_hierarchy(
            connection,
            job.store_id,
            request.source_id,
            request.new_id,
            request.changes,
            utc_now(),
            include_products=request.include_products,
            report_progress=context.report_progress,
        )
    except HierarchyNotFound:
        message = (
            f"hierarchy {request.source_id} no longer exists (it was deleted after this job "
            "was queued); nothing was copied"
        )
        raise JobFailed([JobErrorDetail(message=message, code="source_not_found")]) from None
    context.report_progress(copy.nodes, copy.nodes)
    return {"copied": {"nodes": copy.nodes, "product_links": copy.product_links}}


def retry_duplicate(connection: Connection, job: Job) -> NewJob:
    """The same copy of the same source, under a new id: the failed copy never made its own."""
    copy = CopyRequest.from_job_input(job.input)
    if get_hierarchy(connection, job.store_id, copy.source_id) is None:
        raise JobRequestRejected(
            f"hierarchy {copy.source_id}, the source of this copy, no longer exists"
        )
    again = CopyRequest(copy.source_id, str(uuid.uuid4()), copy.changes, copy.include_products)
    return as_retry(
        job, again.to_job_input(), {"copied_from": again.source_id, "hierarchy_id": again.new_id}
    )


def duplicate_meta(job: Job, links: FileLinks | None) -> dict[str, Any]:
    """Nothing beyond `copied_from` and `hierarchy_id`, which the job keeps from the start."""
    return {}


KIND = JobKind(
    JobType.HIERARCHY_DUPLICATE, run_hierarchy_duplicate, retry_duplicate, duplicate_meta
)
