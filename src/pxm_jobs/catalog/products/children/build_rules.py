"""Which combinations of options a build makes, from the base product's `build_rules`.

A rule is a list of option ids from different variations; it matches every combination that
holds all of them. For each combination the matching rule naming the most options decides
(`include` or `exclude`); with no matching rule, `default` decides. An `include` and an
`exclude` rule of that same size both matching leave it undecided: the build fails with
Elastic Path's message. A rule naming two options of one variation could never match and is
refused, as is one naming an option none of the product's variations offers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pxm_jobs.catalog.products.children.matrix import (
    Combination,
    VariationLike,
    all_combinations,
)
from pxm_jobs.job_errors import JobErrorDetail

INCLUDE: Final = "include"
EXCLUDE: Final = "exclude"
# Elastic Path's words for a combination the rules cannot decide.
AMBIGUOUS_MESSAGE: Final = (
    "could not determine whether to include or exclude a child product due to ambiguous rules"
)
# Problem codes.
AMBIGUOUS: Final = "ambiguous_build_rules"
SAME_VARIATION: Final = "invalid_build_rules"
UNKNOWN_OPTION: Final = "unknown_option"


class BuildRulesRejected(Exception):
    """The build rules cannot be applied; `errors` says which rule and why."""

    def __init__(self, errors: Sequence[JobErrorDetail]) -> None:
        super().__init__(errors[0].message)
        self.errors = list(errors)


@dataclass(frozen=True)
class _Rule:
    decision: str
    options: frozenset[str]


def select_combinations(
    variations: Sequence[VariationLike], build_rules: Mapping[str, Any] | None
) -> list[Combination]:
    """The combinations to build, in matrix order; raises BuildRulesRejected."""
    if not build_rules:
        return list(all_combinations(variations))
    rules = _checked_rules(variations, build_rules)
    default = build_rules.get("default", INCLUDE)
    chosen = []
    for combination in all_combinations(variations):
        decision = _decide(rules, frozenset(option.id for option in combination), default)
        if decision is None:
            raise BuildRulesRejected(
                [
                    JobErrorDetail(
                        message=AMBIGUOUS_MESSAGE,
                        code=AMBIGUOUS,
                        field="build_rules",
                        value=",".join(option.id for option in combination),
                    )
                ]
            )
        if decision == INCLUDE:
            chosen.append(combination)
    return chosen


def _decide(rules: Sequence[_Rule], options: frozenset[str], default: str) -> str | None:
    """The decision of the most specific matching rules; None when they disagree."""
    best_size = 0
    decisions: set[str] = set()
    for rule in rules:
        if rule.options <= options:
            size = len(rule.options)
            if size > best_size:
                best_size, decisions = size, {rule.decision}
            elif size == best_size:
                decisions.add(rule.decision)
    if not decisions:
        return default
    if len(decisions) > 1:
        return None
    return decisions.pop()


def _checked_rules(
    variations: Sequence[VariationLike], build_rules: Mapping[str, Any]
) -> list[_Rule]:
    variation_of = {
        option.id: variation for variation in variations for option in variation.options
    }
    rules = []
    problems = []
    for decision in (INCLUDE, EXCLUDE):
        for index, combination in enumerate(build_rules.get(decision) or []):
            path = f"build_rules.{decision}[{index}]"
            seen: dict[str, str] = {}
            for option_id in combination:
                variation = variation_of.get(option_id)
                if variation is None:
                    problems.append(
                        JobErrorDetail(
                            message=f"{path} names option {option_id}, which none of the "
                            "product's variations offers; remove it from the rule",
                            code=UNKNOWN_OPTION,
                            field=path,
                            value=option_id,
                        )
                    )
                elif variation.id in seen and seen[variation.id] != option_id:
                    problems.append(
                        JobErrorDetail(
                            message=f"{path} names options {seen[variation.id]} and "
                            f"{option_id}, both of variation {variation.name!r} "
                            f"({variation.id}); combinations of option ids must come from "
                            "different variations",
                            code=SAME_VARIATION,
                            field=path,
                            value=option_id,
                        )
                    )
                else:
                    seen[variation.id] = option_id
            rules.append(_Rule(decision, frozenset(combination)))
    if problems:
        raise BuildRulesRejected(problems)
    return rules
