"""What a child shows of the options it was built from (`meta.child_variations`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, select

from pxm_jobs.catalog.products.queries import Product
from pxm_jobs.catalog.variations.models import in_display_order
from pxm_jobs.store.tables import products, variation_options, variations

_BATCH: Final = 500


@dataclass(frozen=True)
class ChildVariation:
    id: str
    name: str
    sort_order: int | None
    option_id: str
    option_name: str
    option_description: str | None


def load_child_variations(
    connection: Connection, found: Sequence[Product]
) -> dict[str, list[ChildVariation]]:
    """Each child's variation and option, in its variations' order; options since deleted are
    left out (the next build replaces the child)."""
    option_ids = sorted(
        {option for product in found for option in (product.child_options or {}).values()}
    )
    if not option_ids:
        return {}
    rows: list[Any] = []
    for start in range(0, len(option_ids), _BATCH):
        rows += connection.execute(
            select(
                variation_options.c.id,
                variation_options.c.name,
                variation_options.c.description,
                variations.c.id.label("variation_id"),
                variations.c.name.label("variation_name"),
                variations.c.sort_order,
            )
            .join(variations, variations.c.id == variation_options.c.variation_id)
            .where(variation_options.c.id.in_(option_ids[start : start + _BATCH]))
        ).all()
    by_option = {
        row.id: ChildVariation(
            row.variation_id,
            row.variation_name,
            row.sort_order,
            row.id,
            row.name,
            row.description,
        )
        for row in rows
    }
    shown: dict[str, list[ChildVariation]] = {}
    for product in found:
        if product.child_options:
            # Recorded as JSON, whose key order PostgreSQL does not keep: sort as variations show.
            shown[product.id] = in_display_order(
                [
                    by_option[option]
                    for option in product.child_options.values()
                    if option in by_option
                ]
            )
    return shown


def children_by_options(
    connection: Connection, parent_ids: Sequence[str]
) -> dict[str, dict[frozenset[str], str]]:
    """For each base product, which child each set of option ids built (its variation matrix)."""
    found: dict[str, dict[frozenset[str], str]] = {}
    for start in range(0, len(parent_ids), _BATCH):
        rows = connection.execute(
            select(products.c.parent_id, products.c.id, products.c.child_options).where(
                products.c.parent_id.in_(parent_ids[start : start + _BATCH]),
                products.c.child_options.is_not(None),
            )
        )
        for parent_id, child_id, options in rows:
            found.setdefault(parent_id, {})[frozenset(options.values())] = child_id
    return found
