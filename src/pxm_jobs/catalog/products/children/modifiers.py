"""A child's attributes: its base product's, changed by the modifiers of its options.

The order is fixed so that a build is reproducible. Options are taken in the order of their
variations (the matrix order). For `name`, `description`, `sku` and `slug`:

1. the last `*_equals` replaces the base product's value;
2. each `*_builder` (sku and slug) replaces every `seek` in the value by its `set`;
3. the `*_prepend` texts go before the value, in option order (`S` then `Red` gives `SRed…`);
4. the `*_append` texts go after it, in option order (`…-S-Red`).

`status`, `commodity_type`, `upc_ean_equals`, `mpn_equals`, `external_ref_equals`,
`custom_inputs_equals`, `build_rules_equals` and `locales_equals` set their attribute, the last
option's winning. `price` names a price book modifier by `reference_name`: it changes no
attribute of the child (price books apply it to the child's SKU). Every changed attribute is
checked with the product rules, so a child is as valid as a product made by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pxm_jobs.catalog.products.children.matrix import Combination, ModifierLike
from pxm_jobs.catalog.products.rule_basics import INVALID_VALUE, ProductLimits
from pxm_jobs.catalog.products.rules import check_product_attributes
from pxm_jobs.job_errors import JobErrorDetail

# What a child takes from its base product. Not `external_ref` (it names the base product in
# another system, and is unique), `components` (a child is no bundle) or `build_rules`.
INHERITED: Final = (
    "name",
    "description",
    "slug",
    "sku",
    "status",
    "commodity_type",
    "upc_ean",
    "mpn",
    "main_image_id",
    "tags",
    "locales",
    "templates",
    "custom_inputs",
    "shopper_attributes",
    "admin_attributes",
)
# Attributes whose text modifiers compose; the builders exist for sku and slug only.
COMPOSED: Final = ("name", "description", "sku", "slug")
BUILT: Final = frozenset({"sku", "slug"})
# Modifier type -> the attribute it sets.
SETTERS: Final = {
    "status": "status",
    "commodity_type": "commodity_type",
    "upc_ean_equals": "upc_ean",
    "mpn_equals": "mpn",
    "external_ref_equals": "external_ref",
    "custom_inputs_equals": "custom_inputs",
    "build_rules_equals": "build_rules",
    "locales_equals": "locales",
}
PRICE: Final = "price"
MODIFIER_TYPES: Final = frozenset(
    {
        *(f"{name}_{how}" for name in COMPOSED for how in ("equals", "prepend", "append")),
        *(f"{name}_builder" for name in BUILT),
        *SETTERS,
        PRICE,
    }
)
# Attributes that must never end up blank.
_REQUIRED: Final = frozenset({"name", "slug", "status", "commodity_type"})


@dataclass(frozen=True)
class ChildValues:
    """What one child is to hold, or the problems that prevent it."""

    values: dict[str, Any]
    price_references: tuple[str, ...] = ()
    problems: list[JobErrorDetail] = field(default_factory=list)


def inherited_values(base: Mapping[str, Any]) -> dict[str, Any]:
    return {name: base.get(name) for name in INHERITED}


def apply_modifiers(
    inherited: Mapping[str, Any],
    combination: Combination,
    limits: ProductLimits,
    label: str,
) -> ChildValues:
    """The child of `combination`: `inherited` values changed by its options' modifiers.

    `label` names the child in problems (its options, say `Size M, Colour Red`).
    """
    modifiers = [modifier for option in combination for modifier in option.modifiers]
    if not modifiers:
        return ChildValues(dict(inherited))
    values = dict(inherited)
    problems: list[JobErrorDetail] = []
    changed: dict[str, Any] = {}
    for name in COMPOSED:
        composed = _compose(name, inherited.get(name), modifiers, label, problems)
        if composed is not _UNCHANGED:
            changed[name] = composed
    prices = []
    for modifier in modifiers:
        if modifier.type in SETTERS:
            changed[SETTERS[modifier.type]] = modifier.value
        elif modifier.type == PRICE:
            if modifier.reference_name:
                prices.append(modifier.reference_name)
        elif modifier.type not in MODIFIER_TYPES:
            problems.append(_problem(label, modifier.type, f"unknown modifier {modifier.type}"))
    for name in _REQUIRED:
        if name in changed and (changed[name] is None or not str(changed[name]).strip()):
            problems.append(_problem(label, name, f"the modifiers leave its {name} blank"))
            del changed[name]
    if changed:
        checked, refused = check_product_attributes(
            changed, is_new=False, limits=limits, blank_keeps=False
        )
        for problem in refused:
            field_name = problem.field or ""
            problems.append(
                JobErrorDetail(
                    message=f"child {label}: {problem.message}",
                    code=problem.code,
                    field=field_name,
                    value=problem.value,
                )
            )
        values.update(checked)
    return ChildValues(values, tuple(prices), problems)


class _Unchanged:
    pass


_UNCHANGED: Final = _Unchanged()


def _compose(
    name: str,
    base: Any,
    modifiers: Sequence[ModifierLike],
    label: str,
    problems: list[JobErrorDetail],
) -> Any:
    """`name` after its equals, builder, prepend and append modifiers; _UNCHANGED without any."""
    by_kind: dict[str, list[ModifierLike]] = {}
    for modifier in modifiers:
        prefix, _, kind = modifier.type.rpartition("_")
        if prefix == name:
            by_kind.setdefault(kind, []).append(modifier)
    if not by_kind:
        return _UNCHANGED
    text = base
    for modifier in by_kind.get("equals", ()):
        text = _text(modifier, label, problems)
    text = "" if text is None else str(text)
    if name in BUILT:
        for modifier in by_kind.get("builder", ()):
            if modifier.seek:
                text = text.replace(modifier.seek, modifier.set or "")
    prefix_text = "".join(_text(m, label, problems) for m in by_kind.get("prepend", ()))
    suffix_text = "".join(_text(m, label, problems) for m in by_kind.get("append", ()))
    return prefix_text + text + suffix_text


def _text(modifier: ModifierLike, label: str, problems: list[JobErrorDetail]) -> str:
    if isinstance(modifier.value, str):
        return modifier.value
    problems.append(_problem(label, modifier.type, f"modifier {modifier.type} needs a text value"))
    return ""


def _problem(label: str, field_name: str, message: str) -> JobErrorDetail:
    return JobErrorDetail(message=f"child {label}: {message}", code=INVALID_VALUE, field=field_name)
