"""Statements executed straight on psycopg, for the few that every job passes through.

SQLAlchemy builds and compiles these statements, once; only their execution goes around its
engine, whose per-statement machinery (an execution context, parameter and result set-up, the
result object) costs more client CPU than the driver and the database together for a short
statement: a claim took 0.45 ms through SQLAlchemy and 0.22 ms on the driver, measured on
PostgreSQL. What SQLAlchemy would do on the way is kept: its bind and result conversions of the
statement's column types, and its handling of driver errors (raised as SQLAlchemy's, the
connection invalidated when it was lost), so callers see no difference but the time.

PostgreSQL only: SQLite goes through SQLAlchemy as every other statement does.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for the driver, with the conversions SQLAlchemy would apply."""

    text: str
    compiled: SQLCompiler
    bind_processors: Mapping[str, Processor]
    row_type: Callable[..., tuple[Any, ...]]
    result_processors: tuple[Processor | None, ...]


def compile_for_driver(statement: Select[Any], dialect: Dialect) -> DriverStatement:
    """Compile a SELECT (or a data-modifying CTE read by one) for `dialect`'s driver."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    bind_processors = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind_processors[name] = process
    columns = list(statement.selected_columns)
    result_processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    row_type = namedtuple("DriverRow", [column.key for column in columns])  # type: ignore[misc]
    return DriverStatement(
        compiled.string, compiled, bind_processors, row_type._make, result_processors
    )


def first_row(
    connection: Connection, statement: DriverStatement, parameters: Mapping[str, Any]
) -> Any | None:
    """The statement's first row (its columns by name, as a Row has them), or None.

    Runs in the connection's transaction, or as it runs in autocommit, like any statement.
    """
    values = statement.compiled.construct_params(dict(parameters))
    for name, process in statement.bind_processors.items():
        values[name] = process(values[name])
    driver = connection.connection.dbapi_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor:
            cursor.execute(statement.text, values)
            found = cursor.fetchone()
    except psycopg.Error as error:
        # SQLAlchemy's own handling: the `handle_error` hooks, the connection (and the pool's
        # older ones, after a lost connection) invalidated, the error raised as its DBAPIError.
        connection._handle_dbapi_exception(error, statement.text, values, None, None)
        raise  # not reached: the call above raises
    if found is None:
        return None
    return statement.row_type(
        [
            value if process is None or value is None else process(value)
            for value, process in zip(found, statement.result_processors, strict=True)
        ]
    )
