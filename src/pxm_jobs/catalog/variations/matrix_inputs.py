"""The variations base products name, each with its options and their modifiers, in three
reads whatever their number; the caller owns the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, select

from pxm_jobs.catalog.variations.models import (
    Modifier,
    OptionWithModifiers,
    VariationWithOptions,
    in_display_order,
)
from pxm_jobs.store.tables import (
    product_variations,
    variation_modifiers,
    variation_options,
    variations,
)

_BATCH: Final = 500


def variation_matrix_inputs(
    connection: Connection, store_id: str, product_id: str
) -> list[VariationWithOptions]:
    """The product's variations in display order, each with its options (in display order)
    and each option with its modifiers (by type). Empty for a product of another store."""
    return variations_of_products(connection, store_id, [product_id])[product_id]


def variations_of_products(
    connection: Connection, store_id: str | None, product_ids: Sequence[str]
) -> dict[str, list[VariationWithOptions]]:
    """`variation_matrix_inputs` of each product, for a page of products at once; without a
    store, for products already known to be the caller's."""
    links: dict[str, list[str]] = defaultdict(list)
    found: dict[str, VariationWithOptions] = {}
    for start in range(0, len(product_ids), _BATCH):
        batch = product_ids[start : start + _BATCH]
        query = (
            select(product_variations.c.product_id, product_variations.c.variation_id)
            .join(variations, product_variations.c.variation_id == variations.c.id)
            .where(product_variations.c.product_id.in_(batch))
        )
        if store_id is not None:
            query = query.where(variations.c.store_id == store_id)
        rows = connection.execute(query).all()
        for product_id, variation_id in rows:
            links[product_id].append(variation_id)
    wanted = sorted({variation_id for ids in links.values() for variation_id in ids})
    for start in range(0, len(wanted), _BATCH):
        found.update(_read_variations(connection, wanted[start : start + _BATCH]))
    return {
        product_id: in_display_order([found[variation_id] for variation_id in links[product_id]])
        for product_id in product_ids
    }


def _read_variations(
    connection: Connection, variation_ids: Sequence[str]
) -> dict[str, VariationWithOptions]:
    variation_rows = connection.execute(
        select(variations.c.id, variations.c.name, variations.c.sort_order).where(
            variations.c.id.in_(variation_ids)
        )
    ).all()
    option_rows = connection.execute(
        select(
            variation_options.c.id,
            variation_options.c.variation_id,
            variation_options.c.name,
            variation_options.c.description,
            variation_options.c.sort_order,
        ).where(variation_options.c.variation_id.in_(variation_ids))
    ).all()
    modifiers_by_option: dict[str, list[Modifier]] = defaultdict(list)
    option_ids = [row.id for row in option_rows]
    for start in range(0, len(option_ids), _BATCH):
        modifier_rows = connection.execute(
            select(
                variation_modifiers.c.id,
                variation_modifiers.c.option_id,
                variation_modifiers.c.type,
                variation_modifiers.c.value,
                variation_modifiers.c.seek,
                variation_modifiers.c.set,
                variation_modifiers.c.reference_name,
            ).where(variation_modifiers.c.option_id.in_(option_ids[start : start + _BATCH]))
        ).all()
        for modifier_row in modifier_rows:
            modifiers_by_option[modifier_row.option_id].append(Modifier(**modifier_row._asdict()))
    options_by_variation: dict[str, list[OptionWithModifiers]] = defaultdict(list)
    for option_row in option_rows:
        modifiers = sorted(modifiers_by_option[option_row.id], key=lambda modifier: modifier.type)
        options_by_variation[option_row.variation_id].append(
            OptionWithModifiers(**option_row._asdict(), modifiers=tuple(modifiers))
        )
    return {
        row.id: VariationWithOptions(
            id=row.id,
            name=row.name,
            sort_order=row.sort_order,
            options=tuple(in_display_order(options_by_variation[row.id])),
        )
        for row in variation_rows
    }
