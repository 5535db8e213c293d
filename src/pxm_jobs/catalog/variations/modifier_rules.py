"""Which modifiers an option may have and what each one's fields must hold.

A modifier sets, extends or rewrites one attribute of the children its option makes, so its
value follows that attribute's product rule: `sku_equals` takes what a SKU may be, `status`
draft or live, `build_rules_equals` a whole `build_rules` object. Builders (`sku_builder`,
`slug_builder`) take `seek` and `set` instead of a value, and `price` names a price book
modifier in `reference_name`. Fields a type does not use are refused rather than ignored, so
that a modifier reads back exactly as it acts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from pxm_jobs.catalog.products.rule_basics import ProductLimits, RuleViolation, check_storable
from pxm_jobs.catalog.products.rules import (
    check_short_text,
    normalize_commodity_type,
    normalize_external_ref,
    normalize_locales,
    normalize_slug,
    normalize_status,
)
from pxm_jobs.catalog.products.structured_rules import (
    normalize_build_rules,
    normalize_custom_inputs,
)
from pxm_jobs.catalog.variations.errors import InvalidVariationField

SKU_BUILDER: Final = "sku_builder"
SLUG_BUILDER: Final = "slug_builder"
PRICE: Final = "price"
BUILDER_TYPES: Final = (SKU_BUILDER, SLUG_BUILDER)
# A builder's seek and set, and a price's reference name, are short texts like a SKU.
BUILDER_TEXT_MAX_LENGTH: Final = 255
REFERENCE_NAME_MAX_LENGTH: Final = 255
# What a slug may hold, and in a slug builder's seek also the braces of the placeholder.
_SLUG_TEXT: Final = re.compile(r"[A-Za-z0-9_.\-]*")
_SLUG_SEEK: Final = re.compile(r"[A-Za-z0-9_.\-{}]+")
# Price book modifier types: EP applies them through a `price` modifier, never directly.
PRICE_BOOK_MODIFIER_TYPES: Final = ("price_increment", "price_decrement", "price_equals")

ValueRule = Callable[[Any, ProductLimits], Any]


def _text(value: Any, _limits: ProductLimits) -> str:
    if not isinstance(value, str) or value == "":
        raise RuleViolation("invalid_value", "must be a non-empty text")
    return check_storable(value)


def _short(field: str) -> ValueRule:
    def short_text(value: Any, limits: ProductLimits) -> str:
        return check_short_text(field, _text(value, limits))

    return short_text


def _of_text(rule: Callable[[str, ProductLimits], Any]) -> ValueRule:
    def text_rule(value: Any, limits: ProductLimits) -> Any:
        return rule(_text(value, limits), limits)

    return text_rule


def _locales(value: Any, limits: ProductLimits) -> Any:
    if not isinstance(value, Mapping) or not value:
        raise RuleViolation(
            "invalid_value", 'must be an object of locales, e.g. {"fr-FR": {"name": "Rouge"}}'
        )
    return normalize_locales(value, limits)


def _custom_inputs(value: Any, limits: ProductLimits) -> Any:
    return normalize_custom_inputs(value, limits)


def _build_rules(value: Any, limits: ProductLimits) -> Any:
    return normalize_build_rules(value, limits)


# Every type with a `value`, and the rule its value follows.
VALUE_RULES: Final[Mapping[str, ValueRule]] = {
    "commodity_type": _of_text(normalize_commodity_type),
    "status": _of_text(normalize_status),
    "name_append": _text,
    "name_prepend": _text,
    "name_equals": _text,
    "sku_append": _short("sku_append"),
    "sku_prepend": _short("sku_prepend"),
    "sku_equals": _short("sku"),
    "slug_append": _of_text(normalize_slug),
    "slug_prepend": _of_text(normalize_slug),
    "slug_equals": _of_text(normalize_slug),
    "description_append": _text,
    "description_prepend": _text,
    "description_equals": _text,
    "custom_inputs_equals": _custom_inputs,
    "build_rules_equals": _build_rules,
    "locales_equals": _locales,
    "upc_ean_equals": _short("upc_ean"),
    "mpn_equals": _short("mpn"),
    "external_ref_equals": _of_text(normalize_external_ref),
}
MODIFIER_TYPES: Final = (*VALUE_RULES, *BUILDER_TYPES, PRICE)
MODIFIER_FIELDS: Final = frozenset({"type", "value", "seek", "set", "reference_name"})


def check_modifier(fields: Mapping[str, Any], limits: ProductLimits) -> dict[str, Any]:
    """The modifier to store, `{type, value, seek, set, reference_name}`, from the fields
    sent (None where a type does not use one); InvalidVariationField names what to fix."""
    modifier_type = _check_type(fields.get("type"))
    given = {name for name in MODIFIER_FIELDS - {"type"} if fields.get(name) is not None}
    if modifier_type in BUILDER_TYPES:
        used = {"seek", "set"}
        checked = _check_builder(modifier_type, fields)
    elif modifier_type == PRICE:
        used = {"reference_name"}
        checked = {"reference_name": _check_reference_name(fields.get("reference_name"))}
    else:
        used = {"value"}
        checked = {"value": _check_value(modifier_type, fields.get("value"), limits)}
    stray = sorted(given - used)
    if stray:
        raise InvalidVariationField(
            stray[0],
            f"a {modifier_type} modifier takes {' and '.join(sorted(used))}, not {stray[0]}; "
            f"leave {stray[0]} out",
        )
    return {
        "type": modifier_type,
        "value": None,
        "seek": None,
        "set": None,
        "reference_name": None,
    } | checked


def _check_type(value: Any) -> str:
    if value in MODIFIER_TYPES:
        return str(value)
    if value in PRICE_BOOK_MODIFIER_TYPES:
        raise InvalidVariationField(
            "type",
            f"{value} is a price book modifier type; create a modifier of type price whose "
            "reference_name is the name of that price book modifier",
        )
    raise InvalidVariationField(
        "type", f"type {value!r} is not a modifier type; use one of " + ", ".join(MODIFIER_TYPES)
    )


def _check_value(modifier_type: str, value: Any, limits: ProductLimits) -> Any:
    if value is None:
        raise InvalidVariationField("value", f"a {modifier_type} modifier needs a value")
    try:
        return VALUE_RULES[modifier_type](value, limits)
    except RuleViolation as violation:
        raise InvalidVariationField(
            "value", f"{modifier_type} value: {violation.message}"
        ) from None


def _check_builder(modifier_type: str, fields: Mapping[str, Any]) -> dict[str, str]:
    seek, replacement = fields.get("seek"), fields.get("set")
    if not isinstance(seek, str) or not seek:
        raise InvalidVariationField(
            "seek", f"a {modifier_type} modifier needs seek: the text to find, e.g. {{color}}"
        )
    if not isinstance(replacement, str):
        raise InvalidVariationField(
            "set", f"a {modifier_type} modifier needs set: the text to put in place of seek"
        )
    for field, text in (("seek", seek), ("set", replacement)):
        if len(text) > BUILDER_TEXT_MAX_LENGTH:
            raise InvalidVariationField(
                field, f"{field} must be at most {BUILDER_TEXT_MAX_LENGTH} characters"
            )
        try:
            check_storable(text)
        except RuleViolation as violation:
            raise InvalidVariationField(field, f"{field} {violation.message}") from None
    if modifier_type == SLUG_BUILDER:
        if _SLUG_SEEK.fullmatch(seek) is None:
            raise InvalidVariationField(
                "seek",
                f"seek {seek!r} of a slug_builder may only contain letters A-Z a-z, digits "
                "0-9, '-', '_', '.' and the braces of a placeholder such as {color}",
            )
        if _SLUG_TEXT.fullmatch(replacement) is None:
            raise InvalidVariationField(
                "set",
                f"set {replacement!r} of a slug_builder may only contain letters A-Z a-z, "
                "digits 0-9, '-', '_' and '.'",
            )
    return {"seek": seek, "set": replacement}


def _check_reference_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidVariationField(
            "reference_name",
            "a price modifier needs reference_name: the name of a price book modifier",
        )
    if len(value) > REFERENCE_NAME_MAX_LENGTH:
        raise InvalidVariationField(
            "reference_name",
            f"reference_name must be at most {REFERENCE_NAME_MAX_LENGTH} characters",
        )
    try:
        return check_storable(value)
    except RuleViolation as violation:
        raise InvalidVariationField(
            "reference_name", f"reference_name {violation.message}"
        ) from None
