"""The rules of prices: what is accepted, in which canonical shape, and where a problem is."""

from __future__ import annotations

from typing import Any

from pxm_jobs.catalog.pricebooks.rules import (
    PricebookLimits,
    check_modifier_attributes,
    check_price_attributes,
    check_pricebook_attributes,
)

LIMITS = PricebookLimits(external_ref_max_length=10)


def checked(
    check: Any, attributes: dict[str, Any], *, is_new: bool = True
) -> tuple[Any, list[str]]:
    problems: list[str] = []
    values = check(
        attributes,
        is_new=is_new,
        limits=LIMITS,
        report=lambda message, field, code: problems.append(field),
    )
    return values, problems


def test_a_price_comes_out_in_one_canonical_shape() -> None:
    values, problems = checked(
        check_price_attributes,
        {
            "sku": "S",
            "currencies": {"EUR": {"amount": 5}},
            "sales": {"w": {"schedule": {"valid_from": "2024-01-01T02:00:00+02:00"}}},
            "external_ref": "",
            "admin_attributes": {"keep": "1", "drop": None},
            "created_at": "ignored",
        },
    )
    assert problems == []
    assert values == {
        "sku": "S",
        "currencies": {"EUR": {"amount": 5, "includes_tax": False}},
        "sales": {"w": {"schedule": {"valid_from": "2024-01-01T00:00:00.000Z"}}},
        "external_ref": None,
        "admin_attributes": {"keep": "1"},
    }


def test_an_update_checks_only_what_it_gives() -> None:
    assert checked(check_price_attributes, {}, is_new=False) == ({}, [])
    assert checked(check_price_attributes, {}, is_new=True)[1] == ["sku", "currencies"]


def test_booleans_are_not_amounts_and_limits_hold() -> None:
    _, problems = checked(
        check_price_attributes,
        {
            "sku": 5,
            "currencies": {"USD": {"amount": True}},
            "external_ref": "x" * 11,
            "shopper_attributes": {str(n): "v" for n in range(101)},
            "colour": "red",
        },
    )
    assert problems == [
        "colour",
        "sku",
        "currencies.USD.amount",
        "external_ref",
        "shopper_attributes",
    ]


def test_books_and_modifiers_need_names_and_modifiers_a_known_type() -> None:
    assert checked(check_pricebook_attributes, {"name": "  "})[1] == ["name"]
    _, problems = checked(check_modifier_attributes, {"name": "m", "modifier_type": "double"})
    assert problems == ["modifier_type", "currencies"]
