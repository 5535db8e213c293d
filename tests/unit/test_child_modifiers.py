"""A child's values: its base product's, changed by each modifier type in the documented order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.catalog.products.children.modifiers import (
    INHERITED,
    MODIFIER_TYPES,
    ChildValues,
    apply_modifiers,
    combination_effects,
    inherited_values,
)
from pxm_jobs.catalog.products.rule_basics import ProductLimits

LIMITS = ProductLimits(tags_max=20, tag_max_length=255, external_ref_max_length=2048)
BASE: dict[str, Any] = {
    "name": "Shirt",
    "description": "Cotton",
    "slug": "shirt",
    "sku": "SHIRT-{COLOUR}-{SIZE}",
    "status": "draft",
    "commodity_type": "physical",
    "upc_ean": "123",
    "mpn": "MPN-1",
    "external_ref": "erp-1",
    "main_image_id": "image-1",
    "tags": ["summer"],
    "locales": {"fr-FR": {"name": "Chemise"}},
    "templates": {"care": {"wash": "cold"}},
    "custom_inputs": None,
    "shopper_attributes": {"fit": "slim"},
    "admin_attributes": {"bin": "A1"},
    "build_rules": {"default": "include"},
}


@dataclass(frozen=True)
class Modifier:
    type: str
    value: Any = None
    seek: str | None = None
    set: str | None = None
    reference_name: str | None = None


@dataclass(frozen=True)
class Option:
    id: str
    name: str
    modifiers: tuple[Modifier, ...]
    description: str | None = None


def made_from(combination: tuple[Option, ...], label: str) -> ChildValues:
    return apply_modifiers(inherited_values(BASE), combination_effects(combination), LIMITS, label)


def child(*options: tuple[Modifier, ...]) -> dict[str, Any]:
    combination = tuple(Option(f"o{i}", f"O{i}", mods) for i, mods in enumerate(options))
    made = apply_modifiers(
        inherited_values(BASE), combination_effects(combination), LIMITS, "Size S"
    )
    assert made.problems == []
    return made.values


def test_without_modifiers_a_child_inherits_all_but_the_base_products_identity() -> None:
    values = child(())
    assert values == {name: BASE[name] for name in INHERITED}
    assert "external_ref" not in values and "build_rules" not in values


@pytest.mark.parametrize(
    ("modifier", "attribute", "expected"),
    [
        (Modifier("name_equals", "Tee"), "name", "Tee"),
        (Modifier("name_append", " Red"), "name", "Shirt Red"),
        (Modifier("name_prepend", "Red "), "name", "Red Shirt"),
        (Modifier("description_equals", "Linen"), "description", "Linen"),
        (Modifier("description_append", ", red"), "description", "Cotton, red"),
        (Modifier("description_prepend", "Red: "), "description", "Red: Cotton"),
        (Modifier("sku_equals", "TEE"), "sku", "TEE"),
        (Modifier("sku_append", "-X"), "sku", "SHIRT-{COLOUR}-{SIZE}-X"),
        (Modifier("sku_prepend", "X-"), "sku", "X-SHIRT-{COLOUR}-{SIZE}"),
        (Modifier("sku_builder", seek="{COLOUR}", set="RED"), "sku", "SHIRT-RED-{SIZE}"),
        (Modifier("slug_equals", "tee"), "slug", "tee"),
        (Modifier("slug_append", "-red"), "slug", "shirt-red"),
        (Modifier("slug_prepend", "red-"), "slug", "red-shirt"),
        (Modifier("slug_builder", seek="shirt", set="tee"), "slug", "tee"),
        (Modifier("status", "live"), "status", "live"),
        (Modifier("commodity_type", "digital"), "commodity_type", "digital"),
        (Modifier("upc_ean_equals", "999"), "upc_ean", "999"),
        (Modifier("mpn_equals", "MPN-RED"), "mpn", "MPN-RED"),
        (Modifier("external_ref_equals", "erp-red"), "external_ref", "erp-red"),
        (
            Modifier("custom_inputs_equals", {"note": {"name": "Note", "required": False}}),
            "custom_inputs",
            {"note": {"name": "Note", "required": False}},
        ),
        (
            Modifier("build_rules_equals", {"default": "exclude"}),
            "build_rules",
            {"default": "exclude"},
        ),
        (
            Modifier("locales_equals", {"de-DE": {"name": "Hemd"}}),
            "locales",
            {"de-DE": {"name": "Hemd"}},
        ),
    ],
)
def test_each_modifier_type_changes_its_attribute(
    modifier: Modifier, attribute: str, expected: Any
) -> None:
    values = child((modifier,))
    assert values[attribute] == expected
    others = {name: value for name, value in values.items() if name != attribute}
    assert others == {name: BASE[name] for name in INHERITED if name != attribute}


def test_every_modifier_type_pim_yaml_lists_is_known() -> None:
    assert {
        "commodity_type", "status", "price",
        "name_append", "name_prepend", "name_equals",
        "sku_append", "sku_prepend", "sku_equals", "sku_builder",
        "slug_append", "slug_prepend", "slug_equals", "slug_builder",
        "description_append", "description_prepend", "description_equals",
        "custom_inputs_equals", "build_rules_equals", "locales_equals",
        "upc_ean_equals", "mpn_equals", "external_ref_equals",
    } == MODIFIER_TYPES  # fmt: skip


def test_a_price_modifier_changes_no_attribute_and_is_kept_by_reference_name() -> None:
    combination = (Option("o", "O", (Modifier("price", reference_name="large_surcharge"),)),)
    made = apply_modifiers(
        inherited_values(BASE), combination_effects(combination), LIMITS, "Size L"
    )
    assert made.values == {name: BASE[name] for name in INHERITED}
    assert made.price_references == ("large_surcharge",)


def test_equals_then_builders_then_prepends_then_appends_in_option_order() -> None:
    size = (
        Modifier("sku_builder", seek="{SIZE}", set="M"),
        Modifier("sku_append", "-s"),
        Modifier("sku_prepend", "p1-"),
        Modifier("name_equals", "Tee"),
    )
    colour = (
        Modifier("sku_builder", seek="{COLOUR}", set="RED"),
        Modifier("sku_append", "-c"),
        Modifier("sku_prepend", "p2-"),
        Modifier("name_append", " Red"),
    )
    values = child(size, colour)
    assert values["sku"] == "p1-p2-SHIRT-RED-M-s-c"
    assert values["name"] == "Tee Red"


def test_the_last_options_equals_wins() -> None:
    values = child((Modifier("status", "live"),), (Modifier("status", "draft"),))
    assert values["status"] == "draft"
    values = child((Modifier("slug_equals", "a"),), (Modifier("slug_equals", "b"),))
    assert values["slug"] == "b"


@pytest.mark.parametrize(
    ("modifier", "field"),
    [
        (Modifier("slug_append", " red!"), "slug"),
        (Modifier("status", "sold"), "status"),
        (Modifier("commodity_type", "liquid"), "commodity_type"),
        (Modifier("sku_append", "x" * 300), "sku"),
        (Modifier("slug_equals", ""), "slug"),
        (Modifier("name_equals", "   "), "name"),
        (Modifier("name_append", 5), "name_append"),
        (Modifier("locales_equals", {"not a locale": {}}), "locales"),
    ],
)
def test_a_modifier_that_breaks_a_product_rule_is_a_problem_naming_the_child(
    modifier: Modifier, field: str
) -> None:
    combination = (Option("o", "O", (modifier,)),)
    made = apply_modifiers(
        inherited_values(BASE), combination_effects(combination), LIMITS, "Colour Red"
    )
    assert [problem.field for problem in made.problems] == [field]
    assert made.problems[0].message.startswith("child Colour Red: ")


texts = st.text(alphabet="abcXYZ-_.09", min_size=0, max_size=6)


@given(appends=st.lists(texts, min_size=1, max_size=4), prepends=st.lists(texts, max_size=4))
def test_appends_and_prepends_concatenate_in_option_order(
    appends: list[str], prepends: list[str]
) -> None:
    options = [
        (Modifier("slug_append", text),)
        + ((Modifier("slug_prepend", prepends[i]),) if i < len(prepends) else ())
        for i, text in enumerate(appends)
    ]
    values = child(*options)
    used = prepends[: len(appends)]
    assert values["slug"] == "".join(used) + "shirt" + "".join(appends)
