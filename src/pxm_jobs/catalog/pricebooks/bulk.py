"""Set-based writes for the price book import, straight through the driver.

New rows go in with COPY on PostgreSQL and one executemany on SQLite. Changed rows are copied
into a staging table and applied by one `UPDATE ... FROM` on PostgreSQL, and by one executemany
on SQLite, where a statement costs no round trip. Every row is a full row of `columns`, JSON
columns given as JSON text, timestamps as aware datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError

Row = Sequence[Any]


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(columns)
    plain = _plain_rows(connection, table, columns, rows)
    statement = ""
    try:
        if connection.dialect.name == "postgresql":
            statement = f"COPY {table.name} ({names}) FROM STDIN"
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for values in plain:
                    copy.write_row(values)
        else:
            # Table and column names are the schema's own; every value is bound.
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
            driver.executemany(statement, plain)
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        # Raised by the driver itself: give callers the error Core would have raised.
        raise IntegrityError(statement, None, error) from error


def update_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    """Set `columns` of the rows whose `id` (the first column) each row names."""
    assert columns[0] == "id"
    driver = connection.connection.driver_connection
    assert driver is not None
    plain = _plain_rows(connection, table, columns, rows)
    changed = columns[1:]
    statement = ""
    try:
        if connection.dialect.name == "postgresql":
            staging = f"staging_{table.name}"
            with driver.cursor() as cursor:
                # Names are the schema's own; the rows arrive by COPY, never as SQL text.
                # Made from a query, it has the columns' types but none of their constraints.
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "  # noqa: S608
                    f"SELECT {', '.join(columns)} FROM {table.name} WITH NO DATA"
                )
                cursor.execute(f"TRUNCATE {staging}")
                with cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN") as copy:
                    for values in plain:
                        copy.write_row(values)
                assignments = ", ".join(f"{name} = s.{name}" for name in changed)
                statement = (
                    f"UPDATE {table.name} AS t SET {assignments} "  # noqa: S608
                    f"FROM {staging} AS s WHERE t.id = s.id"
                )
                cursor.execute(statement)
        else:
            assignments = ", ".join(f"{name} = ?" for name in changed)
            statement = f"UPDATE {table.name} SET {assignments} WHERE id = ?"  # noqa: S608
            driver.executemany(statement, ((*row[1:], row[0]) for row in plain))
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error


def _plain_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> Iterator[tuple[Any, ...]]:
    """Rows as the driver takes them: timestamps exactly as the column type would store them."""
    convert = _stored_datetime(connection, table)
    moments = [i for i, name in enumerate(columns) if name in ("created_at", "updated_at")]
    # An import gives every row it writes one of a few timestamps: convert each once.
    converted: dict[datetime, Any] = {}
    for row in rows:
        values = list(row)
        for position in moments:
            moment = values[position]
            if moment not in converted:
                converted[moment] = convert(moment)
            values[position] = converted[moment]
        yield tuple(values)


def _stored_datetime(connection: Connection, table: Table) -> Callable[[datetime], Any]:
    if connection.dialect.name == "postgresql":
        return _naive_utc
    dialect = connection.dialect
    convert = table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    return convert or _naive_utc


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
