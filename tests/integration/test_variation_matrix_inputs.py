"""What a build reads of a base product's variations: all of them, in display order, with
their options and modifiers; and the 0012 migration steps down and up again with data."""

from __future__ import annotations

import uuid
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, insert, inspect

from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.products.writes import create_product
from pxm_jobs.catalog.variations import variation_matrix_inputs
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import (
    product_variations,
    variation_modifiers,
    variation_options,
    variations,
)
from tests.factories import add_store
from tests.integration.test_migrations import _migrate

VARIATION_TABLES = {"variations", "variation_options", "variation_modifiers", "product_variations"}


def _row(table: Any, connection: Connection, store_id: str, **values: Any) -> str:
    now = utc_now()
    row_id = str(uuid.uuid4())
    connection.execute(
        insert(table).values(id=row_id, store_id=store_id, created_at=now, updated_at=now, **values)
    )
    return row_id


def _product(connection: Connection, store_id: str, settings: Settings, sku: str) -> str:
    return create_product(
        connection,
        store_id,
        {"name": sku, "sku": sku, "slug": sku, "commodity_type": "physical"},
        limits=ProductLimits.from_settings(settings),
        now=utc_now(),
    ).id


def test_a_product_reads_its_variations_options_and_modifiers_in_display_order(
    engine: Engine, settings: Settings
) -> None:
    with write_transaction(engine) as connection:
        store = add_store(connection)
        shirt = _product(connection, store, settings, "shirt")
        other = _product(connection, store, settings, "other")
        size = _row(variations, connection, store, name="Size", sort_order=None)
        colour = _row(variations, connection, store, name="Colour", sort_order=5)
        material = _row(variations, connection, store, name="Material", sort_order=None)
        unused = _row(variations, connection, store, name="Unused", sort_order=9)
        small = _row(variation_options, connection, store, variation_id=size, name="S")
        large = _row(
            variation_options, connection, store, variation_id=size, name="L", sort_order=2
        )
        red = _row(variation_options, connection, store, variation_id=colour, name="Red")
        _row(variation_options, connection, store, variation_id=unused, name="Nothing")
        _row(variation_modifiers, connection, store, option_id=small, type="sku_append", value="-S")
        _row(
            variation_modifiers,
            connection,
            store,
            option_id=small,
            type="sku_builder",
            seek="{size}",
            set="S",
        )
        _row(
            variation_modifiers,
            connection,
            store,
            option_id=large,
            type="price",
            reference_name="big",
        )
        _row(
            variation_modifiers,
            connection,
            store,
            option_id=red,
            type="locales_equals",
            value={"fr-FR": {"name": "Rouge"}},
        )
        connection.execute(
            insert(product_variations),
            [
                {"product_id": shirt, "variation_id": size},
                {"product_id": shirt, "variation_id": colour},
                {"product_id": shirt, "variation_id": material},
                {"product_id": other, "variation_id": colour},
            ],
        )
    with engine.connect() as connection:
        found = variation_matrix_inputs(connection, store, shirt)
        foreign = variation_matrix_inputs(connection, str(uuid.uuid4()), shirt)
    assert [variation.name for variation in found] == ["Colour", "Material", "Size"]
    colours, materials, sizes = found
    assert materials.options == ()
    assert [option.name for option in sizes.options] == ["L", "S"], "sort_order first"
    large_option, small_option = sizes.options
    assert [(m.type, m.value, m.seek, m.set) for m in small_option.modifiers] == [
        ("sku_append", "-S", None, None),
        ("sku_builder", None, "{size}", "S"),
    ]
    assert [(m.type, m.reference_name) for m in large_option.modifiers] == [("price", "big")]
    assert colours.options[0].modifiers[0].value == {"fr-FR": {"name": "Rouge"}}
    assert foreign == []


def test_the_variations_migration_steps_down_and_up_again(engine: Engine) -> None:
    _migrate(engine, command.downgrade, "0010")
    assert not VARIATION_TABLES & set(inspect(engine).get_table_names())
    _migrate(engine, command.upgrade, "head")
    assert set(inspect(engine).get_table_names()) >= VARIATION_TABLES
