"""What a (re)build changes: which children are created, updated in place, deleted or left.

Elastic Path's rebuild rules, applied to the children a base product has:

- A child updated directly is independent: no rebuild changes or deletes it, and its
  combination is not built again while it exists.
- When the product's variations are those the children were built from, only options changed:
  a child whose combination is still built keeps its id and takes the base product's current
  values; children of combinations no longer built are deleted; new combinations get new ids.
- When a variation was added or removed, every dependent child is deleted and each
  combination is built anew, under a new id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A combination as the child records it: variation id -> option id.
OptionKey = frozenset[tuple[str, str]]


def option_key(options: Mapping[str, str]) -> OptionKey:
    return frozenset(options.items())


@dataclass(frozen=True)
class ExistingChild:
    id: str
    options: Mapping[str, str]
    independent: bool

    @property
    def key(self) -> OptionKey:
        return option_key(self.options)


@dataclass(frozen=True)
class WantedChild:
    """A combination to build, with the values its child is to hold."""

    options: Mapping[str, str]
    values: Mapping[str, Any]
    label: str

    @property
    def key(self) -> OptionKey:
        return option_key(self.options)


@dataclass(frozen=True)
class BuildPlan:
    create: list[WantedChild]
    # (id of the child that stays, what it is to hold now)
    update: list[tuple[str, WantedChild]]
    delete: list[str]
    independent: list[str]
    variations_changed: bool

    @property
    def written(self) -> int:
        return len(self.create) + len(self.update)


def plan_build(
    variation_ids: Sequence[str],
    wanted: Sequence[WantedChild],
    existing: Sequence[ExistingChild],
) -> BuildPlan:
    """The changes that take the base product's children from `existing` to `wanted`."""
    current = frozenset(variation_ids)
    dependent = [child for child in existing if not child.independent]
    independent = [child for child in existing if child.independent]
    taken = {child.key for child in independent}
    changed = any(frozenset(child.options) != current for child in dependent)
    kept = {} if changed else {child.key: child for child in dependent}
    create: list[WantedChild] = []
    update: list[tuple[str, WantedChild]] = []
    for child in wanted:
        key = child.key
        if key in taken:
            continue
        same = kept.pop(key, None)
        if same is None:
            create.append(child)
        else:
            update.append((same.id, child))
    staying = {child_id for child_id, _ in update}
    delete = [child.id for child in dependent if child.id not in staying]
    return BuildPlan(create, update, delete, [child.id for child in independent], changed)
