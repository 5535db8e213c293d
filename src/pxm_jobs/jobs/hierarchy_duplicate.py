"""The `hierarchy-duplicate` job: copy a hierarchy, its tree and, if asked, its product links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.hierarchies.duplicate import CopyRequest, copy_hierarchy
from pxm_jobs.catalog.hierarchies.errors import HierarchyNotFound
from pxm_jobs.clock import utc_now
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.runner import JobContext, JobFailed


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
