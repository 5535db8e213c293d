"""A store's price books, one at a time, for the Price Books API; the caller owns the transaction.

Names and external refs are unique in a store: checked first to name the book in the way, and
the unique indexes catch what a concurrent write slips past the check.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.filters import EQ, IN, FilterTerm, parse_filter
from pxm_jobs.catalog.paging import newest_first_page
from pxm_jobs.catalog.pricebooks.errors import AlreadyExists, PricebookNotFound, PricebookRejected
from pxm_jobs.catalog.pricebooks.listing import filter_condition
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits, check_pricebook_attributes
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import pricebooks

UNIQUE_ATTRIBUTES = ("name", "external_ref")
PRICEBOOK_FILTER_ATTRIBUTES = {"external_ref": "external_ref", "name": "name", "id": "id"}


@dataclass(frozen=True)
class Pricebook:
    id: str
    store_id: str
    name: str
    description: str | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Pricebook:
        return cls(**{name: row[name] for name in PRICEBOOK_COLUMNS})


PRICEBOOK_COLUMNS = tuple(field.name for field in fields(Pricebook))


def parse_pricebook_filter(text: str) -> list[FilterTerm]:
    """`eq(external_ref,...)`, `eq(name,...)`, `in(...)` of either, joined by `:`."""
    return parse_filter(text, attributes=PRICEBOOK_FILTER_ATTRIBUTES, operators=(EQ, IN))


def get_pricebook(connection: Connection, store_id: str, pricebook_id: str) -> Pricebook | None:
    row = (
        connection.execute(
            select(pricebooks).where(
                pricebooks.c.store_id == store_id, pricebooks.c.id == pricebook_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Pricebook.from_row(row)


def require_pricebook(connection: Connection, store_id: str, pricebook_id: str) -> Pricebook:
    found = get_pricebook(connection, store_id, pricebook_id)
    if found is None:
        raise PricebookNotFound()
    return found


def list_pricebooks(
    connection: Connection,
    store_id: str,
    *,
    filters: Sequence[FilterTerm] = (),
    limit: int,
    offset: int,
) -> tuple[list[Pricebook], int]:
    """One page of the store's price books, newest first, and how many match in all."""
    conditions = [pricebooks.c.store_id == store_id]
    conditions.extend(filter_condition(pricebooks, term) for term in filters)
    rows, total = newest_first_page(connection, pricebooks, conditions, limit=limit, offset=offset)
    return [Pricebook.from_row(row) for row in rows], total


def create_pricebook(
    connection: Connection,
    store_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Pricebook:
    values = checked_values(attributes, is_new=True, limits=limits)
    values.update(id=str(uuid.uuid4()), store_id=store_id, created_at=now, updated_at=now)
    with unique_values_checked(connection, pricebooks, store_id, values, None, "price book"):
        connection.execute(insert(pricebooks).values(values))
    return require_pricebook(connection, store_id, values["id"])


def update_pricebook(
    connection: Connection,
    store_id: str,
    pricebook_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Pricebook:
    """Change only the attributes given; a change to nothing leaves the book as it was."""
    current = _lock_pricebook(connection, store_id, pricebook_id)
    values = checked_values(attributes, is_new=False, limits=limits)
    change = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not change:
        return current
    change["updated_at"] = now
    with unique_values_checked(connection, pricebooks, store_id, change, current.id, "price book"):
        connection.execute(
            update(pricebooks)
            .where(pricebooks.c.store_id == store_id, pricebooks.c.id == current.id)
            .values(change)
        )
    return require_pricebook(connection, store_id, current.id)


def delete_pricebook(connection: Connection, store_id: str, pricebook_id: str) -> None:
    """Delete the book; the database deletes its prices and modifiers with it."""
    result = connection.execute(
        delete(pricebooks).where(pricebooks.c.store_id == store_id, pricebooks.c.id == pricebook_id)
    )
    if result.rowcount == 0:
        raise PricebookNotFound()


def checked_values(
    attributes: Mapping[str, Any], *, is_new: bool, limits: PricebookLimits
) -> dict[str, Any]:
    problems: list[JobErrorDetail] = []

    def report(message: str, field: str, code: str) -> None:
        problems.append(JobErrorDetail(message=message, code=code, field=field))

    values = check_pricebook_attributes(attributes, is_new=is_new, limits=limits, report=report)
    if problems:
        raise PricebookRejected(problems)
    return values


def _lock_pricebook(connection: Connection, store_id: str, pricebook_id: str) -> Pricebook:
    """The book, locked until the transaction ends, so two updates apply one after another."""
    row = (
        connection.execute(
            select(pricebooks)
            .where(pricebooks.c.store_id == store_id, pricebooks.c.id == pricebook_id)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise PricebookNotFound()
    return Pricebook.from_row(row)


@contextmanager
def unique_values_checked(
    connection: Connection,
    table: Table,
    scope: str,
    values: Mapping[str, Any],
    own_id: str | None,
    what: str,
) -> Iterator[None]:
    """Refuse names and external refs another row of `scope` holds, before the write in the
    block and, if a concurrent write took one meanwhile, after it (the savepoint keeps the
    transaction usable to say which).

    `scope` is a store for price books and a price book for what lives in one; `table` has
    `name` or `sku` and `external_ref` columns unique within it.
    """
    _refuse_taken(connection, table, scope, values, own_id, what)
    try:
        with connection.begin_nested():
            yield
    except IntegrityError as error:
        _refuse_taken(connection, table, scope, values, own_id, what)
        raise AlreadyExists(
            "", "", f"{what}s changed while this request ran; send it again"
        ) from error


def _refuse_taken(
    connection: Connection,
    table: Table,
    scope: str,
    values: Mapping[str, Any],
    own_id: str | None,
    what: str,
) -> None:
    scope_column = table.c.store_id if table is pricebooks else table.c.pricebook_id
    for name in ("name", "sku", "external_ref"):
        value = values.get(name)
        if value is None or name not in table.c:
            continue
        holder = connection.execute(
            select(table.c.id).where(scope_column == scope, table.c[name] == value)
        ).scalar()
        if holder is not None and holder != own_id:
            where = "this store" if table is pricebooks else "this price book"
            raise AlreadyExists(
                name,
                value,
                f"{what} {holder} in {where} already has the {name} {value!r}; "
                f"a {name} must be unique in {where}",
            )
