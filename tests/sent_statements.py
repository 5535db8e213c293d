"""The SQL a block of code sends, whichever way it goes: through SQLAlchemy or the driver path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from pxm_jobs.store import driver_path


@contextmanager
def statements_sent(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The text of each statement `engine` sends during the block, in order."""
    sent: list[str] = []

    def through_sqlalchemy(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    run_on_driver = driver_path._run

    def on_driver(connection: Connection, statement: Any, parameters: Any, **how: Any) -> Any:
        if connection.engine is engine:
            sent.append(driver_path._compiled(statement, connection.dialect).text)
        return run_on_driver(connection, statement, parameters, **how)

    event.listen(engine, "before_cursor_execute", through_sqlalchemy)
    with monkeypatch.context() as patches:
        patches.setattr(driver_path, "_run", on_driver)
        try:
            yield sent
        finally:
            event.remove(engine, "before_cursor_execute", through_sqlalchemy)
