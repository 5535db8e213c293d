"""The rules a hierarchy's or node's own fields follow, checked before anything is written."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pxm_jobs.catalog.hierarchies.errors import InvalidCatalogField
from pxm_jobs.catalog.text_rules import unstorable_character

# Names and slugs are indexed for sibling uniqueness; PostgreSQL caps an index entry at about
# 2,700 bytes, so a bound here keeps an overlong name a 422 rather than a database error.
NAME_MAX_LENGTH: Final = 255
SLUG_MAX_LENGTH: Final = 255
# `sort_order` is a 32-bit INTEGER column on both databases.
SORT_ORDER_MIN: Final = -(2**31)
SORT_ORDER_MAX: Final = 2**31 - 1

SLUG_PATTERN: Final = re.compile(r"[A-Za-z0-9_.\-]+")

# The fields a caller may set, on a hierarchy and on a node (besides the node's parent).
HIERARCHY_FIELDS: Final = frozenset({"name", "description", "slug", "locales"})
NODE_FIELDS: Final = HIERARCHY_FIELDS | {"sort_order"}


def check_storable(field: str, text: str) -> str:
    """`text`, unless it holds a character no database column can keep."""
    what = unstorable_character(text)
    if what is not None:
        raise InvalidCatalogField(field, f"{field} must not contain {what}")
    return text


def check_name(value: object) -> str:
    """A name: text, not blank, at most `NAME_MAX_LENGTH` characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCatalogField("name", "name is required and cannot be empty")
    if len(value) > NAME_MAX_LENGTH:
        raise InvalidCatalogField(
            "name", f"name is {len(value)} characters long; the limit is {NAME_MAX_LENGTH}"
        )
    return check_storable("name", value)


def check_slug(value: object) -> str | None:
    """A slug, or None: only letters, digits, `-`, `_` and `.`."""
    if value is None:
        return None
    if not isinstance(value, str) or not SLUG_PATTERN.fullmatch(value):
        raise InvalidCatalogField(
            "slug",
            f"slug {value!r} may only contain letters A-Z a-z, digits 0-9, '-', '_' and '.'",
        )
    if len(value) > SLUG_MAX_LENGTH:
        raise InvalidCatalogField(
            "slug", f"slug is {len(value)} characters long; the limit is {SLUG_MAX_LENGTH}"
        )
    return value


def check_sort_order(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCatalogField("sort_order", "sort_order must be a whole number")
    if not SORT_ORDER_MIN <= value <= SORT_ORDER_MAX:
        raise InvalidCatalogField(
            "sort_order", f"sort_order must be between {SORT_ORDER_MIN} and {SORT_ORDER_MAX}"
        )
    return value


def check_locales(value: object) -> dict[str, Any] | None:
    """`{"fr-FR": {"name": ..., "description": ...}}`, or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(locale, str) and isinstance(texts, Mapping) for locale, texts in value.items()
    ):
        raise InvalidCatalogField(
            "locales", 'locales must map locale codes to objects: {"fr-FR": {"name": "..."}}'
        )
    for locale, texts in value.items():
        check_storable("locales", locale)
        for text in texts.values():
            if isinstance(text, str):
                check_storable(f"locales.{locale}", text)
    return {locale: dict(texts) for locale, texts in value.items()}


def check_description(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidCatalogField("description", "description must be text")
    return check_storable("description", value)


_CHECKS = {
    "name": check_name,
    "slug": check_slug,
    "sort_order": check_sort_order,
    "locales": check_locales,
    "description": check_description,
}


def check_fields(values: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """`values` checked field by field; a field outside `allowed` is refused, not ignored."""
    checked: dict[str, Any] = {}
    for field, value in values.items():
        if field not in allowed:
            raise InvalidCatalogField(field, f"{field} cannot be set here")
        checked[field] = _CHECKS[field](value)
    return checked
