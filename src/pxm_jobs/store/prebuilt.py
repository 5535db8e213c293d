"""Statements built once per dialect and reused with bound parameters.

For the statements every job passes through: building one costs more client time than the
database spends running it (a third of a claim, measured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

_BUILT: dict[tuple[str, str], Any] = {}


def statement_for(connection: Connection, build: Callable[[str], Any]) -> Any:
    """`build(dialect name)`, built on first use for the dialect of `connection`."""
    key = (build.__qualname__, connection.dialect.name)
    if key not in _BUILT:
        _BUILT[key] = build(connection.dialect.name)
    return _BUILT[key]
