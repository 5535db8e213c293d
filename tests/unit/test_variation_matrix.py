"""`meta.variation_matrix`: option ids nested one level per variation down to the child built."""

from __future__ import annotations

from pxm_jobs.catalog.variations.matrix import variation_matrix
from pxm_jobs.catalog.variations.models import (
    OptionWithModifiers,
    VariationWithOptions,
    in_display_order,
)


def option(option_id: str, sort_order: int | None = None) -> OptionWithModifiers:
    return OptionWithModifiers(option_id, "v", option_id, None, sort_order, ())


def variation(variation_id: str, *option_ids: str) -> VariationWithOptions:
    return VariationWithOptions(variation_id, variation_id, None, tuple(map(option, option_ids)))


SIZE = variation("size", "s", "l")
COLOUR = variation("colour", "red", "blue")


def test_one_variation_maps_each_option_to_its_child() -> None:
    children = {frozenset({"s"}): "child-s", frozenset({"l"}): "child-l"}
    assert variation_matrix([SIZE], children) == {"s": "child-s", "l": "child-l"}


def test_two_variations_nest_in_their_order_and_leave_out_what_was_not_built() -> None:
    children = {
        frozenset({"s", "red"}): "s-red",
        frozenset({"s", "blue"}): "s-blue",
        frozenset({"l", "blue"}): "l-blue",
    }
    assert variation_matrix([SIZE, COLOUR], children) == {
        "s": {"red": "s-red", "blue": "s-blue"},
        "l": {"blue": "l-blue"},
    }
    assert variation_matrix([COLOUR, SIZE], children) == {
        "red": {"s": "s-red"},
        "blue": {"s": "s-blue", "l": "l-blue"},
    }


def test_a_product_without_children_or_variations_has_an_empty_matrix() -> None:
    assert variation_matrix([SIZE, COLOUR], {}) == {}
    assert variation_matrix([], {frozenset({"s"}): "child"}) == {}
    assert variation_matrix([SIZE], {frozenset({"gone"}): "child"}) == {}


def test_display_order_is_highest_sort_order_first_then_name_then_id() -> None:
    items = [option("b"), option("a", 1), option("c", 5), option("a2", 1), option("a", None)]
    ordered = [(item.id, item.sort_order) for item in in_display_order(items)]
    assert ordered == [("c", 5), ("a", 1), ("a2", 1), ("a", None), ("b", None)]
