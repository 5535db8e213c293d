"""Prices of a price book, one at a time, for the Prices API; the caller owns the transaction.

A book holds one price per SKU, and a price's external ref is unique in its book (the same ref
may be used in other books).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, null, select, update
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.filters import EQ, GT, IN, LIKE, LT, FilterTerm, parse_filter
from pxm_jobs.catalog.paging import newest_first_page
from pxm_jobs.catalog.pricebooks.books import unique_values_checked
from pxm_jobs.catalog.pricebooks.errors import PricebookRejected, PriceNotFound
from pxm_jobs.catalog.pricebooks.listing import check_operators, filter_condition
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits, check_price_attributes
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import prices

JSON_COLUMNS = frozenset({"currencies", "sales", "admin_attributes", "shopper_attributes"})
# What `filter` may say on price lists, as Elastic Path documents it for all prices.
PRICE_FILTER_OPERATORS: dict[str, tuple[str, ...]] = {
    "sku": (EQ, IN, LIKE),
    "external_ref": (EQ, IN, LIKE),
    "id": (EQ, IN),
    "created_at": (GT, LT),
    "updated_at": (GT, LT),
}


@dataclass(frozen=True)
class Price:
    id: str
    store_id: str
    pricebook_id: str
    sku: str
    external_ref: str | None
    currencies: dict[str, Any]
    sales: dict[str, Any] | None
    admin_attributes: dict[str, str] | None
    shopper_attributes: dict[str, str] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Price:
        return cls(**{name: row[name] for name in PRICE_COLUMNS})


PRICE_COLUMNS = tuple(field.name for field in fields(Price))


def parse_price_filter(text: str) -> list[FilterTerm]:
    """`eq(sku,...)`, `in(sku,...)`, `like(external_ref,...)`, `gt(updated_at,...)` and so on."""
    terms = parse_filter(
        text,
        attributes={name: name for name in PRICE_FILTER_OPERATORS},
        operators=(EQ, IN, LIKE, GT, LT),
    )
    check_operators(terms, PRICE_FILTER_OPERATORS)
    return terms


def get_price(
    connection: Connection, store_id: str, pricebook_id: str, price_id: str
) -> Price | None:
    row = (
        connection.execute(
            select(prices).where(
                prices.c.store_id == store_id,
                prices.c.pricebook_id == pricebook_id,
                prices.c.id == price_id,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Price.from_row(row)


def list_prices(
    connection: Connection,
    store_id: str,
    pricebook_id: str | None,
    *,
    filters: Sequence[FilterTerm] = (),
    limit: int,
    offset: int,
) -> tuple[list[Price], int]:
    """One page of a book's prices (or of every book's, for None), newest first, and the total."""
    conditions = [prices.c.store_id == store_id]
    if pricebook_id is not None:
        conditions.append(prices.c.pricebook_id == pricebook_id)
    conditions.extend(filter_condition(prices, term) for term in filters)
    rows, total = newest_first_page(connection, prices, conditions, limit=limit, offset=offset)
    return [Price.from_row(row) for row in rows], total


def create_price(
    connection: Connection,
    store_id: str,
    pricebook_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Price:
    """A new price in the book; AlreadyExists if the book has a price for its SKU already."""
    values = _checked(attributes, is_new=True, limits=limits)
    values.update(
        id=str(uuid.uuid4()),
        store_id=store_id,
        pricebook_id=pricebook_id,
        created_at=now,
        updated_at=now,
    )
    with unique_values_checked(connection, prices, pricebook_id, values, None, "price"):
        connection.execute(insert(prices).values(_stored(values)))
    created = get_price(connection, store_id, pricebook_id, values["id"])
    assert created is not None
    return created


def update_price(
    connection: Connection,
    store_id: str,
    pricebook_id: str,
    price_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Price:
    """Change only the attributes given (a map such as `currencies` is replaced whole)."""
    current = _lock_price(connection, store_id, pricebook_id, price_id)
    values = _checked(attributes, is_new=False, limits=limits)
    change = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not change:
        return current
    change["updated_at"] = now
    with unique_values_checked(connection, prices, pricebook_id, change, price_id, "price"):
        connection.execute(
            update(prices)
            .where(prices.c.store_id == store_id, prices.c.id == price_id)
            .values(_stored(change))
        )
    updated = get_price(connection, store_id, pricebook_id, price_id)
    assert updated is not None
    return updated


def delete_price(connection: Connection, store_id: str, pricebook_id: str, price_id: str) -> None:
    result = connection.execute(
        delete(prices).where(
            prices.c.store_id == store_id,
            prices.c.pricebook_id == pricebook_id,
            prices.c.id == price_id,
        )
    )
    if result.rowcount == 0:
        raise PriceNotFound()


def _checked(
    attributes: Mapping[str, Any], *, is_new: bool, limits: PricebookLimits
) -> dict[str, Any]:
    problems: list[JobErrorDetail] = []

    def report(message: str, field: str, code: str) -> None:
        problems.append(JobErrorDetail(message=message, code=code, field=field))

    values = check_price_attributes(attributes, is_new=is_new, limits=limits, report=report)
    if problems:
        raise PricebookRejected(problems)
    return values


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values to write, a JSON column set to nothing being SQL NULL rather than JSON `null`."""
    return {
        name: null() if value is None and name in JSON_COLUMNS else value
        for name, value in values.items()
    }


def _lock_price(connection: Connection, store_id: str, pricebook_id: str, price_id: str) -> Price:
    row = (
        connection.execute(
            select(prices)
            .where(
                prices.c.store_id == store_id,
                prices.c.pricebook_id == pricebook_id,
                prices.c.id == price_id,
            )
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise PriceNotFound()
    return Price.from_row(row)
