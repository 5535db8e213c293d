"""Price modifiers of a price book: create, read, change and delete them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, SettingsDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.pricebooks.errors import catalog_errors_as_http
from pxm_jobs.api.pricebooks.pricebook_routes import find_pricebook, refuse_other_id
from pxm_jobs.api.pricebooks.rendering import modifier_path, render_modifier
from pxm_jobs.api.pricebooks.schemas import (
    ModifierCreate,
    ModifierDocument,
    ModifierListDocument,
    ModifierUpdate,
)
from pxm_jobs.catalog.pricebooks.modifiers import (
    Modifier,
    create_modifier,
    delete_modifier,
    get_modifier,
    list_modifiers,
    parse_modifier_filter,
    update_modifier,
)
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["price modifiers"])

ModifierFilterQuery = Annotated[
    str | None,
    Query(description="`eq(name,...)` or `eq(external_ref,...)`, or `in` of either."),
]


def modifier_document(modifier: Modifier) -> dict[str, Any]:
    return {"data": render_modifier(modifier), "links": {"self": modifier_path(modifier)}}


@router.get(
    "/{pricebook_id}/modifiers",
    response_model=ModifierListDocument,
    responses=error_responses(400, 404),
)
def list_pricebook_modifiers(
    request: Request,
    pricebook_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: ModifierFilterQuery = None,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    with catalog_errors_as_http():
        filters = parse_modifier_filter(filter) if filter else []
    found, total = list_modifiers(
        connection, store_id, book.id, filters=filters, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_modifier(modifier) for modifier in found], total, page)


@router.post(
    "/{pricebook_id}/modifiers",
    status_code=201,
    response_model=ModifierDocument,
    responses=error_responses(400, 404, 409, 422),
)
def create_pricebook_modifier(
    pricebook_id: str,
    body: ModifierCreate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        modifier = create_modifier(
            connection,
            store_id,
            book.id,
            body.data.attributes.given(),
            limits=limits,
            now=utc_now(),
        )
    return modifier_document(modifier)


@router.get(
    "/{pricebook_id}/modifiers/{modifier_id}",
    response_model=ModifierDocument,
    responses=error_responses(404),
)
def show_pricebook_modifier(
    pricebook_id: str, modifier_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    modifier = get_modifier(
        connection, store_id, book.id, require_uuid(modifier_id, "price modifier")
    )
    if modifier is None:
        raise not_found("price modifier")
    return modifier_document(modifier)


@router.put(
    "/{pricebook_id}/modifiers/{modifier_id}",
    response_model=ModifierDocument,
    responses=error_responses(400, 404, 409, 422),
)
def update_pricebook_modifier(
    pricebook_id: str,
    modifier_id: str,
    body: ModifierUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    path_id = require_uuid(modifier_id, "price modifier")
    refuse_other_id(body.data.id, path_id)
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        modifier = update_modifier(
            connection,
            store_id,
            book.id,
            path_id,
            body.data.attributes.given(),
            limits=limits,
            now=utc_now(),
        )
    return modifier_document(modifier)


@router.delete(
    "/{pricebook_id}/modifiers/{modifier_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(404),
)
def delete_pricebook_modifier(
    pricebook_id: str, modifier_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    book = find_pricebook(connection, store_id, pricebook_id)
    with catalog_errors_as_http():
        delete_modifier(connection, store_id, book.id, require_uuid(modifier_id, "price modifier"))
    return Response(status_code=204)
