"""Bringing a database's schema to the newest migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from pxm_jobs.store.engine import write_transaction

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_database(engine: Engine) -> None:
    """Apply every migration not yet applied; safe to run from many processes at once."""
    config = alembic_config()
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            # Processes starting together would otherwise race to create the same tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7405417)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
