"""Replicating a price book: a new book with the source's prices and modifiers, in one copy
statement per table, whatever their number.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    func,
    insert,
    literal,
    literal_column,
    select,
)

from pxm_jobs.catalog.pricebooks.books import (
    Pricebook,
    checked_values,
    require_pricebook,
    unique_values_checked,
)
from pxm_jobs.catalog.pricebooks.rules import PricebookLimits
from pxm_jobs.store.tables import price_modifiers, pricebooks, prices

# A version 4 UUID made by SQLite itself: 122 random bits, with the version and variant set.
_SQLITE_UUID4 = literal_column(
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || "
    "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || "
    "'-' || lower(hex(randomblob(6)))",
    String,
)


def replicate_pricebook(
    connection: Connection,
    store_id: str,
    source_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: PricebookLimits,
    now: datetime,
) -> Pricebook:
    """A copy of the book with the given name, description and external ref.

    Without a name the copy is named after its source, `(copy)` added (names are unique); the
    source's external ref is not copied, being unique too. Every price and modifier is copied
    under a new id, keeping its own external ref (unique only within its book).
    """
    source = require_pricebook(connection, store_id, source_id)
    given = checked_values(attributes, is_new=False, limits=limits)
    values = {
        "name": given.get("name") or f"{source.name} (copy)",
        "description": given.get("description", source.description),
        "external_ref": given.get("external_ref"),
    }
    copy_id = str(uuid.uuid4())
    values.update(id=copy_id, store_id=store_id, created_at=now, updated_at=now)
    with unique_values_checked(connection, pricebooks, store_id, values, None, "price book"):
        connection.execute(insert(pricebooks).values(values))
    for table in (prices, price_modifiers):
        _copy_rows(connection, table, source.id, copy_id, now)
    return require_pricebook(connection, store_id, copy_id)


def _copy_rows(
    connection: Connection, table: Table, source_id: str, copy_id: str, now: datetime
) -> None:
    new_id: ColumnElement[Any] = (
        func.gen_random_uuid().cast(table.c.id.type)
        if connection.dialect.name == "postgresql"
        else _SQLITE_UUID4
    )
    copied = [
        name
        for name in table.c.keys()  # noqa: SIM118 - the names, not the columns
        if name not in ("id", "pricebook_id", "created_at", "updated_at")
    ]
    query = select(
        new_id,
        literal(copy_id, table.c.pricebook_id.type),
        *(table.c[name] for name in copied),
        literal(now, table.c.created_at.type),
        literal(now, table.c.updated_at.type),
    ).where(table.c.pricebook_id == source_id)
    connection.execute(
        insert(table).from_select(
            ["id", "pricebook_id", *copied, "created_at", "updated_at"], query
        )
    )
