"""What the driver path makes of a statement before it ever runs one."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql

from pxm_jobs.store import driver_path
from pxm_jobs.store.tables import products


def test_a_statement_with_a_column_that_has_no_name_is_refused() -> None:
    """Rows are read by their columns' names, so a bare count is a mistake, told at once."""
    unnamed = select(func.count()).select_from(products)
    with pytest.raises(ValueError, match="label every column"):
        driver_path._compile(unnamed, postgresql.dialect())


def test_rows_are_named_by_their_columns_and_binds_keep_their_names() -> None:
    statement = (
        select(products.c.sku, func.count().label("copies"))
        .where(products.c.store_id == bindparam("store_id"))
        .group_by(products.c.sku)
    )
    compiled = driver_path._compile(statement, postgresql.dialect())
    assert compiled.make_row is not None
    row = compiled.make_row(("BOOT-1", 2))
    assert row._asdict() == {"sku": "BOOT-1", "copies": 2}
    assert "%(store_id)s" in compiled.text
