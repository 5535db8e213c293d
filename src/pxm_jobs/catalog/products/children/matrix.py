"""What a build reads of a base product's variations, as the shapes the build logic needs.

The variations catalog returns frozen dataclasses with these attributes; the build depends on
the attributes only, so its rules can be exercised without a database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import product as cartesian
from typing import Any, Protocol


class ModifierLike(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def value(self) -> Any: ...
    @property
    def seek(self) -> str | None: ...
    @property
    def set(self) -> str | None: ...
    @property
    def reference_name(self) -> str | None: ...


class OptionLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def modifiers(self) -> Sequence[ModifierLike]: ...


class VariationLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def options(self) -> Sequence[OptionLike]: ...


# One option of each variation, in the variations' order: what one child is made of.
Combination = tuple[OptionLike, ...]


def combination_count(variations: Sequence[VariationLike]) -> int:
    """How many children all the options make (no variation: none)."""
    if not variations:
        return 0
    count = 1
    for variation in variations:
        count *= len(variation.options)
    return count


def all_combinations(variations: Sequence[VariationLike]) -> Iterator[Combination]:
    """Every combination of one option per variation, the first variation varying slowest."""
    if not variations:
        return iter(())
    return cartesian(*(variation.options for variation in variations))
