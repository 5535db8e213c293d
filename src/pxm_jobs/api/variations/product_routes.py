"""The variations a product names: `/pcm/products/{id}/relationships/variations`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.products.routes import find_product
from pxm_jobs.api.variations.errors import catalog_errors_as_http
from pxm_jobs.api.variations.rendering import render_product_variation
from pxm_jobs.api.variations.schemas import ProductVariationsDocument, VariationReferences
from pxm_jobs.catalog.variations.product_links import (
    ADD,
    REMOVE,
    REPLACE,
    change_product_variations,
    product_variations_of,
)
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["variations"])

LINKS_PATH = "/{product_id}/relationships/variations"

_NO_CONTENT: dict[str, Any] = {
    "status_code": 204,
    "response_class": Response,
    "responses": error_responses(400, 404, 422),
}


@router.get(LINKS_PATH, response_model=ProductVariationsDocument, responses=error_responses(404))
def list_product_variations(
    product_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    """The variations the product names, in display order."""
    product = find_product(connection, store_id, product_id)
    found = product_variations_of(connection, product.id)
    return {"data": [render_product_variation(variation) for variation in found]}


def _change(
    action: str,
    product_id: str,
    body: VariationReferences,
    store_id: str,
    connection: Connection,
) -> Response:
    with catalog_errors_as_http():
        change_product_variations(
            connection,
            store_id,
            require_uuid(product_id, "product"),
            action,
            body.ids(),
            utc_now(),
        )
    return Response(status_code=204)


@router.post(LINKS_PATH, **_NO_CONTENT)
def add_product_variations(
    product_id: str,
    body: VariationReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    """Name these variations beside the ones the product names already."""
    return _change(ADD, product_id, body, store_id, connection)


@router.put(LINKS_PATH, **_NO_CONTENT)
def replace_product_variations(
    product_id: str,
    body: VariationReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    """Name exactly these variations (none: no variations)."""
    return _change(REPLACE, product_id, body, store_id, connection)


@router.delete(LINKS_PATH, **_NO_CONTENT)
def remove_product_variations(
    product_id: str,
    body: VariationReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    """Stop naming these variations; ids the product does not name are ignored."""
    return _change(REMOVE, product_id, body, store_id, connection)
