"""The `child-products` job: build a base product's children from its variations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import ChildrenRejected, ProductNotFound
from pxm_jobs.catalog.products.children.build import build_children
from pxm_jobs.catalog.products.queries import get_product
from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.clock import utc_now
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.kind import FileLinks, JobKind, JobRequest, JobRequestRejected, as_retry
from pxm_jobs.queue.lifecycle import NewJob
from pxm_jobs.queue.models import Job, JobType
from pxm_jobs.queue.runner import JobContext, JobFailed

PRODUCT_KEY = "product_id"
PRODUCT_MISSING = "product_not_found"


def request_build(store_id: str, product_id: str, request_id: str | None) -> JobRequest:
    """A build of the product's children; what it builds is read when the job runs."""
    new = NewJob(
        store_id=store_id,
        type=JobType.CHILD_PRODUCTS,
        input={PRODUCT_KEY: product_id},
        meta={},
        request_id=request_id,
    )
    return JobRequest(new, {PRODUCT_KEY: product_id})


def run_child_products(context: JobContext, connection: Connection) -> dict[str, Any]:
    """Build every child the base product's variations and build rules make, or none."""
    job = context.job
    product_id = str(job.input[PRODUCT_KEY])
    try:
        result = build_children(
            connection,
            job.store_id,
            product_id,
            limits=ProductLimits.from_settings(context.settings),
            now=utc_now(),
            report_progress=context.report_progress,
        )
    except ProductNotFound:
        message = (
            f"product {product_id} no longer exists (it was deleted after this job was "
            "queued); no children were built"
        )
        raise JobFailed([JobErrorDetail(message=message, code=PRODUCT_MISSING)]) from None
    except ChildrenRejected as rejected:
        raise JobFailed(rejected.problems) from rejected
    made = result.created + result.updated + result.unchanged
    context.report_progress(made, made)
    return {
        "children": {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deleted": result.deleted,
            "independent": result.independent,
        }
    }


def retry_build(connection: Connection, job: Job) -> NewJob:
    """The same build again, if its base product still exists."""
    product_id = str(job.input[PRODUCT_KEY])
    if get_product(connection, job.store_id, product_id) is None:
        raise JobRequestRejected(
            f"product {product_id}, whose children this built, no longer exists"
        )
    return as_retry(job, job.input, {})


def build_meta(job: Job, links: FileLinks | None) -> dict[str, Any]:
    """Nothing beyond what the job keeps: the counts of children, once it succeeded."""
    return {}


KIND = JobKind(JobType.CHILD_PRODUCTS, run_child_products, retry_build, build_meta)
