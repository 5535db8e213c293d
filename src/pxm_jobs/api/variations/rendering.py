"""Variations, options and modifiers as JSON:API resources, shaped as pim.yaml shows them:
keys without a value are left out, never sent as null."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pxm_jobs.api.variations.schemas import MODIFIER_TYPE, OPTION_TYPE, VARIATION_TYPE
from pxm_jobs.catalog.variations.models import Variation, VariationModifier, VariationOption
from pxm_jobs.clock import format_timestamp

OWNER = "store"


def _timestamps(item: Variation | VariationOption) -> dict[str, str | None]:
    return {
        "created_at": format_timestamp(item.created_at),
        "updated_at": format_timestamp(item.updated_at),
    }


def _option_summary(option: VariationOption) -> dict[str, Any]:
    summary: dict[str, Any] = {"id": option.id, "name": option.name}
    if option.description is not None:
        summary["description"] = option.description
    if option.sort_order is not None:
        summary["sort_order"] = option.sort_order
    return summary | _timestamps(option)


def render_variation(variation: Variation, options: Sequence[VariationOption]) -> dict[str, Any]:
    attributes: dict[str, Any] = {"name": variation.name}
    if variation.sort_order is not None:
        attributes["sort_order"] = variation.sort_order
    meta: dict[str, Any] = {}
    if options:
        meta["options"] = [_option_summary(option) for option in options]
    meta |= {"owner": OWNER} | _timestamps(variation)
    return {"type": VARIATION_TYPE, "id": variation.id, "attributes": attributes, "meta": meta}


def render_option(option: VariationOption) -> dict[str, Any]:
    attributes: dict[str, Any] = {"name": option.name}
    if option.description is not None:
        attributes["description"] = option.description
    if option.sort_order is not None:
        attributes["sort_order"] = option.sort_order
    return {
        "type": OPTION_TYPE,
        "id": option.id,
        "attributes": attributes,
        "meta": {"owner": OWNER} | _timestamps(option),
    }


def render_modifier(modifier: VariationModifier) -> dict[str, Any]:
    attributes: dict[str, Any] = {"type": modifier.type}
    for name in ("value", "seek", "set", "reference_name"):
        value = getattr(modifier, name)
        if value is not None:
            attributes[name] = value
    return {
        "type": MODIFIER_TYPE,
        "id": modifier.id,
        "attributes": attributes,
        "meta": {"owner": OWNER},
    }


def render_product_variation(variation: Variation) -> dict[str, Any]:
    return {
        "type": VARIATION_TYPE,
        "id": variation.id,
        "meta": {"created_at": format_timestamp(variation.created_at)},
    }
