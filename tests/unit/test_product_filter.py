"""Parsing the product filter language, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products import like_pattern, parse_product_filter


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
        ("gt(sku,1)", "'gt'"),
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


values = st.text(st.characters(exclude_categories=["Cs"]), min_size=1)


@given(values)
def test_any_value_quoted_round_trips(value: str) -> None:
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert parse_product_filter(f"eq(name,{quoted})") == [FilterTerm("eq", "name", (value,))]
