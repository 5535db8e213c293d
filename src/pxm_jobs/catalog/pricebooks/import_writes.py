"""Writing what a price book import planned: new rows in bulk, changed rows in bulk.

Books are few and go through Core; prices and modifiers go through `bulk`. Entries whose
values would change nothing are left alone, and are not counted as updated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, update

from pxm_jobs.catalog.pricebooks.bulk import insert_rows, update_rows
from pxm_jobs.catalog.pricebooks.import_objects import JSON_COLUMNS
from pxm_jobs.catalog.pricebooks.import_plan import Planned
from pxm_jobs.catalog.pricebooks.spool import ValueSpool
from pxm_jobs.store.tables import price_modifiers, pricebooks, prices

BOOK_COLUMNS = ("name", "description", "external_ref")


@dataclass(frozen=True)
class Counts:
    created: int
    updated: int


@dataclass(frozen=True)
class ChildTable:
    """A table of what lives in a price book, and its columns unique in the book."""

    table: Table
    columns: tuple[str, ...]  # every column, `id` first, as rows are written
    unique: tuple[str, ...]

    @property
    def changeable(self) -> tuple[str, ...]:
        fixed = {"id", "store_id", "pricebook_id", "created_at", "updated_at"}
        return tuple(name for name in self.columns if name not in fixed)


PRICES = ChildTable(
    prices,
    (
        "id",
        "store_id",
        "pricebook_id",
        "sku",
        "external_ref",
        "currencies",
        "sales",
        "admin_attributes",
        "shopper_attributes",
        "created_at",
        "updated_at",
    ),
    ("sku", "external_ref"),
)
MODIFIERS = ChildTable(
    price_modifiers,
    (
        "id",
        "store_id",
        "pricebook_id",
        "name",
        "modifier_type",
        "external_ref",
        "currencies",
        "created_at",
        "updated_at",
    ),
    ("name", "external_ref"),
)


def write_books(
    connection: Connection, entries: Sequence[Planned], now: datetime, *, dry_run: bool
) -> Counts:
    new = [entry for entry in entries if entry.existing is None]
    changes: list[tuple[str, dict[str, Any]]] = []
    for entry in entries:
        if entry.existing is None:
            continue
        change = {
            name: value
            for name, value in entry.values.items()
            if name in BOOK_COLUMNS and entry.existing[name] != value
        }
        if change:
            changes.append((entry.id, {**change, "updated_at": now}))
    if not dry_run:
        if new:
            rows = [
                {
                    **{name: entry.values.get(name) for name in BOOK_COLUMNS},
                    "id": entry.id,
                    "store_id": entry.scope,
                    "created_at": now,
                    "updated_at": now,
                }
                for entry in new
            ]
            connection.execute(insert(pricebooks), rows)
        _free_values(connection, pricebooks, entries, ("name", "external_ref"))
        for book_id, change in changes:
            connection.execute(update(pricebooks).where(pricebooks.c.id == book_id).values(change))
    return Counts(len(new), len(changes))


def write_children(
    connection: Connection,
    kind: ChildTable,
    store_id: str,
    entries: Sequence[Planned],
    now: datetime,
    spool: ValueSpool,
    *,
    dry_run: bool,
) -> Counts:
    """Insert the new prices (or modifiers) and apply the changes to existing ones."""
    new = [entry for entry in entries if entry.existing is None]
    changed = [
        entry
        for entry in entries
        if entry.existing is not None and _changes_something(entry, spool)
    ]
    if not dry_run:
        _free_values(connection, kind.table, changed, kind.unique)
        columns = ("id", *kind.changeable, "updated_at")
        update_rows(
            connection,
            kind.table,
            columns,
            (
                [entry.id, *(_stored(entry, name, spool) for name in kind.changeable), now]
                for entry in changed
            ),
        )
        rows = (_new_row(kind, entry, store_id, now, spool) for entry in new)
        insert_rows(connection, kind.table, kind.columns, rows)
    return Counts(len(new), len(changed))


def _new_row(
    kind: ChildTable, entry: Planned, store_id: str, now: datetime, spool: ValueSpool
) -> list[Any]:
    given: dict[str, Any] = {"id": entry.id, "store_id": store_id, "pricebook_id": entry.scope}
    given.update(created_at=now, updated_at=now)
    return [given[name] if name in given else _given(entry, name, spool) for name in kind.columns]


def _given(entry: Planned, name: str, spool: ValueSpool) -> Any:
    """What the file gives for the column (JSON text read back from the spool), or None."""
    value = entry.values.get(name)
    return spool.get(value) if value is not None and name in JSON_COLUMNS else value


def _changes_something(entry: Planned, spool: ValueSpool) -> bool:
    """Whether the values differ from the stored row's (JSON columns compared as data: the
    row holds them as stored text, whose spacing and key order need not be the import's).
    """
    existing = entry.existing
    assert existing is not None
    for name in entry.values:
        value, stored = _given(entry, name, spool), existing[name]
        if name in JSON_COLUMNS and value is not None and stored is not None:
            if value != stored and json.loads(value) != json.loads(stored):
                return True
        elif stored != value:
            return True
    return False


def _stored(entry: Planned, name: str, spool: ValueSpool) -> Any:
    """The column's value after the import (JSON columns as text)."""
    if name in entry.values:
        return _given(entry, name, spool)
    assert entry.existing is not None
    return entry.existing[name]


def _free_values(
    connection: Connection, table: Table, entries: Sequence[Planned], unique: Sequence[str]
) -> None:
    """Move values out of the way that one changed row gives up and another takes.

    A unique index is checked row by row as an update goes, so two rows swapping their SKUs
    would collide halfway; the rows giving a value up get a placeholder first.
    """
    for column in unique:
        wanted = {
            (entry.scope, entry.values[column])
            for entry in entries
            if entry.values.get(column) is not None
        }
        freed = [
            entry
            for entry in entries
            if entry.existing is not None
            and column in entry.values
            and entry.existing[column] != entry.values[column]
            and (entry.scope, entry.existing[column]) in wanted
        ]
        if not freed:
            continue
        placeholder = table.c[column].nullable
        statement = update(table).where(table.c.id == bindparam("p_id"))
        connection.execute(
            statement.values({column: bindparam("p_value")}),
            [
                {"p_id": entry.id, "p_value": None if placeholder else f"~{entry.id}"}
                for entry in freed
            ],
        )
