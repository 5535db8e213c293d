"""Inserting a row only if its key is free, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_if_absent(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert `values` unless a row with the same key exists; True if this call inserted it.

    On PostgreSQL a concurrent, uncommitted insert of the same key makes this wait for that
    transaction and then do nothing, so racing processes never fail on a duplicate key.
    """
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # RETURNING rather than rowcount: drivers need not report a count for an INSERT.
    statement = (
        insert(table).values(values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    )
    return connection.execute(statement).first() is not None
