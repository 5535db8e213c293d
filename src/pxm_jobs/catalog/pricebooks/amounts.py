"""The shapes money takes in a price: currencies, their tiers, and sales with schedules.

Shared by prices and modifiers; `rules` has the rest of their attributes, and the module
docstring there says how checks report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pxm_jobs.catalog.pricebooks.currency_codes import CURRENCY_CODES
from pxm_jobs.catalog.text_rules import is_storable, unstorable_character
from pxm_jobs.clock import format_timestamp

# Problem codes, shown as `meta.code` of job errors.
REQUIRED = "required"
INVALID_TYPE = "invalid_type"
INVALID_VALUE = "invalid_value"
UNKNOWN_ATTRIBUTE = "unknown_attribute"
TOO_LONG = "too_long"
TOO_MANY = "too_many"
CONFLICT = "conflict"
# Amounts and quantities are stored as 64-bit integers wherever prices go next.
AMOUNT_MAX = 2**63 - 1
_CURRENCY_KEYS = ("amount", "includes_tax", "tiers")
_TIER_KEYS = ("minimum_quantity", "amount")
_CURRENCY_KEY_SET = frozenset(_CURRENCY_KEYS)
_TIER_KEY_SET = frozenset(_TIER_KEYS)
_SALE_KEYS = ("schedule", "currencies", "bundle_ids")
_SCHEDULE_KEYS = ("valid_from", "valid_to")

# message, field, code
Report = Callable[[str, str, str], None]


def check_storable(text: str, field: str, report: Report) -> bool:
    """Whether `text` can be kept; if not, reports what no database column can hold."""
    what = unstorable_character(text)
    if what is None:
        return True
    report(f"{field} must not contain {what}", field, INVALID_VALUE)
    return False


def check_currencies(value: Any, field: str, report: Report) -> dict[str, Any] | None:
    """`{"USD": {"amount", "includes_tax", "tiers"?}, ...}` with at least one currency."""
    if type(value) is not dict or not value:
        message = (
            f"{field} must be an object with at least one currency, such as "
            '{"USD": {"amount": 1999, "includes_tax": false}}'
        )
        report(message, field, REQUIRED if value is None else INVALID_TYPE)
        return None
    checked: dict[str, Any] = {}
    for code, entry in value.items():
        if code in CURRENCY_CODES and (fast := _well_formed_amount(entry)) is not None:
            checked[code] = fast
            continue
        where = f"{field}.{code}"
        if code not in CURRENCY_CODES:
            hint = f"; did you mean {code.upper()}?" if code.upper() in CURRENCY_CODES else ""
            report(
                f"{code!r} is not an ISO 4217 currency code (three capital letters, such as "
                f"USD or EUR){hint}",
                where,
                INVALID_VALUE,
            )
            continue
        amount = _check_amount_entry(entry, where, report)
        if amount is not None:
            checked[code] = amount
    return checked if len(checked) == len(value) else None


def _well_formed_amount(entry: Any) -> dict[str, Any] | None:
    """The entry in canonical form if nothing is wrong with it, else None (look closer).

    Most entries of a large import are well formed; this tells them apart without building
    the field names and messages a problem needs, a third of the import's checking time.
    """
    if type(entry) is not dict or not entry.keys() <= _CURRENCY_KEY_SET:
        return None
    amount = entry.get("amount")
    includes_tax = entry.get("includes_tax", False)
    if type(amount) is not int or not 0 <= amount <= AMOUNT_MAX or type(includes_tax) is not bool:
        return None
    tiers = entry.get("tiers")
    if tiers is None:
        return {"amount": amount, "includes_tax": includes_tax}
    if type(tiers) is not dict:
        return None
    checked: dict[str, Any] = {}
    quantities = set()
    for name, tier in tiers.items():
        if type(tier) is not dict or tier.keys() != _TIER_KEY_SET or not is_storable(name):
            return None
        quantity, tier_amount = tier["minimum_quantity"], tier["amount"]
        if type(quantity) is not int or type(tier_amount) is not int:
            return None
        if not 1 <= quantity <= AMOUNT_MAX or not 0 <= tier_amount <= AMOUNT_MAX:
            return None
        if quantity in quantities:
            return None
        quantities.add(quantity)
        checked[name] = {"minimum_quantity": quantity, "amount": tier_amount}
    result: dict[str, Any] = {"amount": amount, "includes_tax": includes_tax}
    if checked:
        result["tiers"] = checked
    return result


def _check_amount_entry(entry: Any, where: str, report: Report) -> dict[str, Any] | None:
    if type(entry) is not dict:
        report(f"{where} must be an object with an amount", where, INVALID_TYPE)
        return None
    unknown = refuse_unknown(entry, _CURRENCY_KEYS, where, report, prefix=f"{where}.")
    amount = _check_whole(entry.get("amount"), f"{where}.amount", 0, report)
    includes_tax = entry.get("includes_tax", False)
    if type(includes_tax) is not bool:
        report(f"{where}.includes_tax must be true or false", f"{where}.includes_tax", INVALID_TYPE)
        return None
    tiers = entry.get("tiers")
    checked_tiers = _check_tiers(tiers, f"{where}.tiers", report) if tiers is not None else {}
    if amount is None or checked_tiers is None or unknown:
        return None
    result: dict[str, Any] = {"amount": amount, "includes_tax": includes_tax}
    if checked_tiers:
        result["tiers"] = checked_tiers
    return result


def _check_tiers(tiers: Any, where: str, report: Report) -> dict[str, Any] | None:
    if type(tiers) is not dict:
        report(
            f'{where} must be an object of named tiers, such as {{"min_5": '
            '{"minimum_quantity": 5, "amount": 950}}',
            where,
            INVALID_TYPE,
        )
        return None
    checked: dict[str, Any] = {}
    by_quantity: dict[int, str] = {}
    for name, tier in tiers.items():
        at = f"{where}.{name}"
        if not check_storable(name, f"{where} (a tier's name)", report):
            continue
        if type(tier) is not dict:
            report(f"{at} must be an object with minimum_quantity and amount", at, INVALID_TYPE)
            continue
        unknown = refuse_unknown(tier, _TIER_KEYS, at, report, prefix=f"{at}.")
        quantity = _check_whole(tier.get("minimum_quantity"), f"{at}.minimum_quantity", 1, report)
        amount = _check_whole(tier.get("amount"), f"{at}.amount", 0, report)
        if quantity is None or amount is None or unknown:
            continue
        if quantity in by_quantity:
            report(
                f"tiers {by_quantity[quantity]!r} and {name!r} both start at {quantity}; "
                "give each tier of a currency its own minimum_quantity",
                f"{at}.minimum_quantity",
                CONFLICT,
            )
            continue
        by_quantity[quantity] = name
        checked[name] = {"minimum_quantity": quantity, "amount": amount}
    return checked if len(checked) == len(tiers) else None


def _check_whole(value: Any, field: str, lowest: int, report: Report) -> int | None:
    if value is None:
        report(f"{field} is missing; give a whole number", field, REQUIRED)
        return None
    if type(value) is not int:
        unit = "minor units (1999 for 19.99)" if field.endswith("amount") else "items"
        report(f"{field} must be a whole number of {unit}, got {value!r}", field, INVALID_TYPE)
        return None
    if not lowest <= value <= AMOUNT_MAX:
        report(
            f"{field} must be between {lowest} and {AMOUNT_MAX}, got {value}", field, INVALID_VALUE
        )
        return None
    return value


def check_sales(sales: Any, report: Report) -> dict[str, Any] | None:
    """Named sales; two sales of one price may not share a schedule (no schedule counts too)."""
    if sales is None:
        return None
    if type(sales) is not dict:
        report(
            'sales must be an object of named sales, such as {"summer": {...}}',
            "sales",
            INVALID_TYPE,
        )
        return None
    checked: dict[str, Any] = {}
    schedules: dict[tuple[str | None, str | None], str] = {}
    for name, sale in sales.items():
        at = f"sales.{name}"
        if not check_storable(name, "sales (a sale's name)", report):
            continue
        if type(sale) is not dict:
            report(f"{at} must be an object with a schedule and currencies", at, INVALID_TYPE)
            continue
        unknown = refuse_unknown(sale, _SALE_KEYS, at, report, prefix=f"{at}.")
        result: dict[str, Any] = {}
        usable, schedule = _check_schedule(sale.get("schedule"), f"{at}.schedule", report)
        if not usable or unknown:
            continue
        key = (schedule or {}).get("valid_from"), (schedule or {}).get("valid_to")
        if key in schedules:
            report(
                f"sales {schedules[key]!r} and {name!r} have the same schedule; a price's "
                "sales need different schedules (only one may have none)",
                f"{at}.schedule",
                CONFLICT,
            )
            continue
        schedules[key] = name
        if schedule:
            result["schedule"] = schedule
        if sale.get("currencies") is not None:
            currencies = check_currencies(sale["currencies"], f"{at}.currencies", report)
            if currencies is None:
                continue
            result["currencies"] = currencies
        if sale.get("bundle_ids") is not None:
            bundle_ids = _check_bundle_ids(sale["bundle_ids"], f"{at}.bundle_ids", report)
            if bundle_ids is None:
                continue
            result["bundle_ids"] = bundle_ids
        checked[name] = result
    return checked if len(checked) == len(sales) else None


def _check_schedule(
    schedule: Any, where: str, report: Report
) -> tuple[bool, dict[str, str] | None]:
    """Whether the schedule is usable, and it with UTC timestamps (None for no schedule)."""
    if schedule is None:
        return True, None
    if type(schedule) is not dict:
        report(f"{where} must be an object with valid_from and valid_to", where, INVALID_TYPE)
        return False, None
    unknown = refuse_unknown(schedule, _SCHEDULE_KEYS, where, report, prefix=f"{where}.")
    result: dict[str, str] = {}
    moments: dict[str, datetime] = {}
    for key in _SCHEDULE_KEYS:
        value = schedule.get(key)
        if value is None:
            continue
        moment = _read_moment(value)
        if moment is None:
            report(
                f"{where}.{key} must be a timestamp such as 2024-12-01T09:00:00Z, got {value!r}",
                f"{where}.{key}",
                INVALID_VALUE,
            )
            return False, None
        moments[key] = moment
        result[key] = format_timestamp(moment) or ""
    if len(moments) == 2 and moments["valid_from"] >= moments["valid_to"]:
        report(f"{where}: valid_from must come before valid_to", f"{where}.valid_to", INVALID_VALUE)
        return False, None
    return not unknown, result or None


def _read_moment(value: Any) -> datetime | None:
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A timestamp without a zone, as Elastic Path's own examples write them, is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_bundle_ids(value: Any, where: str, report: Report) -> list[str] | None:
    if type(value) is not list or not all(type(item) is str for item in value):
        report(f"{where} must be a list of product ids", where, INVALID_TYPE)
        return None
    ids = []
    for item in value:
        try:
            ids.append(str(UUID(item)))
        except ValueError:
            report(f"{where}: {item!r} is not a product id (a UUID)", where, INVALID_VALUE)
            return None
    return ids


def refuse_unknown(
    mapping: Mapping[str, Any],
    allowed: tuple[str, ...],
    what: str,
    report: Report,
    *,
    prefix: str = "",
    ignored: frozenset[str] = frozenset(),
) -> bool:
    """Report keys outside `allowed` and `ignored`; True if there were any."""
    unknown = [key for key in mapping if key not in allowed and key not in ignored]
    for key in unknown:
        report(
            f"unknown attribute {key!r} for {what}; use " + ", ".join(allowed),
            f"{prefix}{key}",
            UNKNOWN_ATTRIBUTE,
        )
    return bool(unknown)
