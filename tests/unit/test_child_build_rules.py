"""Which combinations a build makes: all of them, or those `build_rules` include."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.catalog.products.children.build_rules import (
    AMBIGUOUS_MESSAGE,
    BuildRulesRejected,
    select_combinations,
)
from pxm_jobs.catalog.products.children.matrix import combination_count


@dataclass(frozen=True)
class Option:
    id: str
    name: str
    description: str | None = None
    modifiers: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Variation:
    id: str
    name: str
    options: tuple[Option, ...] = field(default_factory=tuple)


def variation(name: str, *options: str) -> Variation:
    return Variation(name.lower(), name, tuple(Option(option, option) for option in options))


SIZE = variation("Size", "S", "M", "L")
COLOUR = variation("Colour", "Red", "Blue")


def built(rules: dict[str, Any] | None, *variations: Variation) -> list[tuple[str, ...]]:
    chosen = select_combinations(list(variations or (SIZE, COLOUR)), rules)
    return [tuple(option.id for option in combination) for combination in chosen]


def test_without_rules_every_combination_is_built_first_variation_slowest() -> None:
    assert built(None) == [
        ("S", "Red"),
        ("S", "Blue"),
        ("M", "Red"),
        ("M", "Blue"),
        ("L", "Red"),
        ("L", "Blue"),
    ]


def test_no_variations_make_no_children() -> None:
    assert select_combinations([], None) == []
    assert select_combinations([], {"default": "include"}) == []


def test_default_include_with_an_exclude_leaves_out_what_it_names() -> None:
    rules = {"default": "include", "exclude": [["Red"], ["M", "Blue"]]}
    assert built(rules) == [("S", "Blue"), ("L", "Blue")]


def test_default_exclude_builds_only_what_include_names() -> None:
    rules = {"default": "exclude", "include": [["S"], ["L", "Blue"]]}
    assert built(rules) == [("S", "Red"), ("S", "Blue"), ("L", "Blue")]


def test_the_rule_naming_more_options_wins() -> None:
    rules = {"default": "include", "exclude": [["Red"]], "include": [["M", "Red"]]}
    assert built(rules) == [("S", "Blue"), ("M", "Red"), ("M", "Blue"), ("L", "Blue")]


def test_an_include_and_an_exclude_of_the_same_options_are_ambiguous() -> None:
    rules = {"default": "include", "include": [["M", "Red"]], "exclude": [["Red", "M"]]}
    with pytest.raises(BuildRulesRejected) as rejected:
        built(rules)
    assert [error.message for error in rejected.value.errors] == [AMBIGUOUS_MESSAGE]
    assert rejected.value.errors[0].value == "M,Red"


def test_rules_of_equal_size_that_match_one_combination_differently_are_ambiguous() -> None:
    rules = {"default": "exclude", "include": [["S"]], "exclude": [["Blue"]]}
    with pytest.raises(BuildRulesRejected, match="ambiguous rules"):
        built(rules)


def test_a_rule_with_two_options_of_one_variation_is_refused() -> None:
    rules = {"default": "include", "exclude": [["S", "M"]]}
    with pytest.raises(BuildRulesRejected) as rejected:
        built(rules)
    (error,) = rejected.value.errors
    assert error.field == "build_rules.exclude[0]"
    assert "must come from different variations" in error.message
    assert "'Size'" in error.message


def test_a_rule_naming_an_option_the_product_lacks_is_refused() -> None:
    rules = {"default": "include", "include": [["S"]], "exclude": [["Green"]]}
    with pytest.raises(BuildRulesRejected) as rejected:
        built(rules)
    (error,) = rejected.value.errors
    assert (error.field, error.value, error.code) == (
        "build_rules.exclude[0]",
        "Green",
        "unknown_option",
    )


options_ids = st.sampled_from(["S", "M", "L", "Red", "Blue"])
rule_lists = st.lists(st.lists(options_ids, min_size=1, max_size=2), max_size=4)


@given(default=st.sampled_from(["include", "exclude"]), include=rule_lists, exclude=rule_lists)
def test_any_rules_build_a_subset_in_matrix_order_or_say_why_not(
    default: str, include: list[list[str]], exclude: list[list[str]]
) -> None:
    rules = {"default": default, "include": include, "exclude": exclude}
    everything = built(None)
    try:
        chosen = built(rules)
    except BuildRulesRejected as rejected:
        assert rejected.errors
        assert _same_variation(include + exclude) or _undecided(include, exclude, everything)
        return
    assert not _same_variation(include + exclude)
    assert chosen == [combination for combination in everything if combination in chosen]
    for combination in everything:
        # A combination no rule matches follows the default.
        if not any(set(rule) <= set(combination) for rule in include + exclude):
            assert (combination in chosen) == (default == "include")


def _same_variation(rules: list[list[str]]) -> bool:
    variation_of = {option.id: v.id for v in (SIZE, COLOUR) for option in v.options}
    return any(len({variation_of[o] for o in set(rule)}) < len(set(rule)) for rule in rules)


def _undecided(
    include: list[list[str]], exclude: list[list[str]], everything: list[tuple[str, ...]]
) -> bool:
    """Whether some combination's largest matching rules both include and exclude it."""
    for combination in everything:
        matching = [
            (len(set(rule)), decision)
            for decision, rules in (("include", include), ("exclude", exclude))
            for rule in rules
            if set(rule) <= set(combination)
        ]
        if matching:
            largest = max(size for size, _ in matching)
            if len({decision for size, decision in matching if size == largest}) > 1:
                return True
    return False


@given(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4))
def test_without_rules_the_count_is_the_product_of_the_option_counts(sizes: list[int]) -> None:
    variations = [
        Variation(
            f"v{index}", f"V{index}", tuple(Option(f"{index}-{n}", str(n)) for n in range(size))
        )
        for index, size in enumerate(sizes)
    ]
    chosen = select_combinations(variations, None)
    assert len(chosen) == combination_count(variations)
    assert len({tuple(option.id for option in combination) for combination in chosen}) == len(
        chosen
    )
