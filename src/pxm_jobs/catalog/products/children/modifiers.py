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


@dataclass(frozen=True)
class OptionEffect:
    """An option's modifiers, sorted by what they do: read once per build, used by every child
    the option is part of."""

    equals: Mapping[str, Any]
    builders: Mapping[str, Sequence[tuple[str, str]]]
    prepends: Mapping[str, Any]
    appends: Mapping[str, Any]
    setters: Mapping[str, Any]
    prices: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        changes = (self.equals, self.builders, self.prepends, self.appends, self.setters)
        return not any(changes) and not (self.prices or self.unknown)


def option_effect(modifiers: Sequence[ModifierLike]) -> OptionEffect:
    equals: dict[str, Any] = {}
    builders: dict[str, list[tuple[str, str]]] = {}
    prepends: dict[str, Any] = {}
    appends: dict[str, Any] = {}
    setters: dict[str, Any] = {}
    prices: list[str] = []
    unknown: list[str] = []
    for modifier in modifiers:
        kind = modifier.type
        name, _, how = kind.rpartition("_")
        if kind in SETTERS:
            setters[SETTERS[kind]] = modifier.value
        elif kind == PRICE:
            if modifier.reference_name:
                prices.append(modifier.reference_name)
        elif kind not in MODIFIER_TYPES:
            unknown.append(kind)
        elif how == "equals":
            equals[name] = modifier.value
        elif how == "builder":
            if modifier.seek:
                builders.setdefault(name, []).append((modifier.seek, modifier.set or ""))
        elif how == "prepend":
            prepends[name] = modifier.value
        else:
            appends[name] = modifier.value
    return OptionEffect(equals, builders, prepends, appends, setters, tuple(prices), tuple(unknown))


def combination_effects(combination: Combination) -> list[OptionEffect]:
    return [option_effect(option.modifiers) for option in combination]


def inherited_values(base: Mapping[str, Any]) -> dict[str, Any]:
    return {name: base.get(name) for name in INHERITED}


def apply_modifiers(
    inherited: Mapping[str, Any],
    effects: Sequence[OptionEffect],
    limits: ProductLimits,
    label: str,
) -> ChildValues:
    """The child of a combination: `inherited` values changed by its options' `effects`.

    `label` names the child in problems (its options, say `Size M, Colour Red`).
    """
    effects = [effect for effect in effects if not effect.is_empty]
    if not effects:
        return ChildValues(dict(inherited))
    problems: list[JobErrorDetail] = []
    changed: dict[str, Any] = {}
    for name in COMPOSED:
        composed = _compose(name, inherited.get(name), effects, label, problems)
        if composed is not _UNCHANGED:
            changed[name] = composed
    prices: list[str] = []
    for effect in effects:
        changed.update(effect.setters)
        prices += effect.prices
        for kind in effect.unknown:
            problems.append(_problem(label, kind, f"unknown modifier {kind}"))
    for name in _REQUIRED:
        if name in changed and (changed[name] is None or not str(changed[name]).strip()):
            problems.append(_problem(label, name, f"the modifiers leave its {name} blank"))
            del changed[name]
    values = dict(inherited)
    if changed:
        checked, refused = check_product_attributes(
            changed, is_new=False, limits=limits, blank_keeps=False
        )
        for problem in refused:
            problems.append(
                JobErrorDetail(
                    message=f"child {label}: {problem.message}",
                    code=problem.code,
                    field=problem.field,
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
    effects: Sequence[OptionEffect],
    label: str,
    problems: list[JobErrorDetail],
) -> Any:
    """`name` after its equals, builder, prepend and append modifiers; _UNCHANGED without any."""
    touched = False
    text = base
    for effect in effects:
        if name in effect.equals:
            text = _text(effect.equals[name], f"{name}_equals", label, problems)
            touched = True
    text = "" if text is None else str(text)
    for effect in effects:
        for seek, replacement in effect.builders.get(name, ()):
            text = text.replace(seek, replacement)
            touched = True
    before = ""
    after = ""
    for effect in effects:
        if name in effect.prepends:
            before += _text(effect.prepends[name], f"{name}_prepend", label, problems)
            touched = True
        if name in effect.appends:
            after += _text(effect.appends[name], f"{name}_append", label, problems)
            touched = True
    return before + text + after if touched else _UNCHANGED


def _text(value: Any, kind: str, label: str, problems: list[JobErrorDetail]) -> str:
    if isinstance(value, str):
        return value
    problems.append(_problem(label, kind, f"modifier {kind} needs a text value"))
    return ""


def _problem(label: str, field_name: str, message: str) -> JobErrorDetail:
    return JobErrorDetail(message=f"child {label}: {message}", code=INVALID_VALUE, field=field_name)
