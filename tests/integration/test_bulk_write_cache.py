"""An import's writing connection gets a large page cache on SQLite, and gives it back after.

Every pooled connection keeping a large cache would multiply the service's memory; only the
connection writing an import's rows needs one, and only until it returns to the pool.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine

from pxm_jobs.catalog.products.csv_import import import_products
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import (
    SQLITE_BULK_WRITE_CACHE_KIB,
    SQLITE_CACHE_KIB,
    is_sqlite,
    read_transaction,
    use_bulk_write_cache,
    write_transaction,
)
from tests.factories import add_store
from tests.product_files import products_csv


def page_cache_kib(connection: Connection) -> int | None:
    """The connection's SQLite page cache in KiB; None on PostgreSQL, which has no such thing."""
    if not is_sqlite(connection.engine):
        return None
    return -int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())


def driver_connection(connection: Connection) -> object:
    return connection.connection.dbapi_connection


def test_the_bulk_cache_lasts_until_the_connection_goes_back_to_the_pool(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        before = page_cache_kib(connection)
        use_bulk_write_cache(connection)
        during = page_cache_kib(connection)
        used = driver_connection(connection)
    with read_transaction(engine) as connection:
        assert driver_connection(connection) is used  # the same connection, back from the pool
        after = page_cache_kib(connection)
    if is_sqlite(engine):
        assert (before, during, after) == (
            SQLITE_CACHE_KIB,
            SQLITE_BULK_WRITE_CACHE_KIB,
            SQLITE_CACHE_KIB,
        )
    else:
        assert (before, during, after) == (None, None, None)


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_an_import_writes_with_the_bulk_cache_and_a_dry_run_without(
    engine: Engine, settings: Settings, dry_run: bool
) -> None:
    with write_transaction(engine) as connection:
        import_products(
            connection,
            store_id=add_store(connection),
            chunks=[products_csv(5)],
            settings=settings,
            dry_run=dry_run,
            report_progress=lambda _processed, _total: None,
        )
        cache = page_cache_kib(connection)
    if not is_sqlite(engine):
        assert cache is None
    else:
        assert cache == (SQLITE_CACHE_KIB if dry_run else SQLITE_BULK_WRITE_CACHE_KIB)
