"""The options of a variation: create, read, change, delete and list them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.variations.errors import catalog_errors_as_http
from pxm_jobs.api.variations.rendering import render_option
from pxm_jobs.api.variations.schemas import (
    OptionCreate,
    OptionDocument,
    OptionListDocument,
    OptionUpdate,
)
from pxm_jobs.api.variations.variation_routes import find_variation, refuse_other_id
from pxm_jobs.catalog.variations.models import VariationOption
from pxm_jobs.catalog.variations.options import (
    create_option,
    delete_option,
    get_option,
    list_options,
    update_option,
)
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["variations"])

OPTIONS_PATH = "/{variation_id}/options"
OPTION_PATH = OPTIONS_PATH + "/{option_id}"


def find_option(
    connection: Connection, store_id: str, variation_id: str, option_id: str
) -> VariationOption:
    """The option of the store's variation named in the path, or a 404."""
    variation = find_variation(connection, store_id, variation_id)
    option = get_option(
        connection, store_id, variation.id, require_uuid(option_id, "variation option")
    )
    if option is None:
        raise not_found("variation option")
    return option


@router.get(OPTIONS_PATH, response_model=OptionListDocument, responses=error_responses(400, 404))
def list_variation_options(
    request: Request,
    variation_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    """The variation's options, oldest first."""
    variation = find_variation(connection, store_id, variation_id)
    found, total = list_options(
        connection, store_id, variation.id, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_option(option) for option in found], total, page)


@router.post(
    OPTIONS_PATH,
    status_code=201,
    response_model=OptionDocument,
    responses=error_responses(400, 404, 422),
)
def create_variation_option(
    variation_id: str, body: OptionCreate, store_id: StoreIdDep, connection: WriteConnectionDep
) -> dict[str, Any]:
    with catalog_errors_as_http():
        option = create_option(
            connection,
            store_id,
            require_uuid(variation_id, "variation"),
            body.data.attributes.given(),
            utc_now(),
        )
    return {"data": render_option(option)}


@router.get(OPTION_PATH, response_model=OptionDocument, responses=error_responses(404))
def show_variation_option(
    variation_id: str, option_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    return {"data": render_option(find_option(connection, store_id, variation_id, option_id))}


@router.put(OPTION_PATH, response_model=OptionDocument, responses=error_responses(400, 404, 422))
def update_variation_option(
    variation_id: str,
    option_id: str,
    body: OptionUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    """Change the attributes given; the others stay as they are."""
    path_variation = require_uuid(variation_id, "variation")
    path_option = require_uuid(option_id, "variation option")
    refuse_other_id(body.data.id, path_option)
    with catalog_errors_as_http():
        option = update_option(
            connection,
            store_id,
            path_variation,
            path_option,
            body.data.attributes.given(),
            utc_now(),
        )
    return {"data": render_option(option)}


@router.delete(
    OPTION_PATH, status_code=204, response_class=Response, responses=error_responses(404, 422)
)
def delete_variation_option(
    variation_id: str, option_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    """Delete the option and its modifiers; products naming the variation keep it, and their
    next build leaves this option's children out."""
    with catalog_errors_as_http():
        delete_option(
            connection,
            store_id,
            require_uuid(variation_id, "variation"),
            require_uuid(option_id, "variation option"),
            utc_now(),
        )
    return Response(status_code=204)
