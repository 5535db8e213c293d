"""Variations, options and modifiers written straight to the store, for tests of child builds."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, update

from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import (
    product_variations,
    variation_modifiers,
    variation_options,
    variations,
)

# An option's modifiers: type -> value, or type -> (seek, set) for the builders.
Modifiers = Mapping[str, Any]


def _row(connection: Connection, table: Any, store_id: str, **values: Any) -> str:
    now = utc_now()
    row_id = str(uuid.uuid4())
    connection.execute(
        insert(table).values(id=row_id, store_id=store_id, created_at=now, updated_at=now, **values)
    )
    return row_id


@dataclass
class Variation:
    id: str
    name: str
    # option name -> option id
    options: dict[str, str] = field(default_factory=dict)


def add_option(
    connection: Connection,
    store_id: str,
    variation: Variation,
    name: str,
    modifiers: Modifiers | None = None,
    sort_order: int | None = None,
) -> str:
    option_id = _row(
        connection,
        variation_options,
        store_id,
        variation_id=variation.id,
        name=name,
        description=f"{name} option",
        sort_order=sort_order,
    )
    for kind, value in (modifiers or {}).items():
        if kind.endswith("_builder"):
            seek, replacement = value
            _row(connection, variation_modifiers, store_id, option_id=option_id, type=kind,
                 seek=seek, set=replacement)  # fmt: skip
        elif kind == "price":
            _row(connection, variation_modifiers, store_id, option_id=option_id, type=kind,
                 reference_name=value)  # fmt: skip
        else:
            _row(connection, variation_modifiers, store_id, option_id=option_id, type=kind,
                 value=value)  # fmt: skip
    variation.options[name] = option_id
    return option_id


def add_variation(
    connection: Connection,
    store_id: str,
    name: str,
    options: Mapping[str, Modifiers | None],
    sort_order: int | None = None,
) -> Variation:
    """A variation with its options in the given order (sort_order highest first keeps it)."""
    variation = Variation(
        _row(connection, variations, store_id, name=name, sort_order=sort_order), name
    )
    for position, (option, modifiers) in enumerate(options.items()):
        add_option(connection, store_id, variation, option, modifiers, len(options) - position)
    return variation


def attach(connection: Connection, product_id: str, *found: Variation) -> None:
    connection.execute(
        insert(product_variations),
        [{"product_id": product_id, "variation_id": variation.id} for variation in found],
    )


def detach(connection: Connection, product_id: str, variation: Variation) -> None:
    connection.execute(
        delete(product_variations).where(
            product_variations.c.product_id == product_id,
            product_variations.c.variation_id == variation.id,
        )
    )


def remove_option(connection: Connection, variation: Variation, name: str) -> None:
    connection.execute(
        delete(variation_options).where(variation_options.c.id == variation.options.pop(name))
    )


def variations_for(
    engine: Engine,
    store_id: str,
    product_id: str,
    matrix: Mapping[str, Mapping[str, Modifiers | None]],
) -> list[Variation]:
    """Variations named by `matrix` (first the highest sort_order), attached to the product."""
    with write_transaction(engine) as connection:
        made = [
            add_variation(connection, store_id, name, options, sort_order=len(matrix) - position)
            for position, (name, options) in enumerate(matrix.items())
        ]
        attach(connection, product_id, *made)
    return made


def option_ids(found: Sequence[Variation], *names: str) -> list[str]:
    """The ids of options by name, looked up across the variations."""
    by_name = {name: option for variation in found for name, option in variation.options.items()}
    return [by_name[name] for name in names]


def set_modifier_value(connection: Connection, option_id: str, kind: str, value: Any) -> None:
    connection.execute(
        update(variation_modifiers)
        .where(variation_modifiers.c.option_id == option_id, variation_modifiers.c.type == kind)
        .values(value=value)
    )
