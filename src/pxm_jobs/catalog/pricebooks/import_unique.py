"""What must be unique once every object of an import has applied, and what to say if not.

Names and external refs of price books are unique in their store; SKUs, modifier names and
external refs of what a book holds, in their book. Two entities of the file would share a
value, or one of the file would take a value an entity of the store keeps: each is an error on
the object that set the value, naming the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import RowMapping

from pxm_jobs.job_errors import JobErrorDetail

if TYPE_CHECKING:
    from pxm_jobs.catalog.pricebooks.import_plan import Planned

DUPLICATE_IN_FILE = "duplicate_in_file"
ALREADY_EXISTS = "already_exists"


@dataclass(frozen=True)
class UniqueRule:
    """A column unique in its scope, and what to say when two entities would share a value.

    `in_file` names the two objects, `in_store` the entity of the store that holds the value.
    """

    column: str
    in_file: str
    in_store: str


BOOK_NAME = UniqueRule(
    "name",
    "two price books are named {value!r}: objects {first} and {second}; price book names are "
    "unique in a store",
    "price book {holder} is already named {value!r}; price book names are unique in a store "
    "(give its id or external_ref to change it)",
)
BOOK_REF = UniqueRule(
    "external_ref",
    "duplicate external ref found: objects {first} and {second} both give a price book the "
    "external_ref {value!r}",
    "duplicate external ref found: price book {holder} already has the external_ref {value!r}",
)
PRICE_SKU = UniqueRule(
    "sku",
    "two prices for sku {value!r} in price book {scope}: objects {first} and {second}; a price "
    "book holds one price per SKU (give the later one the earlier one's external_ref to update "
    "it)",
    "price book {scope} already has a price for sku {value!r} (price {holder}); give that "
    "price's id or external_ref to update it",
)
PRICE_REF = UniqueRule(
    "external_ref",
    "duplicate external ref found: objects {first} and {second} both give a price of price "
    "book {scope} the external_ref {value!r}",
    "duplicate external ref found: price {holder} of price book {scope} already has the "
    "external_ref {value!r}",
)
MODIFIER_NAME = UniqueRule(
    "name",
    "two price modifiers of price book {scope} are named {value!r}: objects {first} and "
    "{second}; modifier names are unique in their price book",
    "price modifier {holder} of price book {scope} is already named {value!r}",
)
MODIFIER_REF = UniqueRule(
    "external_ref",
    "duplicate external ref found: objects {first} and {second} both give a modifier of price "
    "book {scope} the external_ref {value!r}",
    "duplicate external ref found: price modifier {holder} of price book {scope} already has "
    "the external_ref {value!r}",
)


def check_unique(
    entries: Sequence[Planned],
    rule: UniqueRule,
    holders: dict[tuple[str, str], RowMapping],
    label: Callable[[str], str],
    errors: list[JobErrorDetail],
) -> None:
    """`rule.column` must be unique in each scope once every object has applied."""
    column = rule.column
    owners: dict[tuple[str, Any], Planned] = {}
    changed = {entry.id for entry in entries}
    for entry in sorted(entries, key=lambda e: e.at(column)):
        value = entry.final(column)
        if value is None:
            continue
        key = (entry.scope, value)
        at = entry.at(column)
        if (owner := owners.get(key)) is not None:
            message = rule.in_file.format(
                value=value, scope=label(entry.scope), first=owner.at(column), second=at
            )
            errors.append(_error(message, DUPLICATE_IN_FILE, at, column, value))
            continue
        holder = holders.get(key)
        if holder is not None and holder["id"] not in changed:
            message = rule.in_store.format(
                value=value, scope=label(entry.scope), holder=holder["id"]
            )
            errors.append(_error(message, ALREADY_EXISTS, at, column, value))
            continue
        owners[key] = entry


def _error(message: str, code: str, row: int, field: str, value: Any) -> JobErrorDetail:
    return JobErrorDetail(
        message=message,
        code=code,
        row=row,
        field=field,
        value=value if isinstance(value, str) else None,
    )
