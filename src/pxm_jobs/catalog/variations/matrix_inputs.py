"""The variations a base product names, each with its options and their modifiers, in three
reads whatever their number; the caller owns the transaction."""

from __future__ import annotations

from collections import defaultdict

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


def variation_matrix_inputs(
    connection: Connection, store_id: str, product_id: str
) -> list[VariationWithOptions]:
    """The product's variations in display order, each with its options (in display order)
    and each option with its modifiers (by type). Empty for a product of another store."""
    variation_rows = connection.execute(
        select(variations.c.id, variations.c.name, variations.c.sort_order)
        .join(product_variations, product_variations.c.variation_id == variations.c.id)
        .where(product_variations.c.product_id == product_id, variations.c.store_id == store_id)
    ).all()
    if not variation_rows:
        return []
    variation_ids = [row.id for row in variation_rows]
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
    if option_rows:
        modifier_rows = connection.execute(
            select(
                variation_modifiers.c.id,
                variation_modifiers.c.option_id,
                variation_modifiers.c.type,
                variation_modifiers.c.value,
                variation_modifiers.c.seek,
                variation_modifiers.c.set,
                variation_modifiers.c.reference_name,
            ).where(variation_modifiers.c.option_id.in_([row.id for row in option_rows]))
        ).all()
        for modifier_row in modifier_rows:
            modifiers_by_option[modifier_row.option_id].append(Modifier(**modifier_row._asdict()))
    options_by_variation: dict[str, list[OptionWithModifiers]] = defaultdict(list)
    for option_row in option_rows:
        modifiers = sorted(modifiers_by_option[option_row.id], key=lambda modifier: modifier.type)
        options_by_variation[option_row.variation_id].append(
            OptionWithModifiers(**option_row._asdict(), modifiers=tuple(modifiers))
        )
    found = [
        VariationWithOptions(
            id=row.id,
            name=row.name,
            sort_order=row.sort_order,
            options=tuple(in_display_order(options_by_variation[row.id])),
        )
        for row in variation_rows
    ]
    return in_display_order(found)
