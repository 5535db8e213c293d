"""The rules of price books, prices and modifiers, shared by the API and the import.

Each check reads attributes as a JSON document gives them (any type may turn up), reports every
problem it finds through `report`, and returns the values to store, in one canonical shape:
amounts are whole numbers of minor units, sale schedules are RFC 3339 UTC timestamps. Fields
are named by their path under `attributes`, such as `currencies.USD.tiers.min_5.amount`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pxm_jobs.catalog.pricebooks.amounts import (
    INVALID_TYPE,
    INVALID_VALUE,
    REQUIRED,
    TOO_LONG,
    TOO_MANY,
    Report,
    check_currencies,
    check_sales,
    check_storable,
    refuse_unknown,
)
from pxm_jobs.config import Settings

NAME_MAX_LENGTH = 255
SKU_MAX_LENGTH = 255
CUSTOM_ATTRIBUTES_MAX = 100
CUSTOM_VALUE_MAX_LENGTH = 4096
MODIFIER_TYPES = ("price_equals", "price_increment", "price_decrement")

# Written by the service itself; a document may carry them back, and they are ignored.
READ_ONLY_ATTRIBUTES = frozenset({"created_at", "updated_at"})
PRICEBOOK_ATTRIBUTES = ("name", "description", "external_ref")
PRICE_ATTRIBUTES = (
    "sku",
    "currencies",
    "sales",
    "external_ref",
    "admin_attributes",
    "shopper_attributes",
)
MODIFIER_ATTRIBUTES = ("name", "modifier_type", "currencies", "external_ref")


@dataclass(frozen=True)
class PricebookLimits:
    external_ref_max_length: int = 2048

    @classmethod
    def from_settings(cls, settings: Settings) -> PricebookLimits:
        return cls(external_ref_max_length=settings.external_ref_max_length)


def check_pricebook_attributes(
    attributes: Mapping[str, Any], *, is_new: bool, limits: PricebookLimits, report: Report
) -> dict[str, Any]:
    """The price book values `attributes` give (only those given); `name` is needed to create."""
    refuse_unknown(
        attributes, PRICEBOOK_ATTRIBUTES, "price book", report, ignored=READ_ONLY_ATTRIBUTES
    )
    values: dict[str, Any] = {}
    if "name" in attributes or is_new:
        values["name"] = _check_name(attributes.get("name"), "price book", report)
    if "description" in attributes:
        values["description"] = _check_text(attributes["description"], "description", report)
    if "external_ref" in attributes:
        values["external_ref"] = check_external_ref(
            attributes["external_ref"], "price book", limits, report
        )
    return values


def check_price_attributes(
    attributes: Mapping[str, Any], *, is_new: bool, limits: PricebookLimits, report: Report
) -> dict[str, Any]:
    """The price values `attributes` give; `sku` and `currencies` are needed to create."""
    refuse_unknown(attributes, PRICE_ATTRIBUTES, "price", report, ignored=READ_ONLY_ATTRIBUTES)
    values: dict[str, Any] = {}
    if "sku" in attributes or is_new:
        values["sku"] = check_sku(attributes.get("sku"), report)
    if "currencies" in attributes or is_new:
        values["currencies"] = check_currencies(attributes.get("currencies"), "currencies", report)
    if "sales" in attributes:
        values["sales"] = check_sales(attributes["sales"], report)
    if "external_ref" in attributes:
        values["external_ref"] = check_external_ref(
            attributes["external_ref"], "price", limits, report
        )
    for name in ("admin_attributes", "shopper_attributes"):
        if name in attributes:
            values[name] = _check_custom_attributes(attributes[name], name, report)
    return values


def check_modifier_attributes(
    attributes: Mapping[str, Any], *, is_new: bool, limits: PricebookLimits, report: Report
) -> dict[str, Any]:
    """The modifier values `attributes` give; name, modifier_type and currencies to create."""
    refuse_unknown(
        attributes, MODIFIER_ATTRIBUTES, "price modifier", report, ignored=READ_ONLY_ATTRIBUTES
    )
    values: dict[str, Any] = {}
    if "name" in attributes or is_new:
        values["name"] = _check_name(attributes.get("name"), "price modifier", report)
    if "modifier_type" in attributes or is_new:
        values["modifier_type"] = _check_modifier_type(attributes.get("modifier_type"), report)
    if "currencies" in attributes or is_new:
        values["currencies"] = check_currencies(attributes.get("currencies"), "currencies", report)
    if "external_ref" in attributes:
        values["external_ref"] = check_external_ref(
            attributes["external_ref"], "price modifier", limits, report
        )
    return values


def check_sku(value: Any, report: Report) -> str | None:
    if value is None or value == "":
        report("missing sku for price: give the sku of the product it prices", "sku", REQUIRED)
        return None
    if type(value) is not str:
        report("invalid type for sku for price: it must be a string", "sku", INVALID_TYPE)
        return None
    if len(value) > SKU_MAX_LENGTH:
        report(f"sku is longer than {SKU_MAX_LENGTH} characters", "sku", TOO_LONG)
        return None
    return value if check_storable(value, "sku", report) else None


def check_external_ref(
    value: Any, what: str, limits: PricebookLimits, report: Report
) -> str | None:
    """An external ref, or None for none (an empty string clears it too)."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        report(
            f"invalid type for external_ref for {what}: it must be a string",
            "external_ref",
            INVALID_TYPE,
        )
        return None
    if len(value) > limits.external_ref_max_length:
        report(
            f"external_ref is longer than {limits.external_ref_max_length:,} characters",
            "external_ref",
            TOO_LONG,
        )
        return None
    return value if check_storable(value, "external_ref", report) else None


def _check_custom_attributes(value: Any, field: str, report: Report) -> dict[str, str] | None:
    """String keys and values, at most 100; a null value leaves the key out."""
    if value is None:
        return None
    if type(value) is not dict:
        report(
            f'{field} must be an object of strings, such as {{"cost": "42.0"}}', field, INVALID_TYPE
        )
        return None
    kept = {key: item for key, item in value.items() if item is not None}
    if len(kept) > CUSTOM_ATTRIBUTES_MAX:
        report(
            f"{field} has {len(kept)} keys; at most {CUSTOM_ATTRIBUTES_MAX} are allowed",
            field,
            TOO_MANY,
        )
        return None
    for key, item in kept.items():
        if not key or len(key) > NAME_MAX_LENGTH:
            report(f"{field} keys must be 1 to {NAME_MAX_LENGTH} characters", field, INVALID_VALUE)
            return None
        if not check_storable(key, f"{field} (a key)", report):
            return None
        if type(item) is not str:
            report(f"{field}.{key} must be a string, got {item!r}", f"{field}.{key}", INVALID_TYPE)
            return None
        if len(item) > CUSTOM_VALUE_MAX_LENGTH:
            report(
                f"{field}.{key} is longer than {CUSTOM_VALUE_MAX_LENGTH:,} characters",
                f"{field}.{key}",
                TOO_LONG,
            )
            return None
        if not check_storable(item, f"{field}.{key}", report):
            return None
    return kept or None


def _check_name(value: Any, what: str, report: Report) -> str | None:
    if value is None or (type(value) is str and not value.strip()):
        report(f"missing name for {what}: give it a name", "name", REQUIRED)
        return None
    if type(value) is not str:
        report(f"invalid type for name for {what}: it must be a string", "name", INVALID_TYPE)
        return None
    if len(value) > NAME_MAX_LENGTH:
        report(f"name is longer than {NAME_MAX_LENGTH} characters", "name", TOO_LONG)
        return None
    return value if check_storable(value, "name", report) else None


def _check_text(value: Any, field: str, report: Report) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        report(f"{field} must be a string", field, INVALID_TYPE)
        return None
    return value if check_storable(value, field, report) else None


def _check_modifier_type(value: Any, report: Report) -> str | None:
    if value not in MODIFIER_TYPES:
        code = REQUIRED if value is None else INVALID_VALUE
        report("modifier_type must be one of " + ", ".join(MODIFIER_TYPES), "modifier_type", code)
        return None
    return str(value)
