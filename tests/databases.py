"""Real databases for tests: a migrated SQLite file per test, one PostgreSQL database a run."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import is_sqlite, make_engine
from pxm_jobs.store.migrate import upgrade_database
from pxm_jobs.store.tables import metadata

POSTGRES_ADMIN_URL = os.environ.get(
    "PXM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_answers() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def postgres_database_url(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"pxm_jobs_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres_database_url(name)
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade_database(engine)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    upgrade_database(engine)
    engine.dispose()
    return path


def copy_sqlite(template: Path, directory: Path) -> str:
    target = directory / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def empty_postgres(engine: Engine) -> None:
    """Remove every row and every table a test added, back to the migrated, empty schema.

    Rows go by DELETE, children before parents: a test leaves a few rows, and deleting them
    takes milliseconds where TRUNCATE of every table takes a tenth of a second (it makes new
    files for each), a cost paid by every PostgreSQL test. Sequences run on; ids never repeat.
    """
    ours = {table.name for table in metadata.sorted_tables} | {"alembic_version"}
    with engine.begin() as connection:
        present = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        for extra in sorted(set(present) - ours):
            connection.execute(text(f'DROP TABLE "{extra}"'))
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


BLOCKED_TIMEOUT_SECONDS = 20.0


def wait_until_blocked(engine: Engine, count: int) -> None:
    """Return once `count` transactions wait on a lock (seen on PostgreSQL; assumed on SQLite)."""
    if is_sqlite(engine):
        time.sleep(0.3)  # nothing to observe; they wait in BEGIN IMMEDIATE whatever their timing
        return
    deadline = time.monotonic() + BLOCKED_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} transactions ever waited on the first one")
