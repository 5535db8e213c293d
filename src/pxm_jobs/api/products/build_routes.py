"""Building a base product's children: `POST /pcm/products/{id}/build` queues the job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.jobs.queueing import IdempotencyKeyDep, queue_job
from pxm_jobs.api.jobs.routes import job_document
from pxm_jobs.api.jobs.schemas import JobDocument
from pxm_jobs.api.products.routes import find_product
from pxm_jobs.api.request_id import request_id_of
from pxm_jobs.clock import utc_now
from pxm_jobs.jobs.child_products import request_build

router = APIRouter(tags=["products"])


@router.post(
    "/{product_id}/build",
    status_code=201,
    response_model=JobDocument,
    responses=error_responses(400, 404, 422),
)
def build_child_products(
    request: Request,
    response: Response,
    product_id: str,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    idempotency_key: IdempotencyKeyDep,
    body: dict[str, Any] | None = Body(default=None, description="Empty, or `{}`."),
) -> dict[str, Any]:
    """Queue a `child-products` job; its variations and build rules are read when it runs."""
    product = find_product(connection, store_id, product_id)
    if product.parent_id is not None:
        raise ApiError(
            422,
            f"product {product.id} is a child of product {product.parent_id}; build the "
            "children of its base product instead",
            title="Failed Validation",
            meta={"parent_id": product.parent_id},
        )
    asked = request_build(store_id, product.id, request_id_of(request))
    job = queue_job(connection, asked.keyed(idempotency_key), response, utc_now())
    return {"data": job_document(connection, job)}
