"""Price modifiers of a price book, for the Price Book Modifiers API; the caller owns the
transaction. A modifier's name (case-sensitive) and external ref are unique in its book.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.filters import EQ, IN, FilterTerm, parse_filter
from pxm_jobs.catalog.paging import newest_first_page
from pxm_jobs.catalog.pricebooks.books import unique_values_checked
from pxm_jobs.catalog.pricebooks.errors import ModifierNotFound, PricebookRejected
from pxm_jobs.catalog.pricebooks.listing import check_operators, filter_condition
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits, check_modifier_attributes
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import price_modifiers

MODIFIER_FILTER_OPERATORS: dict[str, tuple[str, ...]] = {
    "name": (EQ, IN),
    "external_ref": (EQ, IN),
}


@dataclass(frozen=True)
class Modifier:
    id: str
    store_id: str
    pricebook_id: str
    name: str
    modifier_type: str
    external_ref: str | None
    currencies: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Modifier:
        return cls(**{name: row[name] for name in MODIFIER_COLUMNS})


MODIFIER_COLUMNS = tuple(field.name for field in fields(Modifier))


def parse_modifier_filter(text: str) -> list[FilterTerm]:
    """`eq(name,...)` or `eq(external_ref,...)` (or `in`), joined by `:`."""
    terms = parse_filter(
        text, attributes={name: name for name in MODIFIER_FILTER_OPERATORS}, operators=(EQ, IN)
    )
    check_operators(terms, MODIFIER_FILTER_OPERATORS)
    return terms


def get_modifier(
    connection: Connection, store_id: str, pricebook_id: str, modifier_id: str
) -> Modifier | None:
    row = (
        connection.execute(
            select(price_modifiers).where(
                price_modifiers.c.store_id == store_id,
                price_modifiers.c.pricebook_id == pricebook_id,
                price_modifiers.c.id == modifier_id,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Modifier.from_row(row)


def list_modifiers(
    connection: Connection,
    store_id: str,
    pricebook_id: str,
    *,
    filters: Sequence[FilterTerm] = (),
    limit: int,
    offset: int,
) -> tuple[list[Modifier], int]:
    """One page of a book's modifiers, newest first, and how many match in all."""
    conditions = [
        price_modifiers.c.store_id == store_id,
        price_modifiers.c.pricebook_id == pricebook_id,
    ]
    conditions.extend(filter_condition(price_modifiers, term) for term in filters)
    rows, total = newest_first_page(
        connection, price_modifiers, conditions, limit=limit, offset=offset
    )
    return [Modifier.from_row(row) for row in rows], total


def create_modifier(
    connection: Connection,
    store_id: str,
    pricebook_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Modifier:
    """A new modifier in the book; AlreadyExists if the book has one of its name already."""
    values = _checked(attributes, is_new=True, limits=limits)
    values.update(
        id=str(uuid.uuid4()),
        store_id=store_id,
        pricebook_id=pricebook_id,
        created_at=now,
        updated_at=now,
    )
    with unique_values_checked(
        connection, price_modifiers, pricebook_id, values, None, "price modifier"
    ):
        connection.execute(insert(price_modifiers).values(values))
    created = get_modifier(connection, store_id, pricebook_id, values["id"])
    assert created is not None
    return created


def update_modifier(
    connection: Connection,
    store_id: str,
    pricebook_id: str,
    modifier_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Modifier:
    """Change only the attributes given (`currencies` is replaced whole)."""
    current = _lock_modifier(connection, store_id, pricebook_id, modifier_id)
    values = _checked(attributes, is_new=False, limits=limits)
    change = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not change:
        return current
    change["updated_at"] = now
    with unique_values_checked(
        connection, price_modifiers, pricebook_id, change, modifier_id, "price modifier"
    ):
        connection.execute(
            update(price_modifiers)
            .where(price_modifiers.c.store_id == store_id, price_modifiers.c.id == modifier_id)
            .values(change)
        )
    updated = get_modifier(connection, store_id, pricebook_id, modifier_id)
    assert updated is not None
    return updated


def delete_modifier(
    connection: Connection, store_id: str, pricebook_id: str, modifier_id: str
) -> None:
    result = connection.execute(
        delete(price_modifiers).where(
            price_modifiers.c.store_id == store_id,
            price_modifiers.c.pricebook_id == pricebook_id,
            price_modifiers.c.id == modifier_id,
        )
    )
    if result.rowcount == 0:
        raise ModifierNotFound()


def _checked(
    attributes: Mapping[str, Any], *, is_new: bool, limits: PricebookLimits
) -> dict[str, Any]:
    problems: list[JobErrorDetail] = []

    def report(message: str, field: str, code: str) -> None:
        problems.append(JobErrorDetail(message=message, code=code, field=field))

    values = check_modifier_attributes(attributes, is_new=is_new, limits=limits, report=report)
    if problems:
        raise PricebookRejected(problems)
    return values


def _lock_modifier(
    connection: Connection, store_id: str, pricebook_id: str, modifier_id: str
) -> Modifier:
    row = (
        connection.execute(
            select(price_modifiers)
            .where(
                price_modifiers.c.store_id == store_id,
                price_modifiers.c.pricebook_id == pricebook_id,
                price_modifiers.c.id == modifier_id,
            )
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ModifierNotFound()
    return Modifier.from_row(row)
