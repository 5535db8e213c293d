"""Finding many rows by one column in a few queries, for the price book import."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, Table, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.text_rules import is_storable

# As in the product import: SQLite's bound-variable limit is the binding constraint there; on
# PostgreSQL one array parameter per batch keeps plans good even on fresh statistics.
SQLITE_LOOKUP_BATCH = 500
POSTGRES_LOOKUP_BATCH = 50_000


def find_rows(
    connection: Connection,
    table: Table,
    scope: list[ColumnElement[bool]],
    column: str,
    values: set[str],
    *,
    books: Sequence[str] = (),
    selected: Sequence[ColumnElement[Any]] = (),
) -> list[RowMapping]:
    """The rows of `table` in `scope` (and in `books`, if given) whose `column` is in `values`;
    all their columns, or the `selected` ones.

    Values no column can hold (a file may carry a NUL) match no row and are not asked for:
    PostgreSQL would refuse the whole query.
    """
    found: list[RowMapping] = []
    query = select(*selected) if selected else select(table)
    wanted = sorted(value for value in values if is_storable(value))
    in_any_book = [book_id for book_id in books if is_storable(book_id)]
    if books and not in_any_book:
        return found
    book_batches = (
        list(_batches(connection, table.c.pricebook_id, in_any_book)) if books else [None]
    )
    for condition in _batches(connection, table.c[column], wanted):
        for in_books in book_batches:
            where = [*scope, condition] + ([in_books] if in_books is not None else [])
            found.extend(connection.execute(query.where(*where)).mappings())
    return found


def _batches(
    connection: Connection, column: Any, values: Sequence[str]
) -> Iterator[ColumnElement[bool]]:
    if connection.dialect.name == "postgresql":
        for start in range(0, len(values), POSTGRES_LOOKUP_BATCH):
            batch = list(values[start : start + POSTGRES_LOOKUP_BATCH])
            yield column == any_(bindparam(None, batch, type_=ARRAY(String())))
        return
    for start in range(0, len(values), SQLITE_LOOKUP_BATCH):
        yield column.in_(values[start : start + SQLITE_LOOKUP_BATCH])
