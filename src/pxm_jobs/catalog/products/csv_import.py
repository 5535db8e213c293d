"""Importing products from a CSV file: validate every row first, then write them all or none
(or, when asked, the rows without problems, leaving out the others).

Row numbers in errors are file lines, the header being line 1; a record whose quoted field
spans lines is numbered by the line it starts on, as a text editor shows it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.errors import CatalogError, ImportRejected
from pxm_jobs.catalog.products.cell_merges import merge_keyed_cells, merge_templates
from pxm_jobs.catalog.products.csv_format import (
    CsvLayout,
    allow_large_fields,
    parse_header,
    read_csv_records,
    split_tags,
    unescape_formula,
)
from pxm_jobs.catalog.products.import_results import CREATED, UNCHANGED, UPDATED, RowOutcome
from pxm_jobs.catalog.products.product_ids import new_product_ids as new_product_ids
from pxm_jobs.catalog.products.queries import (
    Product,
    find_product_ids_by_values,
    find_products_by,
    find_products_matching,
    insert_products,
    store_has_products,
    update_products,
)
from pxm_jobs.catalog.products.rule_basics import ALREADY_EXISTS, ProductLimits
from pxm_jobs.catalog.products.rules import UNIQUE_ATTRIBUTES, check_product_attributes
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.engine import use_bulk_write_cache

PROGRESS_EVERY_ROWS = 1000
# Up to this many rows, an import finds the products its rows name and the holders of their
# values in one query (within one query's batch on either database). Bigger files ask first
# whether the store has products: a first import of 50,000 rows into a new store then asks for
# nothing more, instead of looking up four columns' worth of values in an empty table.
ONE_LOOKUP_ROWS = 500

# Problem codes of the import itself; attribute rules have theirs in product_rules.
NOT_FOUND = "not_found"
DUPLICATE_IN_FILE = "duplicate_in_file"
INVALID_ROW = "invalid_row"
INVALID_FILE = "invalid_file"
INVALID_HEADER = "invalid_header"
TOO_MANY = "too_many"
CONFLICT = "conflict"
BUNDLE = "bundle"
# Problems of the file as a whole rather than of some rows: no row can be singled out for them.
FILE_PROBLEMS = frozenset({INVALID_FILE, INVALID_HEADER, TOO_MANY, CONFLICT})

ProgressCallback = Callable[[int, int | None], None]
_KEEP = object()  # the column is not changed by the row
_CHECKED: dict[str, Any] = {}


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int = 0  # rows naming a product whose values they would not change
    rejected: int = 0  # rows left out for their problems, when asked to keep the others
    # The problems of the rows left out, by row.
    problems: tuple[JobErrorDetail, ...] = field(default=(), compare=False)
    # What became of each row applied, in file order.
    outcomes: tuple[RowOutcome, ...] = field(default=(), compare=False)


@dataclass(slots=True)
class _Row:
    line: int
    product_id: str | None
    attributes: dict[str, Any]
    templates: list[tuple[str, str, str | None]] | None
    # (`shopper_attributes` or `admin_attributes`, key, cell) for each keyed column.
    keyed: list[tuple[str, str, str]] | None = None
    target: Product | None = None  # the existing product the row updates
    values: dict[str, Any] | None = None  # what the row stores, once checked
    unmatched: bool = False  # its id names no product, or its product is already taken


def import_products(
    connection: Connection,
    *,
    store_id: str,
    chunks: Iterable[bytes],
    settings: Settings,
    dry_run: bool,
    report_progress: ProgressCallback,
    total_rows: int | None = None,
    keep_valid_rows: bool = False,
) -> ImportResult:
    """Create or update the store's products from CSV bytes; raises ImportRejected if any row
    is invalid, before writing anything.

    With `keep_valid_rows`, rows with problems (and the rows tied to them) are left out and the
    others written; ImportRejected then only when the file as a whole is unusable or no row is
    left. `total_rows` (data rows, if known from the upload check) only feeds progress reports.
    """
    allow_large_fields(settings.import_max_bytes)
    errors: list[JobErrorDetail] = []
    # Problems of the rows that other rows' problems point at (the first of two rows with one
    # sku): an import keeping the valid rows leaves those out too.
    partners: list[JobErrorDetail] = []
    with _collector_paused():
        rows = _read_rows(chunks, settings, errors, report_progress, total_rows)
        read_rows = len(rows) + len(errors)
        known = _look_up_products(connection, store_id, rows)
        holders = _HolderLookup(connection, store_id, known)
        _match_rows(rows, errors, partners, known)
        _check_rows(rows, ProductLimits.from_settings(settings), errors)
        _check_unique_values(rows, errors, partners, holders)
        if errors and keep_valid_rows:
            errors.extend(partners)
            rows = _leave_out_rejected_rows(rows, errors, holders)
        if errors and (not keep_valid_rows or not rows):
            # Every row was read and checked: the progress says so, not the last round number.
            checked = total_rows if total_rows is not None else read_rows
            report_progress(checked, checked)
            raise ImportRejected(_by_row(errors))
        # Every row is read and checked; what remains is writing (and a job that must stop
        # learns it here, before it writes anything).
        report_progress(read_rows, total_rows if total_rows is not None else read_rows)
        new_rows, changes = _plan_writes(store_id, rows)
        if not dry_run:
            use_bulk_write_cache(connection)
            try:
                _write_changes(connection, store_id, rows, changes)
                insert_products(connection, new_rows)
            except IntegrityError as error:
                # Only a concurrent write (say through the Products API) gets here.
                message = "products changed while the import ran; run the import again"
                raise ImportRejected([_error(message, CONFLICT, None)]) from error
    report_progress(read_rows, read_rows)
    return ImportResult(
        created=len(new_rows),
        updated=len(changes),
        unchanged=len(rows) - len(new_rows) - len(changes),
        rejected=len({error.row for error in errors}),
        problems=tuple(_by_row(errors)),
        outcomes=tuple(_outcomes(rows, changes, dry_run)),
    )


def _by_row(errors: list[JobErrorDetail]) -> list[JobErrorDetail]:
    return sorted(errors, key=lambda error: error.row or 0)


def _leave_out_rejected_rows(
    rows: list[_Row], errors: list[JobErrorDetail], holders: _HolderLookup
) -> list[_Row]:
    """The rows no problem names, once the values the left-out rows would have freed are
    known to stay where they are; adds the problems of rows that needed them.

    Each round leaves out at least one more row, so the rounds end; a second one is needed
    only when a left-out row would have freed a value another row takes.
    """
    rejected = {error.row for error in errors}
    while True:
        kept = [row for row in rows if row.line not in rejected]
        left_out = {row.target.id: row.line for row in rows if row.target and row.line in rejected}
        found: list[JobErrorDetail] = []
        _check_unique_values(kept, found, [], holders, left_out)
        if not found:
            return kept
        errors.extend(found)
        rejected.update(error.row for error in found)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are built.

    Tens of thousands of new dicts make it sweep the growing heap again and again (a sixth of
    the import's time, measured on 50,000 rows), yet no row object is part of a cycle:
    reference counting frees them all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_rows(
    chunks: Iterable[bytes],
    settings: Settings,
    errors: list[JobErrorDetail],
    report_progress: ProgressCallback,
    total_rows: int | None,
) -> list[_Row]:
    rows: list[_Row] = []
    try:
        records = read_csv_records(chunks)
        parse_row = _row_parser(_read_layout(records))
        if settings.csv_escape_formulas:
            # Cells exported with a leading ' against spreadsheet formulas get it removed.
            records = (
                (line, [unescape_formula(cell) for cell in cells]) for line, cells in records
            )
        for count, (line, cells) in enumerate(records, start=2):
            if count > settings.import_max_rows:
                message = f"the file has more than {settings.import_max_rows:,} rows"
                raise ImportRejected([_error(message + " (the header included)", TOO_MANY, line)])
            row = parse_row(line, cells)
            if isinstance(row, JobErrorDetail):
                errors.append(row)
                continue
            rows.append(row)
            if len(rows) % PROGRESS_EVERY_ROWS == 0:
                report_progress(len(rows), total_rows)
    except ImportRejected:
        raise
    except CatalogError as error:  # the bytes are not a readable CSV file
        raise ImportRejected([_error(error.detail, INVALID_FILE, None)]) from error
    return rows


def _read_layout(records: Iterator[tuple[int, list[str]]]) -> CsvLayout:
    header = next(records, None)
    if header is None:
        raise ImportRejected([_error("the file is empty; it needs a header row", INVALID_FILE, 1)])
    try:
        return parse_header(header[1])
    except CatalogError as error:
        raise ImportRejected([_error(error.detail, INVALID_HEADER, 1)]) from error


def _row_parser(layout: CsvLayout) -> Callable[[int, list[str]], _Row | JobErrorDetail]:
    names = tuple(name for name, _ in layout.attributes)
    # The header always has name, sku and commodity_type, so this returns a tuple.
    attribute_cells = itemgetter(*(index for _, index in layout.attributes))
    width, id_index, templates, keyed = (
        layout.width,
        layout.id_index,
        layout.templates,
        layout.keyed,
    )

    def parse_row(line: int, cells: list[str]) -> _Row | JobErrorDetail:
        if len(cells) != width:
            message = f"the row has {len(cells)} cells but the header has {width} columns"
            return _error(message, INVALID_ROW, line)
        # Blank cells stay as they are: the product rules read them as "no value".
        attributes: dict[str, Any] = dict(zip(names, attribute_cells(cells), strict=True))
        tags = attributes.get("tags")
        if tags and not tags.isspace():
            attributes["tags"] = split_tags(tags)
        product_id = cells[id_index].strip() or None if id_index is not None else None
        template_cells = None
        if templates:
            template_cells = [
                (template, field, cells[index] or None) for index, template, field in templates
            ]
        keyed_cells = None
        if keyed:
            keyed_cells = [(column, key, cells[index]) for index, column, key in keyed]
        return _Row(line, product_id, attributes, template_cells, keyed_cells)

    return parse_row


@dataclass(frozen=True)
class _KnownProducts:
    """What the import learnt of the store's products before checking its rows."""

    by_id: dict[str, Product]  # the products rows name by id
    by_ref: dict[str, Product]  # the products rows name by external_ref
    # column -> value -> the product holding it, or None if none does: the rows' own cells.
    holders: dict[str, dict[str, str | None]]
    may_have_products: bool  # False: the store has none, and nothing needs looking up


def _look_up_products(connection: Connection, store_id: str, rows: list[_Row]) -> _KnownProducts:
    """The products the rows name, and who holds the unique values their cells set.

    For a file of up to `ONE_LOOKUP_ROWS` rows a single query finds them all: for a small
    import that is most of what it asks the database. A bigger file first asks whether the
    store has products at all (a first import into a new store then asks nothing more), then
    looks up the products rows name; the holders of unique values are looked up once the rows
    are checked.
    """
    ids = {row.product_id for row in rows if row.product_id}
    cells = {
        column: {v for row in rows if isinstance(v := row.attributes.get(column), str) and v}
        for column in UNIQUE_ATTRIBUTES
    }
    refs = cells["external_ref"]
    if len(rows) <= ONE_LOOKUP_ROWS:
        found = find_products_matching(connection, store_id, {"id": ids, **cells})
        holders: dict[str, dict[str, str | None]] = {
            column: dict.fromkeys(values) for column, values in cells.items()
        }
        for product in found:
            for column, held in holders.items():
                value = getattr(product, column)
                if value in held:
                    held[value] = product.id
        return _KnownProducts(
            by_id={p.id: p for p in found if p.id in ids},
            by_ref={p.external_ref: p for p in found if p.external_ref in refs},
            holders=holders,
            may_have_products=True,
        )
    if not store_has_products(connection, store_id):
        return _KnownProducts({}, {}, {}, may_have_products=False)
    by_ref = find_products_by(connection, store_id, "external_ref", refs)
    return _KnownProducts(
        by_id={p.id: p for p in find_products_by(connection, store_id, "id", ids)},
        by_ref={p.external_ref: p for p in by_ref if p.external_ref is not None},
        holders={},
        may_have_products=True,
    )


def _match_rows(
    rows: list[_Row],
    errors: list[JobErrorDetail],
    partners: list[JobErrorDetail],
    known: _KnownProducts,
) -> None:
    """Find the product each row updates: by id, else by external_ref; none means create."""
    by_id, by_ref = known.by_id, known.by_ref
    claimed: dict[str, int] = {}
    for row in rows:
        if row.product_id is not None:
            field, target = "id", by_id.get(row.product_id)
            if target is None:
                message = f"no product with id {row.product_id} exists in this store"
                errors.append(_error(message, NOT_FOUND, row.line, field, row.product_id))
                row.unmatched = True
                continue
        else:
            field = "external_ref"
            target = by_ref.get(row.attributes.get(field) or "")
            if target is None:
                continue
        if target.id in claimed:
            message = (
                f"product {target.id} is already changed by row {claimed[target.id]}; "
                "change each product in one row only"
            )
            errors.append(_error(message, DUPLICATE_IN_FILE, row.line, field))
            message = (
                f"product {target.id} is also changed by row {row.line}; "
                "change each product in one row only"
            )
            partners.append(_error(message, DUPLICATE_IN_FILE, claimed[target.id], field))
            row.unmatched = True
            continue
        if target.is_bundle:
            message = (
                f"product {target.id} is a bundle; bundles cannot be imported (as in Elastic "
                "Path): change it with PUT /pcm/products/{id}, or remove the row"
            )
            errors.append(_error(message, BUNDLE, row.line, field, target.id))
            row.unmatched = True
            continue
        claimed[target.id] = row.line
        row.target = target


def _check_rows(rows: list[_Row], limits: ProductLimits, errors: list[JobErrorDetail]) -> None:
    for row in rows:
        if row.unmatched:
            continue
        if row.keyed:
            row.attributes.update(merge_keyed_cells(row.target, row.keyed))
        values, problems = check_product_attributes(
            row.attributes, is_new=row.target is None, limits=limits, row=row.line
        )
        errors.extend(problems)
        row.values = values
        row.attributes = _CHECKED  # the raw cells are not needed again: free them on big files


class _HolderLookup:
    """Which products hold given values of the unique columns, each value looked up once."""

    def __init__(self, connection: Connection, store_id: str, known: _KnownProducts) -> None:
        self._connection = connection
        self._store_id = store_id
        self._has_products = known.may_have_products
        self._known: dict[str, dict[str, str | None]] = {
            column: dict(known.holders.get(column, {})) for column in UNIQUE_ATTRIBUTES
        }

    def __call__(self, wanted: Mapping[str, set[str]]) -> dict[str, dict[str, str]]:
        """column -> value -> holder, for the wanted values some product holds."""
        if not self._has_products:
            return {column: {} for column in wanted}
        missing = {column: values - self._known[column].keys() for column, values in wanted.items()}
        if any(missing.values()):
            # All columns in one query: a small import's three look-ups cost one round trip.
            found = find_product_ids_by_values(self._connection, self._store_id, missing)
            for column, values in missing.items():
                for value in values:
                    self._known[column][value] = found[column].get(value)
        return {
            column: {
                value: holder
                for value in values
                if (holder := self._known[column][value]) is not None
            }
            for column, values in wanted.items()
        }


def _check_unique_values(
    rows: list[_Row],
    errors: list[JobErrorDetail],
    partners: list[JobErrorDetail],
    find_holders: _HolderLookup,
    left_out: dict[str, int] | None = None,
) -> None:
    """sku, slug and external_ref must be unique in the store once every row has applied.

    `left_out`: products whose rows were left out (product id -> row), which keep their values.
    """
    checked = [row for row in rows if row.values is not None]
    changed_ids = {row.target.id for row in checked if row.target is not None}
    split = {column: _split_kept_and_set(checked, column) for column in UNIQUE_ATTRIBUTES}
    # A product keeping its own value needs no look-up: the store holds it only once.
    moving = {
        column: {v for row, v in setting if row.target is None or getattr(row.target, column) != v}
        for column, (_, setting) in split.items()
    }
    holders_of = find_holders(moving)
    for column in UNIQUE_ATTRIBUTES:
        owners, setting = split[column]
        if not setting:
            continue
        kept_values = set(owners)
        values = [value for _, value in setting]
        holders = holders_of[column]
        if not owners and not holders and len(set(values)) == len(values):
            continue  # nothing can collide: the usual first import of new products
        for row, value in setting:
            owner = owners.get(value)
            holder = holders.get(value)
            if owner is not None:
                message = f"{column} {value!r} is also used by row {owner}"
                errors.append(_error(message, DUPLICATE_IN_FILE, row.line, column, value))
                if value not in kept_values:
                    # Neither row is more right than the other.
                    message = f"{column} {value!r} is also used by row {row.line}"
                    partners.append(_error(message, DUPLICATE_IN_FILE, owner, column, value))
            elif holder is not None and holder not in changed_ids:
                message = f"{column} {value!r} is already used by product {holder}"
                if left_out and holder in left_out:
                    message += f", which keeps it: row {left_out[holder]} was left out"
                errors.append(_error(message, ALREADY_EXISTS, row.line, column, value))
            else:
                owners[value] = row.line


def _split_kept_and_set(
    rows: list[_Row], column: str
) -> tuple[dict[str, int], list[tuple[_Row, str]]]:
    """Values that updated products keep (value -> row), and the values rows set, in order.

    Kept values are owned first: when a row sets one of them, that row is the one in conflict.
    """
    kept: dict[str, int] = {}
    setting: list[tuple[_Row, str]] = []
    for row in rows:
        value = row.values.get(column, _KEEP) if row.values is not None else None
        if value is None:
            continue
        if value is not _KEEP:
            setting.append((row, value))
        elif row.target is not None and (held := getattr(row.target, column)) is not None:
            kept[held] = row.line
    return kept, setting


def _plan_writes(
    store_id: str, rows: list[_Row]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The new products to insert and the changes to make to existing ones."""
    now = utc_now()
    new_ids = iter(new_product_ids(sum(1 for row in rows if row.target is None)))
    new_rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for row in rows:
        values = row.values
        assert values is not None
        if row.target is None:
            # The checked values are complete for a new product; the row adds the rest.
            values["id"] = next(new_ids)
            values["store_id"] = store_id
            values["templates"] = merge_templates(None, row.templates)
            values["created_at"] = values["updated_at"] = now
            new_rows.append(values)
            continue
        target = row.target
        change = {name: value for name, value in values.items() if getattr(target, name) != value}
        if row.templates is not None:
            templates = merge_templates(target.templates, row.templates)
            if templates != target.templates:
                change["templates"] = templates
        if change:
            change["id"] = target.id
            change["updated_at"] = now
            if target.parent_id is not None and target.independent_at is None:
                # A child changed directly is independent of its base product from now on.
                change["independent_at"] = now
            changes.append(change)
    return new_rows, changes


def _outcomes(
    rows: list[_Row], changes: list[dict[str, Any]], dry_run: bool
) -> Iterator[RowOutcome]:
    """Each row's product after the import and what was done to it (planned, on a dry run)."""
    changed = {change["id"] for change in changes}
    for row in rows:
        values = row.values
        assert values is not None
        target = row.target
        if target is None:
            # A dry run's ids are made up: the real import would give others.
            product_id = None if dry_run else values["id"]
            ref, sku = values.get("external_ref"), values.get("sku")
            yield RowOutcome(row.line, product_id, ref, sku, CREATED)
            continue
        ref = values.get("external_ref", target.external_ref)
        sku = values.get("sku", target.sku)
        action = UPDATED if target.id in changed else UNCHANGED
        yield RowOutcome(row.line, target.id, ref, sku, action)


def _write_changes(
    connection: Connection, store_id: str, rows: list[_Row], changes: list[dict[str, Any]]
) -> None:
    """Apply updates so that values moving between products never collide on the way."""
    old = {row.target.id: row.target for row in rows if row.target is not None}
    placeholders: list[dict[str, Any]] = []
    for column in UNIQUE_ATTRIBUTES:
        wanted = {change[column] for change in changes if change.get(column) is not None}
        for change in changes:
            previous = getattr(old[change["id"]], column)
            if column in change and previous in wanted:
                # Another product takes this value in the same import: free it first.
                placeholder = f"~{change['id']}" if column == "slug" else None
                placeholders.append({"id": change["id"], column: placeholder})
    update_products(connection, store_id, placeholders)
    update_products(connection, store_id, changes)


def _error(
    message: str,
    code: str,
    row: int | None,
    field: str | None = None,
    value: str | None = None,
) -> JobErrorDetail:
    return JobErrorDetail(message=message, code=code, row=row, field=field, value=value)
