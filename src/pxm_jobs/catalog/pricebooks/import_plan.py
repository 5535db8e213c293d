"""Matching import objects to what the store holds, in file order, and what must hold after.

Objects apply one after another: a later object with the identity of an earlier one changes
what that one made or matched. A price book is known by its `id`, else its `external_ref`,
else its (unique) name; a price by its `id`, else its `external_ref` in its book, else its
SKU in its book; a modifier the same way, by name instead of SKU. An `id` must exist; an
unknown external ref creates. A price or modifier may come before the book it names.

Each entity becomes one `Planned` entry holding the values it ends with; the rules that span
objects (one price per SKU in a book, unique names and refs: `import_unique`) are checked on
those.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Text, cast
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.pricebooks.import_objects import (
    JSON_COLUMNS,
    MODIFIER,
    PRICE,
    PRICEBOOK,
    ImportObject,
)
from pxm_jobs.catalog.pricebooks.import_unique import (
    BOOK_NAME,
    BOOK_REF,
    MODIFIER_NAME,
    MODIFIER_REF,
    PRICE_REF,
    PRICE_SKU,
    check_unique,
)
from pxm_jobs.catalog.pricebooks.lookups import find_rows
from pxm_jobs.catalog.products.csv_import import new_product_ids
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import price_modifiers, pricebooks, prices

NOT_FOUND = "not_found"
REQUIRED = "required"
ID_BATCH = 1000

# What a new entity of each kind must end up with: (column, message) pairs.
_REQUIRED = {
    PRICEBOOK: [("name", "missing name for price book: give it a name")],
    PRICE: [
        ("sku", "missing sku for price: give the sku of the product it prices"),
        ("currencies", "missing currencies for price: give at least one, such as USD"),
    ],
    MODIFIER: [
        ("name", "missing name for price modifier: give it a name"),
        ("modifier_type", "missing modifier_type for price modifier"),
        ("currencies", "missing currencies for price modifier: give at least one"),
    ],
}


@dataclass(slots=True)
class Planned:
    """One price book, price or modifier the import creates or changes."""

    ordinal: int  # the object that first named it
    id: str
    scope: str  # the store of a book, the book of a price or modifier
    existing: RowMapping | None  # the row it changes; None to create one
    values: dict[str, Any] = field(default_factory=dict)
    # Column -> the object that last set it, once a second object changes the entity; until
    # then every value is the first object's (most entities of a file are named once, and 50,000
    # small dicts would cost as much memory as their values).
    set_at: dict[str, int] | None = None

    def final(self, column: str) -> Any:
        if column in self.values:
            return self.values[column]
        return self.existing[column] if self.existing is not None else None

    def apply(self, item: ImportObject) -> None:
        if not self.values and self.set_at is None:
            self.values = item.values  # the object's own dict: nothing else holds it
            return
        if self.set_at is None:
            self.set_at = dict.fromkeys(self.values, self.ordinal)
        self.values = {**self.values, **item.values}
        self.set_at.update(dict.fromkeys(item.values, item.ordinal))

    def at(self, column: str) -> int:
        return self.set_at.get(column, self.ordinal) if self.set_at else self.ordinal


class NewIds:
    """Fresh ids, made a thousand at a time (one `str(uuid4())` per row costs as much again)."""

    def __init__(self) -> None:
        self._ready: list[str] = []

    def next(self) -> str:
        if not self._ready:
            self._ready = new_product_ids(ID_BATCH)
        return self._ready.pop()


@dataclass
class BookPlan:
    store_id: str
    entries: list[Planned] = field(default_factory=list)
    by_id: dict[str, Planned] = field(default_factory=dict)
    by_ref: dict[str, Planned] = field(default_factory=dict)
    by_name: dict[str, Planned] = field(default_factory=dict)
    rows_by_id: dict[str, RowMapping] = field(default_factory=dict)
    rows_by_ref: dict[str, RowMapping] = field(default_factory=dict)
    rows_by_name: dict[str, RowMapping] = field(default_factory=dict)

    def take(self, row: RowMapping | None, ordinal: int, new_ids: NewIds) -> Planned:
        """The entry of an existing book (made once), or a new book's when `row` is None."""
        if row is not None and row["id"] in self.by_id:
            return self.by_id[row["id"]]
        entry = Planned(ordinal, row["id"] if row else new_ids.next(), self.store_id, row)
        self.entries.append(entry)
        return entry

    def index(self, entry: Planned) -> None:
        self.by_id[entry.id] = entry
        if (ref := entry.final("external_ref")) is not None:
            self.by_ref[ref] = entry
        if (name := entry.final("name")) is not None:
            self.by_name[name] = entry

    def label(self, book_id: str) -> str:
        """A book as a person knows it: its external ref, else its name, else its id."""
        entry = self.by_id.get(book_id)
        row = entry.existing if entry is not None else self.rows_by_id.get(book_id)
        ref = entry.final("external_ref") if entry is not None else row and row["external_ref"]
        name = entry.final("name") if entry is not None else row and row["name"]
        return repr(ref or name or book_id)

    def is_new(self, book_id: str) -> bool:
        entry = self.by_id.get(book_id)
        return entry is not None and entry.existing is None


def plan_books(
    connection: Connection,
    store_id: str,
    objects: Sequence[ImportObject],
    errors: list[JobErrorDetail],
    new_ids: NewIds,
) -> BookPlan:
    plan = BookPlan(store_id)
    books = [item for item in objects if item.kind == PRICEBOOK]
    ids = {item.id for item in books if item.id} | {i.book_id for i in objects if i.book_id}
    refs = {item.values["external_ref"] for item in books if item.values.get("external_ref")}
    refs |= {item.book_ref for item in objects if item.book_ref}
    names = {item.values["name"] for item in books if item.values.get("name")}
    scope = [pricebooks.c.store_id == store_id]
    for column, wanted, found in (
        ("id", ids, plan.rows_by_id),
        ("external_ref", refs, plan.rows_by_ref),
        ("name", names, plan.rows_by_name),
    ):
        found.update(
            (row[column], row) for row in find_rows(connection, pricebooks, scope, column, wanted)
        )
    for held in [*plan.rows_by_ref.values(), *plan.rows_by_name.values()]:
        plan.rows_by_id.setdefault(held["id"], held)
    for item in books:
        if item.id is not None:
            row = plan.rows_by_id.get(item.id)
            if row is None:
                errors.append(
                    _error(f"price book id not found: {item.id}", NOT_FOUND, item.ordinal, "id")
                )
                continue
            entry = plan.take(row, item.ordinal, new_ids)
        elif ref := item.values.get("external_ref"):
            entry = plan.by_ref.get(ref) or plan.take(
                plan.rows_by_ref.get(ref), item.ordinal, new_ids
            )
        elif name := item.values.get("name"):
            entry = plan.by_name.get(name) or plan.take(
                plan.rows_by_name.get(name), item.ordinal, new_ids
            )
        else:
            entry = plan.take(None, item.ordinal, new_ids)
        entry.apply(item)
        plan.index(entry)
    check_required(plan.entries, PRICEBOOK, errors)
    for rule, holders in ((BOOK_NAME, plan.rows_by_name), (BOOK_REF, plan.rows_by_ref)):
        in_store = {(store_id, value): row for value, row in holders.items()}
        check_unique(plan.entries, rule, in_store, plan.label, errors)
    return plan


def plan_children(
    connection: Connection,
    kind: str,
    objects: Sequence[ImportObject],
    books: BookPlan,
    errors: list[JobErrorDetail],
    new_ids: NewIds,
) -> list[Planned]:
    """The prices (or modifiers) of the file, matched to those of the store."""
    table, natural, what = (
        (prices, "sku", "price") if kind == PRICE else (price_modifiers, "name", "price modifier")
    )
    resolved = [
        (item, book)
        for item in objects
        if item.kind == kind and (book := _book_of(item, books, errors))
    ]
    held = sorted({book for _, book in resolved if not books.is_new(book)})
    # What matching and writing need of a stored row: no timestamps, JSON as its stored text
    # (compared after decoding only where an object gives the column, else written back as is).
    selected = [
        column if name not in JSON_COLUMNS else cast(column, Text).label(name)
        for name, column in table.c.items()
        if name not in ("store_id", "created_at", "updated_at")
    ]
    scope = [table.c.store_id == books.store_id]
    wanted_ids = {item.id for item, _ in resolved if item.id}
    by_id = {
        found["id"]: found
        for found in find_rows(connection, table, scope, "id", wanted_ids, selected=selected)
    }
    by_key: dict[str, dict[tuple[str, str], RowMapping]] = {"external_ref": {}, natural: {}}
    for column in ("external_ref", natural):
        if not held:
            break
        # A row found by its external ref is not looked up again by its SKU or name.
        known = {(held_row["pricebook_id"], held_row[column]) for held_row in _rows_found(by_key)}
        wanted = {
            item.values[column]
            for item, book in resolved
            if item.values.get(column) and (book, item.values[column]) not in known
        }
        # The books are the store's already: no store condition, which would lead SQLite to
        # walk the store's index rather than the book's.
        rows = find_rows(connection, table, [], column, wanted, books=held, selected=selected)
        for found in rows:
            for key_column in ("external_ref", natural):
                if found[key_column] is not None:
                    by_key[key_column][(found["pricebook_id"], found[key_column])] = found
    entries: list[Planned] = []
    planned: dict[str, Planned] = {}
    planned_by: dict[str, dict[tuple[str, str], Planned]] = {"external_ref": {}, natural: {}}
    for item, book in resolved:
        entry: Planned | None = None
        row: RowMapping | None
        if item.id is not None:
            entry = planned.get(item.id)
            row = by_id.get(item.id)
            if entry is None and row is None:
                errors.append(
                    _error(f"{what} id not found: {item.id}", NOT_FOUND, item.ordinal, "id")
                )
                continue
            holder = entry.scope if entry is not None else row["pricebook_id"]  # type: ignore[index]
            if holder != book:
                message = (
                    f"{what} {item.id} belongs to price book {books.label(holder)}, "
                    f"not to {books.label(book)}"
                )
                errors.append(_error(message, NOT_FOUND, item.ordinal, "id"))
                continue
        else:
            column = "external_ref" if item.values.get("external_ref") else natural
            key = (book, item.values.get(column) or "")
            entry = planned_by[column].get(key)
            row = by_key[column].get(key) if key[1] else None
        if entry is None:
            if row is not None and row["id"] in planned:
                entry = planned[row["id"]]
            else:
                entry = Planned(item.ordinal, row["id"] if row else new_ids.next(), book, row)
                entries.append(entry)
        entry.apply(item)
        planned[entry.id] = entry
        for column in ("external_ref", natural):
            if (value := entry.final(column)) is not None:
                planned_by[column][(book, value)] = entry
    check_required(entries, kind, errors)
    rules = (PRICE_SKU, PRICE_REF) if kind == PRICE else (MODIFIER_NAME, MODIFIER_REF)
    for rule in rules:
        check_unique(entries, rule, by_key[rule.column], books.label, errors)
    return entries


def _rows_found(by_key: dict[str, dict[tuple[str, str], RowMapping]]) -> Iterator[RowMapping]:
    """Every stored row found so far, once per key it was found under."""
    for rows in by_key.values():
        yield from rows.values()


def check_required(entries: Sequence[Planned], kind: str, errors: list[JobErrorDetail]) -> None:
    for entry in entries:
        if entry.existing is not None:
            continue
        for column, message in _REQUIRED[kind]:
            if entry.values.get(column) is None:
                errors.append(_error(message, REQUIRED, entry.ordinal, column))


def _book_of(item: ImportObject, books: BookPlan, errors: list[JobErrorDetail]) -> str | None:
    """The id of the book a price or modifier names, made by the file or held by the store."""
    if item.book_id is not None:
        entry = books.by_id.get(item.book_id)
        if entry is not None or item.book_id in books.rows_by_id:
            return item.book_id
        errors.append(
            _error(
                f"price book id not found: {item.book_id}", NOT_FOUND, item.ordinal, "pricebook_id"
            )
        )
        return None
    assert item.book_ref is not None
    entry = books.by_ref.get(item.book_ref)
    if entry is not None:
        return entry.id
    row = books.rows_by_ref.get(item.book_ref)
    if row is not None:
        return str(row["id"])
    message = (
        f"price book external ref not found: {item.book_ref}; add a pricebook object with this "
        "external_ref to the file, or create the price book first"
    )
    errors.append(_error(message, NOT_FOUND, item.ordinal, "pricebook_external_ref", item.book_ref))
    return None


def _error(message: str, code: str, row: int, field: str, value: Any = None) -> JobErrorDetail:
    return JobErrorDetail(
        message=message,
        code=code,
        row=row,
        field=field,
        value=value if isinstance(value, str) else None,
    )
