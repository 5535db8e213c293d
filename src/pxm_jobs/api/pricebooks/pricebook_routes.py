"""Price books: create, read, change, delete and replicate them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, SettingsDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.pricebooks.errors import catalog_errors_as_http
from pxm_jobs.api.pricebooks.rendering import pricebook_path, render_price, render_pricebook
from pxm_jobs.api.pricebooks.schemas import (
    PricebookCreate,
    PricebookDocument,
    PricebookListDocument,
    PricebookReplicate,
    PricebookUpdate,
)
from pxm_jobs.catalog.pricebooks.books import (
    Pricebook,
    create_pricebook,
    delete_pricebook,
    list_pricebooks,
    parse_pricebook_filter,
    require_pricebook,
    update_pricebook,
)
from pxm_jobs.catalog.pricebooks.prices import list_prices
from pxm_jobs.catalog.pricebooks.replicate import replicate_pricebook
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["price books"])

PricebookFilterQuery = Annotated[
    str | None,
    Query(
        description="`eq(external_ref,...)` or `eq(name,...)`, or `in` of either; joined by `:`."
    ),
]
IncludeQuery = Annotated[
    str | None,
    Query(description="`prices` adds a page of the book's prices (page[limit], page[offset])."),
]


def find_pricebook(connection: Connection, store_id: str, pricebook_id: str) -> Pricebook:
    """The store's price book named in the path, or the 404 an unknown or foreign id gets."""
    with catalog_errors_as_http():
        return require_pricebook(connection, store_id, require_uuid(pricebook_id, "price book"))


def refuse_other_id(body_id: str | None, path_id: str) -> None:
    if body_id is not None and body_id != path_id:
        raise ApiError(
            422,
            f"data.id {body_id!r} does not match the id in the path; leave it out or make "
            "them equal",
            title="Failed Validation",
            meta={"field": "data.id"},
        )


def pricebook_document(book: Pricebook) -> dict[str, Any]:
    return {"data": render_pricebook(book), "links": {"self": pricebook_path(book.id)}}


@router.get("", response_model=PricebookListDocument, responses=error_responses(400))
def list_store_pricebooks(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: PricebookFilterQuery = None,
) -> dict[str, Any]:
    with catalog_errors_as_http():
        filters = parse_pricebook_filter(filter) if filter else []
    found, total = list_pricebooks(
        connection, store_id, filters=filters, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_pricebook(book) for book in found], total, page)


@router.post(
    "",
    status_code=201,
    response_model=PricebookDocument,
    responses=error_responses(400, 409, 422),
)
def create_store_pricebook(
    body: PricebookCreate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        book = create_pricebook(
            connection, store_id, body.data.attributes.given(), limits=limits, now=utc_now()
        )
    return pricebook_document(book)


@router.get(
    "/{pricebook_id}", response_model=PricebookDocument, responses=error_responses(400, 404)
)
def show_pricebook(
    pricebook_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    include: IncludeQuery = None,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    document = pricebook_document(book)
    if include:
        if include.strip() != "prices":
            raise ApiError(400, f"include {include!r} is not supported; use include=prices")
        found, _ = list_prices(connection, store_id, book.id, limit=page.limit, offset=page.offset)
        document["included"] = [render_price(price) for price in found]
    return document


@router.put(
    "/{pricebook_id}",
    response_model=PricebookDocument,
    responses=error_responses(400, 404, 409, 422),
)
def update_store_pricebook(
    pricebook_id: str,
    body: PricebookUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    refuse_other_id(body.data.id, book.id)
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        updated = update_pricebook(
            connection,
            store_id,
            book.id,
            body.data.attributes.given(),
            limits=limits,
            now=utc_now(),
        )
    return pricebook_document(updated)


@router.delete(
    "/{pricebook_id}", status_code=204, response_class=Response, responses=error_responses(404)
)
def delete_store_pricebook(
    pricebook_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    with catalog_errors_as_http():
        delete_pricebook(connection, store_id, require_uuid(pricebook_id, "price book"))
    return Response(status_code=204)


@router.post(
    "/{pricebook_id}/replicate",
    status_code=201,
    response_model=PricebookDocument,
    responses=error_responses(400, 404, 409, 422),
)
def replicate_store_pricebook(
    pricebook_id: str,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
    body: PricebookReplicate | None = None,
) -> dict[str, Any]:
    """A new book with this one's prices and modifiers, and the name, description and external
    ref given (without a name, the source's with `(copy)` added).
    """
    source = find_pricebook(connection, store_id, pricebook_id)
    attributes = body.data.attributes.given() if body is not None else {}
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        copy = replicate_pricebook(
            connection, store_id, source.id, attributes, limits=limits, now=utc_now()
        )
    return pricebook_document(copy)
