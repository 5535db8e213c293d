"""The product attribute rules shared by the import and the Products API."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.products.rules import (
    check_product_attributes,
    derive_slug,
    normalize_slug,
)
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail

LIMITS = ProductLimits(tags_max=3, tag_max_length=5, external_ref_max_length=10)
NEW = {"name": "Blue Shoe", "commodity_type": "physical"}


def check_new(**attributes: Any) -> tuple[dict[str, Any], list[JobErrorDetail]]:
    return check_product_attributes({**NEW, **attributes}, is_new=True, limits=LIMITS, row=7)


def check_update(**attributes: Any) -> tuple[dict[str, Any], list[JobErrorDetail]]:
    return check_product_attributes(attributes, is_new=False, limits=LIMITS, row=7)


def codes(problems: list[JobErrorDetail]) -> list[tuple[str | None, str | None]]:
    return [(problem.field, problem.code) for problem in problems]


def test_limits_come_from_settings() -> None:
    settings = Settings(tags_max=4, tag_max_length=9, external_ref_max_length=11)
    assert ProductLimits.from_settings(settings) == ProductLimits(4, 9, 11)


def test_a_new_product_gets_defaults_and_a_slug_from_its_name() -> None:
    values, problems = check_new()
    assert problems == []
    assert values == {
        "name": "Blue Shoe",
        "commodity_type": "physical",
        "status": "draft",
        "slug": "blue-shoe",
    }


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_new_product_needs_a_name(name: str | None) -> None:
    _, problems = check_new(name=name)
    assert problems == [
        JobErrorDetail(
            message="name is required for a new product", code="required", row=7, field="name"
        )
    ]


def test_a_new_product_needs_a_commodity_type_even_without_the_column() -> None:
    _, problems = check_product_attributes({"name": "Shoe"}, is_new=True, limits=LIMITS)
    assert codes(problems) == [("commodity_type", "required")]


@pytest.mark.parametrize(
    ("given_value", "stored"), [("PHYSICAL", "physical"), ("Digital", "digital")]
)
def test_commodity_type_is_case_insensitive(given_value: str, stored: str) -> None:
    values, problems = check_new(commodity_type=given_value)
    assert problems == []
    assert values["commodity_type"] == stored


def test_an_unknown_commodity_type_is_invalid_and_not_also_missing() -> None:
    _, problems = check_new(commodity_type="service")
    assert codes(problems) == [("commodity_type", "invalid_value")]
    assert problems[0].value == "service"
    assert "physical or digital" in problems[0].message


@pytest.mark.parametrize(("given_value", "stored"), [("LIVE", "live"), (" draft ", "draft")])
def test_status_is_case_insensitive(given_value: str, stored: str) -> None:
    values, problems = check_new(status=given_value)
    assert problems == []
    assert values["status"] == stored


def test_an_unknown_status_is_invalid() -> None:
    _, problems = check_new(status="published")
    assert codes(problems) == [("status", "invalid_value")]


@pytest.mark.parametrize("slug", ["blue-shoe", "Blue_Shoe.2", "A"])
def test_valid_slugs_are_kept(slug: str) -> None:
    values, problems = check_new(slug=slug)
    assert problems == []
    assert values["slug"] == slug


@pytest.mark.parametrize("slug", ["blue shoe", "blue/shoe", "café", "a*b"])
def test_slugs_with_other_characters_are_invalid(slug: str) -> None:
    _, problems = check_new(slug=slug)
    assert codes(problems) == [("slug", "invalid_value")]


def test_a_slug_longer_than_its_column_is_too_long() -> None:
    _, problems = check_new(slug="a" * 256)
    assert codes(problems) == [("slug", "too_long")]


def test_derived_slugs_fold_accents_and_punctuation() -> None:
    assert derive_slug("  Crème Brûlée: the Best! ") == "creme-brulee-the-best"


def test_a_name_without_latin_letters_still_derives_a_valid_stable_slug() -> None:
    slug = derive_slug("Кофе")
    assert slug == derive_slug("Кофе")
    assert slug != derive_slug("Чай")
    assert normalize_slug(slug, LIMITS) == slug


@given(st.text(min_size=1))
def test_every_derived_slug_passes_the_slug_rule(name: str) -> None:
    slug = derive_slug(name)
    assert normalize_slug(slug, LIMITS) == slug


def test_external_ref_may_be_as_long_as_the_limit_and_no_longer() -> None:
    assert check_new(external_ref="x" * 10)[1] == []
    _, problems = check_new(external_ref="x" * 11)
    assert codes(problems) == [("external_ref", "too_long")]
    assert "10" in problems[0].message


@pytest.mark.parametrize("field", ["sku", "upc_ean", "mpn", "main_image_id"])
def test_short_text_fields_are_limited_to_their_column(field: str) -> None:
    assert check_new(**{field: "x" * 255})[1] == []
    _, problems = check_new(**{field: "x" * 256})
    assert codes(problems) == [(field, "too_long")]
    assert problems[0].message.startswith(field)


def test_tags_within_the_limits_are_kept() -> None:
    values, problems = check_new(tags=["a", "bb", "ccccc"])
    assert problems == []
    assert values["tags"] == ["a", "bb", "ccccc"]


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        (["a", "b", "c", "d"], "too_many"),
        (["toolong"], "too_long"),
        (["a b"], "invalid_value"),
        (["a\tb"], "invalid_value"),
        (["a,b"], "invalid_value"),
        (["a", ""], "invalid_value"),
    ],
)
def test_tags_breaking_a_rule_are_refused(tags: list[str], code: str) -> None:
    _, problems = check_new(tags=tags)
    assert codes(problems) == [("tags", code)]


def test_every_problem_of_a_row_is_reported() -> None:
    _, problems = check_new(name="", slug="a b", status="x", tags=["a b"])
    assert sorted(codes(problems)) == [
        ("name", "required"),
        ("slug", "invalid_value"),
        ("status", "invalid_value"),
        ("tags", "invalid_value"),
    ]
    assert {problem.row for problem in problems} == {7}


def test_an_update_holds_only_what_it_changes() -> None:
    values, problems = check_update(name="New name", description="Soft")
    assert problems == []
    assert values == {"name": "New name", "description": "Soft"}


@pytest.mark.parametrize("field", ["name", "commodity_type", "status", "slug"])
def test_a_blank_kept_field_on_an_update_changes_nothing(field: str) -> None:
    values, problems = check_update(**{field: ""})
    assert problems == []
    assert values == {}


@pytest.mark.parametrize(
    "field", ["description", "sku", "upc_ean", "mpn", "external_ref", "tags", "main_image_id"]
)
def test_a_blank_optional_field_on_an_update_clears_it(field: str) -> None:
    values, problems = check_update(**{field: " "})
    assert problems == []
    assert values == {field: None}


def test_an_unknown_attribute_is_reported() -> None:
    _, problems = check_update(colour="red")
    assert codes(problems) == [("colour", "unknown_attribute")]


def test_a_long_value_is_cut_in_the_report() -> None:
    _, problems = check_new(status="x" * 1000)
    assert problems[0].value is not None
    assert len(problems[0].value) <= 201


@pytest.mark.parametrize("field", ["name", "commodity_type", "status", "slug"])
def test_where_a_field_can_be_left_out_blanking_a_kept_field_is_a_problem(field: str) -> None:
    values, problems = check_product_attributes(
        {field: None}, is_new=False, limits=LIMITS, blank_keeps=False
    )
    assert values == {}
    assert codes(problems) == [(field, "required")]
    assert "leave it out" in problems[0].message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "a\x00b"),
        ("description", "\ud800"),
        ("sku", "\x00"),
        ("tags", ["ok", "n\x00l"]),
        ("locales", {"fr-FR": {"name": "\udfff"}}),
    ],
)
def test_text_no_database_can_store_is_refused(field: str, value: object) -> None:
    _, problems = check_new(**{field: value})
    assert codes(problems) == [(field, "invalid_value")]


def test_locales_keep_their_non_blank_texts() -> None:
    locales = {"fr-FR": {"name": "Chaussure", "description": None}, "zh_Hans": {"name": " "}}
    values, problems = check_new(locales=locales)
    assert problems == []
    assert values["locales"] == {"fr-FR": {"name": "Chaussure"}, "zh_Hans": {}}


@pytest.mark.parametrize(
    "locales",
    [
        {"fr FR": {"name": "x"}},
        {"1": {"name": "x"}},
        {"": {"name": "x"}},
        {"fr-FR": {"title": "x"}},
        {"fr-FR": "Chaussure"},
        {"fr-FR": {"name": 7}},
    ],
)
def test_malformed_locales_are_refused(locales: dict[str, object]) -> None:
    _, problems = check_new(locales=locales)
    assert codes(problems) == [("locales", "invalid_value")]


@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
def test_any_storable_text_is_a_valid_description(text: str) -> None:
    values, problems = check_new(description=text)
    assert problems == []
    assert values["description"] == (text if text.strip() else None)
