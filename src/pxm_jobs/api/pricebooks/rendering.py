"""Price books, prices and price modifiers as JSON:API resources, shaped as Elastic Path's."""

from __future__ import annotations

from typing import Any

from pxm_jobs.catalog.pricebooks.books import Pricebook
from pxm_jobs.catalog.pricebooks.modifiers import Modifier
from pxm_jobs.catalog.pricebooks.prices import Price
from pxm_jobs.clock import format_timestamp

PRICEBOOKS_PATH = "/pcm/pricebooks"


def pricebook_path(pricebook_id: str) -> str:
    return f"{PRICEBOOKS_PATH}/{pricebook_id}"


def price_path(price: Price) -> str:
    return f"{pricebook_path(price.pricebook_id)}/prices/{price.id}"


def modifier_path(modifier: Modifier) -> str:
    return f"{pricebook_path(modifier.pricebook_id)}/modifiers/{modifier.id}"


def render_pricebook(book: Pricebook) -> dict[str, Any]:
    attributes: dict[str, Any] = {"name": book.name}
    _put_given(attributes, description=book.description, external_ref=book.external_ref)
    _put_times(attributes, book)
    return {
        "type": "pricebook",
        "id": book.id,
        "attributes": attributes,
        "meta": {"owner": "store"},
    }


def render_price(price: Price) -> dict[str, Any]:
    attributes: dict[str, Any] = {"sku": price.sku, "currencies": price.currencies}
    _put_given(
        attributes,
        sales=price.sales,
        external_ref=price.external_ref,
        admin_attributes=price.admin_attributes,
        shopper_attributes=price.shopper_attributes,
    )
    _put_times(attributes, price)
    return {
        "type": "product-price",
        "id": price.id,
        "attributes": attributes,
        "meta": {"owner": "store", "pricebook_id": price.pricebook_id},
    }


def render_modifier(modifier: Modifier) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "name": modifier.name,
        "modifier_type": modifier.modifier_type,
        "currencies": modifier.currencies,
    }
    _put_given(attributes, external_ref=modifier.external_ref)
    _put_times(attributes, modifier)
    return {
        "type": "price-modifier",
        "id": modifier.id,
        "attributes": attributes,
        "meta": {"owner": "store"},
    }


def _put_given(attributes: dict[str, Any], **values: Any) -> None:
    """Add the attributes that have a value: one without is left out, not sent as null."""
    attributes.update((name, value) for name, value in values.items() if value is not None)


def _put_times(attributes: dict[str, Any], item: Pricebook | Price | Modifier) -> None:
    attributes["created_at"] = format_timestamp(item.created_at)
    attributes["updated_at"] = format_timestamp(item.updated_at)
