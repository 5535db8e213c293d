"""Real databases for tests: a migrated SQLite file per test, one PostgreSQL database a run."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine
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
    """Remove every row and every table a test added, back to the migrated, empty schema."""
    ours = {table.name for table in metadata.sorted_tables} | {"alembic_version"}
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        present = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        for extra in sorted(set(present) - ours):
            connection.execute(text(f'DROP TABLE "{extra}"'))
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
