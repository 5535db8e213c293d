"""One page of a store's records, in creation order either way, with how many match in all.

Every list of the API pages the same way (`page[limit]`, `page[offset]`, `meta.results.total`),
so the two statements behind a page live here once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, RowMapping, Table, func, select


def newest_first_page(
    connection: Connection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """The rows of `table` matching `conditions`, newest first (ties by id), and their total."""
    order = (table.c.created_at.desc(), table.c.id.desc())
    return _page(connection, table, conditions, order, limit, offset)


def oldest_first_page(
    connection: Connection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """The rows of `table` matching `conditions`, oldest first (ties by id), and their total."""
    order = (table.c.created_at, table.c.id)
    return _page(connection, table, conditions, order, limit, offset)


def _page(
    connection: Connection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    order: tuple[ColumnElement[object], ...],
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    rows = connection.execute(
        select(table).where(*conditions).order_by(*order).limit(limit).offset(offset)
    ).mappings()
    page = list(rows)
    total = connection.execute(
        select(func.count()).select_from(table).where(*conditions)
    ).scalar_one()
    return page, total
