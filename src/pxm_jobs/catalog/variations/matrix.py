"""`meta.variation_matrix` of a base product: which child each combination of its variations'
options built, nested one level per variation in display order.

With variations Size and Colour: `{small_id: {red_id: child_id, blue_id: child_id}, ...}`;
with one variation, `{small_id: child_id}`. A combination no child was built for (a build rule
left it out, or the product was never built) has no entry, and a product without children has
an empty matrix, as EP shows one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pxm_jobs.catalog.variations.models import VariationWithOptions


def variation_matrix(
    product_variations: Sequence[VariationWithOptions],
    children: Mapping[frozenset[str], str],
) -> dict[str, Any]:
    """The nested matrix; `children` maps each built child's set of option ids to its id."""
    if not children or not product_variations:
        return {}
    return _level(product_variations, frozenset(), children)


def _level(
    remaining: Sequence[VariationWithOptions],
    chosen: frozenset[str],
    children: Mapping[frozenset[str], str],
) -> dict[str, Any]:
    variation, rest = remaining[0], remaining[1:]
    level: dict[str, Any] = {}
    for option in variation.options:
        combination = chosen | {option.id}
        if not rest:
            if combination in children:
                level[option.id] = children[combination]
            continue
        below = _level(rest, combination, children)
        if below:
            level[option.id] = below
    return level
