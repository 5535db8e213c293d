"""Prices: of one price book (create, read, change, delete), and of all of a store's books."""

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
from pxm_jobs.api.pricebooks.rendering import price_path, render_price
from pxm_jobs.api.pricebooks.schemas import (
    PriceCreate,
    PriceDocument,
    PriceListDocument,
    PriceUpdate,
)
from pxm_jobs.catalog.pricebooks.prices import (
    Price,
    create_price,
    delete_price,
    get_price,
    list_prices,
    parse_price_filter,
    update_price,
)
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["prices"])

PriceFilterQuery = Annotated[
    str | None,
    Query(
        description="Terms joined by `:`: `eq`/`in`/`like` on sku and external_ref, `eq`/`in` "
        "on id, `gt`/`lt` on created_at and updated_at, e.g. `in(sku,shoe-1,shoe-2)`.",
    ),
]


def price_document(price: Price) -> dict[str, Any]:
    return {"data": render_price(price), "links": {"self": price_path(price)}}


def _read_filter(text: str | None) -> list[Any]:
    with catalog_errors_as_http():
        return parse_price_filter(text) if text else []


@router.get("/prices", response_model=PriceListDocument, responses=error_responses(400))
def list_store_prices(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: PriceFilterQuery = None,
) -> dict[str, Any]:
    """The prices of every price book of the store, newest first."""
    filters = _read_filter(filter)
    found, total = list_prices(
        connection, store_id, None, filters=filters, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_price(price) for price in found], total, page)


@router.get(
    "/{pricebook_id}/prices",
    response_model=PriceListDocument,
    responses=error_responses(400, 404),
)
def list_pricebook_prices(
    request: Request,
    pricebook_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: PriceFilterQuery = None,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    filters = _read_filter(filter)
    found, total = list_prices(
        connection, store_id, book.id, filters=filters, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_price(price) for price in found], total, page)


@router.post(
    "/{pricebook_id}/prices",
    status_code=201,
    response_model=PriceDocument,
    responses=error_responses(400, 404, 409, 422),
)
def create_pricebook_price(
    pricebook_id: str,
    body: PriceCreate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A price for a SKU the book has no price for yet (else 409: update that one instead)."""
    book = find_pricebook(connection, store_id, pricebook_id)
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        price = create_price(
            connection,
            store_id,
            book.id,
            body.data.attributes.given(),
            limits=limits,
            now=utc_now(),
        )
    return price_document(price)


@router.get(
    "/{pricebook_id}/prices/{price_id}",
    response_model=PriceDocument,
    responses=error_responses(404),
)
def show_pricebook_price(
    pricebook_id: str, price_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    price = get_price(connection, store_id, book.id, require_uuid(price_id, "price"))
    if price is None:
        raise not_found("price")
    return price_document(price)


@router.put(
    "/{pricebook_id}/prices/{price_id}",
    response_model=PriceDocument,
    responses=error_responses(400, 404, 409, 422),
)
def update_pricebook_price(
    pricebook_id: str,
    price_id: str,
    body: PriceUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    book = find_pricebook(connection, store_id, pricebook_id)
    path_id = require_uuid(price_id, "price")
    refuse_other_id(body.data.id, path_id)
    limits = PricebookLimits.from_settings(settings)
    with catalog_errors_as_http():
        price = update_price(
            connection,
            store_id,
            book.id,
            path_id,
            body.data.attributes.given(),
            limits=limits,
            now=utc_now(),
        )
    return price_document(price)


@router.delete(
    "/{pricebook_id}/prices/{price_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(404),
)
def delete_pricebook_price(
    pricebook_id: str, price_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    book = find_pricebook(connection, store_id, pricebook_id)
    with catalog_errors_as_http():
        delete_price(connection, store_id, book.id, require_uuid(price_id, "price"))
    return Response(status_code=204)
