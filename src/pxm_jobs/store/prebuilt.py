"""Statements built once per dialect and reused with bound parameters.

For the statements every job passes through: building one costs more client time than the
database spends running it (a third of a claim, measured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from pxm_jobs.store.driver_path import DriverStatement, compile_for_driver

_BUILT: dict[tuple[str, str], Any] = {}
_COMPILED: dict[tuple[str, str], DriverStatement] = {}


def statement_for(connection: Connection, build: Callable[[str], Any]) -> Any:
    """`build(dialect name)`, built on first use for the dialect of `connection`."""
    key = (build.__qualname__, connection.dialect.name)
    if key not in _BUILT:
        _BUILT[key] = build(connection.dialect.name)
    return _BUILT[key]


def driver_statement_for(connection: Connection, build: Callable[[str], Any]) -> DriverStatement:
    """`build`'s statement compiled for the driver of `connection`, compiled on first use."""
    key = (build.__qualname__, connection.dialect.name)
    if key not in _COMPILED:
        _COMPILED[key] = compile_for_driver(statement_for(connection, build), connection.dialect)
    return _COMPILED[key]
