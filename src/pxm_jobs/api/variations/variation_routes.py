"""Variations: create, read, change, delete and list them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.variations.errors import catalog_errors_as_http
from pxm_jobs.api.variations.rendering import render_variation
from pxm_jobs.api.variations.schemas import (
    VariationCreate,
    VariationDocument,
    VariationListDocument,
    VariationUpdate,
)
from pxm_jobs.catalog.variations.models import Variation
from pxm_jobs.catalog.variations.variations import (
    create_variation,
    delete_variation,
    get_variation,
    list_variations,
    options_of,
    update_variation,
)
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["variations"])

VARIATION_PATH = "/{variation_id}"


def find_variation(connection: Connection, store_id: str, variation_id: str) -> Variation:
    """The store's variation named in the path, or the 404 an unknown or foreign id gets."""
    variation = get_variation(connection, store_id, require_uuid(variation_id, "variation"))
    if variation is None:
        raise not_found("variation")
    return variation


def refuse_other_id(body_id: str | None, path_id: str) -> None:
    if body_id is not None and body_id != path_id:
        raise ApiError(
            422,
            f"data.id {body_id!r} does not match the id in the path; leave it out or make "
            "them equal",
            title="Failed Validation",
            meta={"field": "data.id"},
        )


def render_variations(connection: Connection, found: Sequence[Variation]) -> list[dict[str, Any]]:
    options = options_of(connection, [variation.id for variation in found])
    return [render_variation(variation, options[variation.id]) for variation in found]


@router.get("", response_model=VariationListDocument, responses=error_responses(400))
def list_store_variations(
    request: Request, store_id: StoreIdDep, connection: ReadConnectionDep, page: PageDep
) -> dict[str, Any]:
    """The store's variations, newest first, each with its options in `meta.options`."""
    found, total = list_variations(connection, store_id, limit=page.limit, offset=page.offset)
    return list_document(request, render_variations(connection, found), total, page)


@router.post(
    "", status_code=201, response_model=VariationDocument, responses=error_responses(400, 422)
)
def create_store_variation(
    body: VariationCreate, store_id: StoreIdDep, connection: WriteConnectionDep
) -> dict[str, Any]:
    with catalog_errors_as_http():
        variation = create_variation(connection, store_id, body.data.attributes.given(), utc_now())
    return {"data": render_variation(variation, [])}


@router.get(VARIATION_PATH, response_model=VariationDocument, responses=error_responses(404))
def show_variation(
    variation_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    variation = find_variation(connection, store_id, variation_id)
    return {"data": render_variations(connection, [variation])[0]}


@router.put(
    VARIATION_PATH, response_model=VariationDocument, responses=error_responses(400, 404, 422)
)
def update_store_variation(
    variation_id: str,
    body: VariationUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    """Change the attributes given; the others stay as they are."""
    path_id = require_uuid(variation_id, "variation")
    refuse_other_id(body.data.id, path_id)
    with catalog_errors_as_http():
        variation = update_variation(
            connection, store_id, path_id, body.data.attributes.given(), utc_now()
        )
    return {"data": render_variations(connection, [variation])[0]}


@router.delete(
    VARIATION_PATH,
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def delete_store_variation(
    variation_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    """Delete the variation with its options and their modifiers; a 422 while a product
    names it (remove it from the product's variations first)."""
    with catalog_errors_as_http():
        delete_variation(connection, store_id, require_uuid(variation_id, "variation"))
    return Response(status_code=204)
