"""The variations catalog's rules hold when a concurrent write slips past its first check:
the database's keys refuse the write, the answer still says why, and the transaction is
still usable. Each test blinds the first check, as a concurrent writer would."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.products.writes import create_product
from pxm_jobs.catalog.variations import modifiers as modifier_writes
from pxm_jobs.catalog.variations import product_links
from pxm_jobs.catalog.variations import variations as variation_writes
from pxm_jobs.catalog.variations.errors import (
    ModifierTypeTaken,
    UnknownVariations,
    VariationInUse,
)
from pxm_jobs.catalog.variations.modifiers import create_modifier
from pxm_jobs.catalog.variations.options import create_option
from pxm_jobs.catalog.variations.product_links import change_product_variations
from pxm_jobs.catalog.variations.variations import create_variation, delete_variation
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import variation_modifiers, variations
from tests.factories import add_store


def _blind_first(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, blind: Any) -> None:
    real = getattr(module, name)
    calls: list[int] = []

    def first_blind(*args: Any) -> Any:
        calls.append(1)
        return blind if len(calls) == 1 else real(*args)

    monkeypatch.setattr(module, name, first_blind)


def test_a_second_modifier_of_a_type_slipping_past_the_check_is_refused_by_the_index(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = ProductLimits.from_settings(settings)
    with write_transaction(engine) as connection:
        store = add_store(connection)
        size = create_variation(connection, store, {"name": "Size"}, utc_now())
        large = create_option(connection, store, size.id, {"name": "Large"}, utc_now())
        first = {"type": "status", "value": "live"}
        create_modifier(connection, store, size.id, large.id, first, limits=limits, now=utc_now())
    _blind_first(monkeypatch, modifier_writes, "_refuse_taken_type", None)
    with write_transaction(engine) as connection:
        with pytest.raises(ModifierTypeTaken):
            create_modifier(
                connection,
                store,
                size.id,
                large.id,
                {"type": "status", "value": "draft"},
                limits=limits,
                now=utc_now(),
            )
        count = select(func.count()).select_from(variation_modifiers)
        assert connection.execute(count).scalar_one() == 1, "the transaction is still usable"


def test_a_link_made_past_the_in_use_check_still_keeps_the_variation(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with write_transaction(engine) as connection:
        store = add_store(connection)
        size = create_variation(connection, store, {"name": "Size"}, utc_now())
        shirt = create_product(
            connection,
            store,
            {"name": "Shirt", "commodity_type": "physical"},
            limits=ProductLimits.from_settings(settings),
            now=utc_now(),
        )
        change_product_variations(connection, store, shirt.id, "add", [size.id], utc_now())
    _blind_first(monkeypatch, variation_writes, "products_naming", [])
    with write_transaction(engine) as connection:
        with pytest.raises(VariationInUse) as refused:
            delete_variation(connection, store, size.id)
        assert refused.value.product_ids == [shirt.id]
        assert connection.execute(select(func.count()).select_from(variations)).scalar_one() == 1


def test_a_variation_deleted_past_the_lookup_is_not_linked(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with write_transaction(engine) as connection:
        store = add_store(connection)
        size = create_variation(connection, store, {"name": "Size"}, utc_now())
        shirt = create_product(
            connection,
            store,
            {"name": "Shirt", "commodity_type": "physical"},
            limits=ProductLimits.from_settings(settings),
            now=utc_now(),
        )
        delete_variation(connection, store, size.id)
    _blind_first(monkeypatch, product_links, "_existing", {size.id})
    with write_transaction(engine) as connection:
        with pytest.raises(UnknownVariations) as refused:
            change_product_variations(connection, store, shirt.id, "add", [size.id], utc_now())
        assert refused.value.variation_ids == [size.id]
        assert product_links.product_variations_of(connection, shirt.id) == []
