"""The rules a variation's and an option's own fields follow, checked before anything is
written. Fields arrive as sent (parsed JSON): only those given are checked and returned."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pxm_jobs.catalog.text_rules import unstorable_character
from pxm_jobs.catalog.variations.errors import InvalidVariationField

NAME_MAX_LENGTH: Final = 255
DESCRIPTION_MAX_LENGTH: Final = 4096
# `sort_order` is a 32-bit INTEGER column on both databases.
SORT_ORDER_MIN: Final = -(2**31)
SORT_ORDER_MAX: Final = 2**31 - 1
# EP: option names are used in child slugs, so they hold only what a slug may hold.
OPTION_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_.\-]+")

VARIATION_FIELDS: Final = frozenset({"name", "sort_order"})
OPTION_FIELDS: Final = frozenset({"name", "description", "sort_order"})


def check_text(field: str, value: object, *, max_length: int, required: bool) -> str | None:
    """Text of at most `max_length` characters; None only where it is not `required`."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidVariationField(field, f"{field} is required and must be a non-empty text")
    if len(value) > max_length:
        raise InvalidVariationField(
            field, f"{field} is {len(value)} characters long; the limit is {max_length}"
        )
    what = unstorable_character(value)
    if what is not None:
        raise InvalidVariationField(field, f"{field} must not contain {what}")
    return value


def check_sort_order(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidVariationField("sort_order", "sort_order must be a whole number or null")
    if not SORT_ORDER_MIN <= value <= SORT_ORDER_MAX:
        raise InvalidVariationField(
            "sort_order", f"sort_order must be between {SORT_ORDER_MIN} and {SORT_ORDER_MAX}"
        )
    return value


def check_option_name(value: object) -> str:
    name = check_text("name", value, max_length=NAME_MAX_LENGTH, required=True)
    assert name is not None
    if OPTION_NAME_PATTERN.fullmatch(name) is None:
        raise InvalidVariationField(
            "name",
            f"option name {name!r} may only contain letters A-Z a-z, digits 0-9, '-', '_' and "
            "'.' (it becomes part of child slugs); write e.g. 'Extra-Large'",
        )
    return name


def check_variation_fields(fields: Mapping[str, Any], *, is_new: bool) -> dict[str, Any]:
    """The variation fields to store; a new variation needs a name."""
    if is_new and "name" not in fields:
        raise InvalidVariationField("name", "name is required and must be a non-empty text")
    checked: dict[str, Any] = {}
    if "name" in fields:
        checked["name"] = check_text(
            "name", fields["name"], max_length=NAME_MAX_LENGTH, required=True
        )
    if "sort_order" in fields:
        checked["sort_order"] = check_sort_order(fields["sort_order"])
    return checked


def check_option_fields(fields: Mapping[str, Any], *, is_new: bool) -> dict[str, Any]:
    """The option fields to store; a new option needs a name."""
    if is_new and "name" not in fields:
        raise InvalidVariationField("name", "name is required and must be a non-empty text")
    checked: dict[str, Any] = {}
    if "name" in fields:
        checked["name"] = check_option_name(fields["name"])
    if "description" in fields:
        checked["description"] = check_text(
            "description", fields["description"], max_length=DESCRIPTION_MAX_LENGTH, required=False
        )
    if "sort_order" in fields:
        checked["sort_order"] = check_sort_order(fields["sort_order"])
    return checked
