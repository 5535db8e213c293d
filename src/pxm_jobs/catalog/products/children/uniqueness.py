"""SKUs, slugs and external refs stay unique when children are built: every clash is listed.

Two children of one build clash when their modifiers give them the same value; a child clashes
with a product of the store (its base product, another product, an independent child) holding
the value, unless that product is a child this same build deletes or rewrites.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Final

from pxm_jobs.catalog.products.children.plan import WantedChild
from pxm_jobs.job_errors import JobErrorDetail

UNIQUE_VALUES: Final = ("sku", "slug", "external_ref")
DUPLICATE: Final = "duplicate"
ALREADY_EXISTS: Final = "already_exists"


def values_to_check(children: Sequence[WantedChild]) -> dict[str, dict[str, list[WantedChild]]]:
    """attribute -> value -> the children that would hold it."""
    holders: dict[str, dict[str, list[WantedChild]]] = {name: {} for name in UNIQUE_VALUES}
    for child in children:
        for name in UNIQUE_VALUES:
            value = child.values.get(name)
            if value is not None:
                holders[name].setdefault(value, []).append(child)
    return holders


# attribute -> value -> the children that would hold it.
Holders = Mapping[str, Mapping[str, Sequence[WantedChild]]]


def duplicates_among(holders: Holders) -> list[JobErrorDetail]:
    """One problem per value two or more of the children would share."""
    problems = []
    for name, by_value in holders.items():
        for value, children in by_value.items():
            if len(children) > 1:
                labels = _listed([child.label for child in children])
                problems.append(
                    JobErrorDetail(
                        message=f"children {labels} would all have {name} {value!r}; give "
                        f"their options {name} modifiers that tell them apart",
                        code=DUPLICATE,
                        field=name,
                        value=value,
                    )
                )
    return problems


def clashes_with_store(
    holders: Holders,
    taken: Mapping[str, Mapping[str, str]],
    released: Collection[str],
) -> list[JobErrorDetail]:
    """One problem per value a product of the store holds, other than the `released` ones.

    `taken` is attribute -> value -> id of the product holding it.
    """
    problems = []
    for name, by_value in holders.items():
        for value, children in by_value.items():
            holder = taken.get(name, {}).get(value)
            if holder is None or holder in released:
                continue
            for child in children:
                problems.append(
                    JobErrorDetail(
                        message=f"child {child.label} would have {name} {value!r}, which "
                        f"product {holder} already has",
                        code=ALREADY_EXISTS,
                        field=name,
                        value=value,
                    )
                )
    return problems


def _listed(labels: Sequence[str], shown: int = 5) -> str:
    text = ", ".join(f"({label})" for label in labels[:shown])
    if len(labels) > shown:
        text += f" and {len(labels) - shown} more"
    return text
