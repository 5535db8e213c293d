"""The statements every job passes through, sent straight to psycopg on PostgreSQL.

A job's claim, the lock of its store's line and its finish; an import's read of its upload,
look-up of the products it names and write of its results; an export's count of a whole
store's products, and its one-chunk files. Short statements, run thousands of times a second,
for which SQLAlchemy's per-statement machinery (an execution context, parameter and result
set-up, the result object) costs more client CPU than the driver and the database together:
a claim took 0.45 ms through SQLAlchemy and 0.22 ms on the driver, measured.

SQLAlchemy still builds and compiles each statement, once; only the execution goes around its
engine. What SQLAlchemy would do on the way is kept: the bind and result conversions of the
statement's column types, and its handling of driver errors (the `handle_error` hooks, the
connection invalidated when it was lost, the error raised as its DBAPIError), so callers see no
difference but the time. Rows have their columns as attributes and `_asdict()`, as a Row does.

Which way a statement goes is this module's decision alone: on SQLite, and with
PXM_DB_DRIVER_PATH off (the engine option `DRIVER_PATH_OPTION`), through SQLAlchemy.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, Dialect, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from pxm_jobs.store.engine import DRIVER_PATH_OPTION

Processor = Callable[[Any], Any]
# What the caller reads of a statement's answer.
ONE_ROW, ALL_ROWS, NO_ROWS = "one row", "all rows", "no rows"


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for the driver, with the conversions SQLAlchemy would apply."""

    text: str
    compiled: SQLCompiler
    bind_processors: Mapping[str, Processor]
    make_row: Callable[[Any], tuple[Any, ...]] | None  # None: the statement returns no rows
    result_processors: tuple[Processor | None, ...]


# Compiled once per statement object and dialect; the statements that come here are built once
# (module constants, or built by a cached function), so this stays as small as they are few.
_COMPILED: dict[tuple[Executable, str], DriverStatement] = {}


def fetch_first(
    connection: Connection, statement: Executable, parameters: Mapping[str, Any]
) -> Any:
    """The statement's first row, or None."""
    if not _takes_driver_path(connection):
        return connection.execute(statement, dict(parameters)).first()
    rows = _run(connection, statement, parameters, returns=ONE_ROW)
    return rows[0] if rows else None


def fetch_all(
    connection: Connection, statement: Executable, parameters: Mapping[str, Any]
) -> list[Any]:
    """Every row of the statement."""
    if not _takes_driver_path(connection):
        return list(connection.execute(statement, dict(parameters)))
    return _run(connection, statement, parameters, returns=ALL_ROWS)


def execute(connection: Connection, statement: Executable, parameters: Mapping[str, Any]) -> None:
    """Run a statement that returns no rows."""
    if not _takes_driver_path(connection):
        connection.execute(statement, dict(parameters))
        return
    _run(connection, statement, parameters, returns=NO_ROWS)


def _takes_driver_path(connection: Connection) -> bool:
    return bool(connection.get_execution_options().get(DRIVER_PATH_OPTION, False))


def _in_autocommit(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _compiled(statement: Executable, dialect: Dialect) -> DriverStatement:
    key = (statement, dialect.name)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(statement, dialect)
    return _COMPILED[key]


def _compile(statement: Any, dialect: Dialect) -> DriverStatement:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    bind_processors = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind_processors[name] = process
    columns = list(getattr(statement, "selected_columns", None) or ())
    if not columns:
        return DriverStatement(compiled.string, compiled, bind_processors, None, ())
    result_processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    names = [column.key for column in columns]
    if not all(isinstance(name, str) and name.isidentifier() for name in names):
        # A row is read by its columns' names, so a column without one (a bare count) is a
        # mistake in the statement, told at its first run, in the tests.
        raise ValueError(f"label every column of a statement for the driver: {names}")
    row_type = namedtuple("DriverRow", names)  # type: ignore[misc]
    return DriverStatement(
        compiled.string, compiled, bind_processors, row_type._make, result_processors
    )


def _run(
    connection: Connection, statement: Executable, parameters: Mapping[str, Any], *, returns: str
) -> list[Any]:
    """Run the statement in the connection's transaction, begun here if none is, as
    SQLAlchemy begins one at a connection's first statement; in autocommit, alone.

    (SQLAlchemy marks a transaction begun even in autocommit; one marked here would outlive a
    lost connection and refuse the connection's next use until rolled back.)"""
    driver_statement = _compiled(statement, connection.dialect)
    if (driver_statement.make_row is None) != (returns == NO_ROWS):
        raise ValueError(f"asked for {returns} of a statement that does not return them")
    values = driver_statement.compiled.construct_params(dict(parameters))
    for name, process in driver_statement.bind_processors.items():
        values[name] = process(values[name])
    if not connection.in_transaction() and not _in_autocommit(connection):
        connection.begin()
    driver = connection.connection.dbapi_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor:
            cursor.execute(driver_statement.text, values)
            if returns == NO_ROWS:
                return []
            found = cursor.fetchall() if returns == ALL_ROWS else cursor.fetchmany(1)
    except psycopg.Error as error:
        # SQLAlchemy's own handling: the `handle_error` hooks, the connection (and the pool's
        # older ones, after a lost connection) invalidated, the error raised as its DBAPIError.
        connection._handle_dbapi_exception(error, driver_statement.text, values, None, None)
        raise  # not reached: the call above raises
    return [_converted(driver_statement, row) for row in found]


def _converted(statement: DriverStatement, row: tuple[Any, ...]) -> tuple[Any, ...]:
    assert statement.make_row is not None
    return statement.make_row(
        value if process is None or value is None else process(value)
        for value, process in zip(row, statement.result_processors, strict=True)
    )
