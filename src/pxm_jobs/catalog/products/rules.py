"""What makes product attributes valid: one set of rules for the import and the Products API.

Attributes arrive as plain values: a string, `None` for blank, and a list of strings for tags.
`check_product_attributes` returns the values to store and every problem found, each problem
with a stable `code` a client can act on.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pxm_jobs.catalog.products.rule_basics import (
    INVALID_VALUE,
    REQUIRED,
    TOO_LONG,
    TOO_MANY,
    UNKNOWN_ATTRIBUTE,
    Normalizer,
    ProductLimits,
    RuleViolation,
    check_storable,
)
from pxm_jobs.catalog.products.structured_rules import (
    normalize_build_rules,
    normalize_components,
    normalize_custom_inputs,
    normalize_text_attributes,
)
from pxm_jobs.job_errors import JobErrorDetail

# Unique among a store's products; the import and the Products API both check them first, and
# unique indexes make a duplicate impossible rather than unlikely.
UNIQUE_ATTRIBUTES = ("sku", "slug", "external_ref")

STATUSES = ("draft", "live")
DEFAULT_STATUS = "draft"
COMMODITY_TYPES = ("physical", "digital")
# Width of the products table's short text columns.
SHORT_TEXT_MAX_CHARS = 255
# Long values are cut in error reports: the report is for finding the cell, not storing it.
REPORTED_VALUE_MAX_CHARS = 200

REQUIRED_ON_CREATE = ("name", "commodity_type")
# On an update a blank value of these means "leave as is"; blank optional values clear.
KEPT_WHEN_BLANK = frozenset({"name", "commodity_type", "status", "slug"})

# A locale tag as BCP 47 writes them (`fr-FR`, `zh-Hans-CN`); `_` is common enough to allow.
_LOCALE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")
LOCALIZED_FIELDS = frozenset({"name", "description"})
_SLUG = re.compile(r"[A-Za-z0-9_.\-]+")
_NOT_SLUG = re.compile(r"[^A-Za-z0-9_.\-]+")
_WHITESPACE = re.compile(r"\s")


def check_product_attributes(
    attributes: Mapping[str, Any],
    *,
    is_new: bool,
    limits: ProductLimits,
    row: int | None = None,
    blank_keeps: bool = True,
) -> tuple[dict[str, Any], list[JobErrorDetail]]:
    """The values to store for `attributes`, and every problem with them.

    A blank value is None, an empty or all-whitespace string, or an empty list or mapping. For
    a new product the result is complete (defaults filled, slug derived from the name); for an
    update it holds only what changes. On an update a blank `name`, `commodity_type`, `status`
    or `slug` means "leave as is" when `blank_keeps` (a CSV cell cannot be absent); the Products
    API, where an attribute can simply be left out, passes False and gets a problem instead.
    """
    clean: dict[str, Any] = {}
    problems: list[JobErrorDetail] = []
    for name, value in attributes.items():
        normalize = _NORMALIZERS.get(name)
        if normalize is None:
            problems.append(_problem(UNKNOWN_ATTRIBUTE, f"unknown attribute: {name}", row, name))
        elif not value or (value.__class__ is str and value.isspace()):
            if is_new or name not in KEPT_WHEN_BLANK:
                clean[name] = None
            elif not blank_keeps:
                message = f"{name} cannot be blank; leave it out to keep the current value"
                problems.append(_problem(REQUIRED, message, row, name))
        else:
            try:
                if value.__class__ is str:
                    check_storable(value)
                clean[name] = normalize(value, limits)
            except RuleViolation as violation:
                problems.append(
                    _problem(violation.code, violation.message, row, name, _report(value))
                )
    if is_new:
        _complete_new_product(clean, problems, row)
    return clean, problems


def _complete_new_product(
    clean: dict[str, Any], problems: list[JobErrorDetail], row: int | None
) -> None:
    for name in REQUIRED_ON_CREATE:
        # A value that was given but refused already has its problem; don't add "required".
        if clean.get(name) is None and not any(problem.field == name for problem in problems):
            problems.append(_problem(REQUIRED, f"{name} is required for a new product", row, name))
    if clean.get("status") is None:
        clean["status"] = DEFAULT_STATUS
    if clean.get("slug") is None and clean.get("name") is not None:
        clean["slug"] = derive_slug(clean["name"])


def derive_slug(name: str) -> str:
    """A slug made from a product name: ASCII letters and digits, words joined with `-`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name).strip("-").lower()[:SHORT_TEXT_MAX_CHARS]
    if slug:
        return slug
    # A name with no Latin letters at all still needs a stable, valid slug.
    return "product-" + hashlib.sha1(name.encode()).hexdigest()[:12]


def normalize_text(value: str, _limits: ProductLimits) -> str:
    return value


def check_short_text(field: str, value: str) -> str:
    if len(value) > SHORT_TEXT_MAX_CHARS:
        raise RuleViolation(TOO_LONG, f"{field} must be at most {SHORT_TEXT_MAX_CHARS} characters")
    return value


def _short_text_normalizer(field: str) -> Normalizer:
    def normalize_short_text(value: str, _limits: ProductLimits) -> str:
        return check_short_text(field, value)

    return normalize_short_text


def normalize_slug(value: str, _limits: ProductLimits) -> str:
    if _SLUG.fullmatch(value) is None:
        raise RuleViolation(
            INVALID_VALUE, "slug may contain only letters A-Z a-z, digits 0-9, '-', '_' and '.'"
        )
    return check_short_text("slug", value)


def normalize_status(value: str, _limits: ProductLimits) -> str:
    status = value.strip().lower()
    if status not in STATUSES:
        raise RuleViolation(INVALID_VALUE, f"status must be draft or live, not {value!r}")
    return status


def normalize_commodity_type(value: str, _limits: ProductLimits) -> str:
    commodity_type = value.strip().lower()
    if commodity_type not in COMMODITY_TYPES:
        raise RuleViolation(
            INVALID_VALUE, f"commodity_type must be physical or digital, not {value!r}"
        )
    return commodity_type


def normalize_external_ref(value: str, limits: ProductLimits) -> str:
    if len(value) > limits.external_ref_max_length:
        raise RuleViolation(
            TOO_LONG, f"external_ref must be at most {limits.external_ref_max_length} characters"
        )
    return value


def normalize_tags(value: list[str], limits: ProductLimits) -> list[str]:
    if len(value) > limits.tags_max:
        raise RuleViolation(
            TOO_MANY, f"a product may have at most {limits.tags_max} tags, not {len(value)}"
        )
    for tag in value:
        if not tag:
            raise RuleViolation(INVALID_VALUE, "tags must not be empty (check for doubled commas)")
        if len(tag) > limits.tag_max_length:
            raise RuleViolation(
                TOO_LONG, f"each tag must be at most {limits.tag_max_length} characters"
            )
        if "," in tag or _WHITESPACE.search(tag):
            raise RuleViolation(INVALID_VALUE, f"tag {tag!r} must not contain spaces or commas")
        check_storable(tag)
    return value


def normalize_locales(
    value: Mapping[str, Mapping[str, str | None]], _limits: ProductLimits
) -> dict[str, dict[str, str]]:
    """Translations by locale: `{"fr-FR": {"name": ..., "description": ...}}`."""
    locales: dict[str, dict[str, str]] = {}
    for locale, texts in value.items():
        if _LOCALE.fullmatch(locale) is None:
            raise RuleViolation(
                INVALID_VALUE, f"{locale!r} is not a locale; use a language tag such as fr-FR"
            )
        if not isinstance(texts, Mapping):
            raise RuleViolation(INVALID_VALUE, f"locales.{locale} must be an object")
        unknown = sorted(set(texts) - LOCALIZED_FIELDS)
        if unknown:
            message = f"locales.{locale} may hold only name and description, not {unknown[0]}"
            raise RuleViolation(INVALID_VALUE, message)
        checked: dict[str, str] = {}
        for field, text in texts.items():
            if text is not None and not isinstance(text, str):
                raise RuleViolation(INVALID_VALUE, f"locales.{locale}.{field} must be text")
            if text and not text.isspace():
                checked[field] = check_storable(text)
        locales[locale] = checked
    return locales


_NORMALIZERS: dict[str, Normalizer] = {
    "name": normalize_text,
    "description": normalize_text,
    "slug": normalize_slug,
    "status": normalize_status,
    "commodity_type": normalize_commodity_type,
    "sku": _short_text_normalizer("sku"),
    "upc_ean": _short_text_normalizer("upc_ean"),
    "mpn": _short_text_normalizer("mpn"),
    "external_ref": normalize_external_ref,
    "tags": normalize_tags,
    "main_image_id": _short_text_normalizer("main_image_id"),
    # Not CSV columns: only the Products API sets them, and an import leaves them as they are.
    "locales": normalize_locales,
    "custom_inputs": normalize_custom_inputs,
    "build_rules": normalize_build_rules,
    "components": normalize_components,
    # CSV columns `shopper_attributes.<key>`, merged into the product's map by the import.
    "shopper_attributes": normalize_text_attributes,
    "admin_attributes": normalize_text_attributes,
}
PRODUCT_ATTRIBUTES = tuple(_NORMALIZERS)


def _problem(
    code: str, message: str, row: int | None, field: str, value: str | None = None
) -> JobErrorDetail:
    return JobErrorDetail(message=message, code=code, row=row, field=field, value=value)


def _report(value: Any) -> str:
    text = ",".join(value) if isinstance(value, list) else str(value)
    if len(text) > REPORTED_VALUE_MAX_CHARS:
        return text[:REPORTED_VALUE_MAX_CHARS] + "…"
    return text
