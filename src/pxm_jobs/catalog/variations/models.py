"""What a base product's children are built from, as read from the store.

The build reads these through `matrix_inputs.variation_matrix_inputs`; the API renders them.
Every sequence here is in display order: highest `sort_order` first (as Elastic Path shows
variations and options), those without one after, then by name, then by id, so that the order
is the same on both databases and from one read to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar


@dataclass(frozen=True)
class Modifier:
    """How an option changes the child product it makes.

    `value` is a string for most types and an object or array for `custom_inputs_equals`,
    `build_rules_equals` and `locales_equals`; `seek`/`set` are the builders' pattern and
    replacement; `reference_name` names the price book modifier of a `price` modifier.
    """

    id: str
    option_id: str
    type: str
    value: Any
    seek: str | None
    set: str | None
    reference_name: str | None


@dataclass(frozen=True)
class OptionWithModifiers:
    id: str
    variation_id: str
    name: str
    description: str | None
    sort_order: int | None
    modifiers: tuple[Modifier, ...]


@dataclass(frozen=True)
class VariationWithOptions:
    id: str
    name: str
    sort_order: int | None
    options: tuple[OptionWithModifiers, ...]


@dataclass(frozen=True)
class Variation:
    id: str
    store_id: str
    name: str
    sort_order: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class VariationOption:
    id: str
    store_id: str
    variation_id: str
    name: str
    description: str | None
    sort_order: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class VariationModifier:
    id: str
    store_id: str
    option_id: str
    type: str
    value: Any
    seek: str | None
    set: str | None
    reference_name: str | None
    created_at: datetime
    updated_at: datetime


class _Ordered(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sort_order(self) -> int | None: ...


OrderedT = TypeVar("OrderedT", bound=_Ordered)


def in_display_order(items: Sequence[OrderedT]) -> list[OrderedT]:
    """`items` highest sort_order first, then those without one, then by name and id."""
    return sorted(
        items,
        key=lambda item: (
            item.sort_order is None,
            -(item.sort_order or 0),
            item.name,
            item.id,
        ),
    )
