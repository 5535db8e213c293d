"""Parsing the product filter language, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products.product_filter import (
    PRODUCT_FILTER_ATTRIBUTES,
    like_pattern,
    parse_product_filter,
)


def test_one_term() -> None:
    assert parse_product_filter("eq(sku,abc)") == [FilterTerm("eq", "sku", ("abc",))]


def test_terms_joined_with_colons_all_apply() -> None:
    assert parse_product_filter("eq(sku,abc):like(name,*shoe*):in(status,draft,live)") == [
        FilterTerm("eq", "sku", ("abc",)),
        FilterTerm("like", "name", ("*shoe*",)),
        FilterTerm("in", "status", ("draft", "live")),
    ]


def test_the_manufacturer_part_number_alias_reads_mpn() -> None:
    assert parse_product_filter("eq(manufacturer_part_num,M-1)") == [
        FilterTerm("eq", "mpn", ("M-1",))
    ]


def test_unquoted_values_are_trimmed_and_may_hold_colons() -> None:
    assert parse_product_filter("eq( name , Blue Shoe ):eq(sku,a:b)") == [
        FilterTerm("eq", "name", ("Blue Shoe",)),
        FilterTerm("eq", "sku", ("a:b",)),
    ]


def test_quoted_values_hold_commas_parentheses_colons_and_escaped_quotes() -> None:
    assert parse_product_filter(r'eq(name,"a, (b): \"c\" \\ d"):in(sku,"x,y", z)') == [
        FilterTerm("eq", "name", ('a, (b): "c" \\ d',)),
        FilterTerm("in", "sku", ("x,y", "z")),
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("gt(sku,1)", "gt cannot be used on sku"),
        ("eq(has_nodes,true)", "only be false"),
        ("eq(product_types,kit)", "standard, parent, child, bundle"),
        ("gt(created_at,yesterday)", "RFC 3339"),
        ("like(admin_attributes.k,v)", "like cannot be used"),
        ("eq(extensions.size,1)", "extensions.<template>.<field>"),
        ("eq(colour,red)", "'colour'"),
        ("eq(sku)", "attribute and a value"),
        ("eq(sku,abc", "missing ')'"),
        ("eq(sku,a,b)", "exactly one value"),
        ("like(name,a,b)", "exactly one value"),
        ("eq(sku,)", "expected a value"),
        ("eq(sku,a)x", "join terms with ':'"),
        ("eq(sku,a):", "expected operator"),
        ('eq(sku,"abc)', "never ends"),
        ('eq(sku,"a"b)', "after a quoted value"),
        ('eq(sku,a"b)', "expected a value"),
        ("sku=abc", "expected operator"),
    ],
)
def test_a_bad_filter_names_its_problem(text: str, named: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_product_filter(text)
    assert named in raised.value.detail


def test_without_a_star_like_means_contains() -> None:
    assert like_pattern("shoe") == "%shoe%"


def test_stars_are_the_only_wildcards() -> None:
    assert like_pattern("*shoe") == "%shoe"
    assert like_pattern("sh*e") == "sh%e"


def test_sql_wildcards_and_the_escape_character_match_literally() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


@pytest.mark.parametrize("value", ["\x00", "a\x00b", "\ud800"])
def test_values_no_product_can_hold_are_refused(value: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_product_filter(f"eq(name,{quote(value)})")
    assert "NUL character or a lone surrogate" in raised.value.detail


def test_spaces_around_terms_are_allowed() -> None:
    assert parse_product_filter(' eq(sku, "a" ) : eq(slug,b) ') == [
        FilterTerm("eq", "sku", ("a",)),
        FilterTerm("eq", "slug", ("b",)),
    ]


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


values = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1)
# What an unquoted value may hold: no separators, no quote, no space at either end.
plain_values = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters='\x00,)"'), min_size=1
).filter(lambda value: value.strip() == value and value != "")
# Attributes taking any text with eq, like and in; the others check their values (times,
# product types), which the syntax tests below are not about.
FREE_TEXT = ("id", "sku", "slug", "upc_ean", "manufacturer_part_num", "name", "description")
attributes = st.sampled_from([*FREE_TEXT, "external_ref", "tags", "status", "mpn"])


@given(values)
def test_any_value_quoted_round_trips(value: str) -> None:
    assert parse_product_filter(f"eq(name,{quote(value)})") == [FilterTerm("eq", "name", (value,))]


@given(plain_values)
def test_plain_values_need_no_quotes(value: str) -> None:
    assert parse_product_filter(f"like(sku,{value})") == [FilterTerm("like", "sku", (value,))]


@st.composite
def filter_terms(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...]]:
    operator = draw(st.sampled_from(["eq", "like", "in"]))
    count = draw(st.integers(1, 4)) if operator == "in" else 1
    return operator, draw(attributes), tuple(draw(values) for _ in range(count))


@given(st.lists(filter_terms(), min_size=1, max_size=5), st.booleans())
def test_any_filter_written_out_parses_back_to_its_terms(
    terms: list[tuple[str, str, tuple[str, ...]]], spaced: bool
) -> None:
    gap = " " if spaced else ""
    text = ":".join(
        f"{operator}({gap}{attribute},{gap}" + f",{gap}".join(map(quote, term_values)) + ")"
        for operator, attribute, term_values in terms
    )
    assert parse_product_filter(text) == [
        FilterTerm(operator, PRODUCT_FILTER_ATTRIBUTES[attribute], term_values)
        for operator, attribute, term_values in terms
    ]


@given(st.text())
def test_any_text_parses_or_is_refused_with_a_detail(text: str) -> None:
    try:
        terms = parse_product_filter(text)
    except InvalidFilter as error:
        assert error.detail
    else:
        assert terms and all(term.values for term in terms)


@given(st.lists(filter_terms(), min_size=1, max_size=3), st.data())
def test_cutting_a_filter_short_is_refused(
    terms: list[tuple[str, str, tuple[str, ...]]], data: st.DataObject
) -> None:
    text = ":".join(
        f"{operator}({attribute}," + ",".join(map(quote, term_values)) + ")"
        for operator, attribute, term_values in terms
    )
    cut = data.draw(st.integers(1, len(text) - 1))
    if text[cut - 1] == ")" and text[cut] == ":":
        return  # a whole prefix of terms is itself a filter
    with pytest.raises(InvalidFilter):
        parse_product_filter(text[:cut])
