"""Exporting products as CSV parts that the import reads back unchanged.

Rows stream from the database in batches and leave as CSV text in small pieces, so memory stays
flat in the number of products. The columns are the import's, then `template:<t>:<f>` for every
custom field any exported product has, then `_created_at` and `_updated_at`, which the import
ignores. Files are blobs that expire after the retention period.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Text, func, select, true, type_coerce

from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products.csv_format import (
    KEYED_COLUMNS,
    REMOVE_ATTRIBUTE,
    TEMPLATE_PREFIX,
    format_tags,
)
from pxm_jobs.catalog.products.export_columns import (
    EXPORT_ROW_COLUMNS,
    TIMESTAMP_COLUMNS,
    expand_columns,
    keyed_fields,
    template_fields,
)
from pxm_jobs.catalog.products.product_filter import filter_conditions
from pxm_jobs.config import Settings
from pxm_jobs.store.blobs import write_blob
from pxm_jobs.store.tables import products

# JSON columns read for the cells they make, in this order.
_EXTRA_JSON = ("shopper_attributes", "admin_attributes", "templates")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FETCH_ROWS = 2000
FLUSH_CHARS = 256 * 1024
# Rows handed to csv.writer at once: fewer trips through Python per row.
WRITE_BATCH_ROWS = 500
PROGRESS_EVERY_ROWS = 1000


ProgressCallback = Callable[[int, int | None], None]
Cells = Sequence[Any]

# Database columns in the order an export writes them; templates and timestamps follow.
_ROW_COLUMNS = EXPORT_ROW_COLUMNS
_TAGS_POSITION = _ROW_COLUMNS.index("tags")


@dataclass(frozen=True)
class ExportedFile:
    blob_id: str
    name: str
    rows: int  # data rows, the header not counted


def rows_per_part(settings: Settings) -> int:
    """Data rows per file: the export limit, but never more than an import accepts back."""
    # The import counts its header against `import_max_rows`; a part one row longer could not
    # be edited and imported again, which is what an export is for.
    return min(settings.export_rows_per_file, settings.import_max_rows - 1)


def export_products(
    connection: Connection,
    *,
    store_id: str,
    filters: Sequence[FilterTerm],
    columns: Sequence[str] | None,
    rows_per_file: int,
    expires_at: datetime,
    report_progress: ProgressCallback,
) -> list[ExportedFile]:
    """Write the store's products matching `filters`, oldest first, as `part_<n>.csv` blobs.

    Every part has the header; an export matching nothing writes no file, as in EP's example.
    """
    conditions = [
        *filter_conditions(store_id, filters, connection.dialect.name),
        products.c.components.is_(None),  # bundles are not exported (`find_bundles` says which)
    ]
    templates = _findtemplate_fields(connection, conditions)
    keyed = {column: _find_keys(connection, conditions, column) for column in KEYED_COLUMNS}
    if columns is not None:
        columns = expand_columns(columns, templates, keyed)
        templates = sorted({*templates, *template_fields(columns)})
        for column, key in keyed_fields(columns):
            keyed[column] = sorted({*keyed[column], key})
    header = [
        *_ROW_COLUMNS,
        *(f"{column}.{key}" for column in KEYED_COLUMNS for key in keyed[column]),
        *(f"{TEMPLATE_PREFIX}{template}:{field}" for template, field in templates),
        *TIMESTAMP_COLUMNS,
    ]
    to_cells = _cell_maker(templates, keyed)
    if columns is not None:
        to_cells = _reordered(to_cells, [header.index(column) for column in columns])
        header = list(columns)
    query = _rows_query(
        conditions,
        connection.dialect.name,
        extras=[
            name for name in _EXTRA_JSON if (templates if name == "templates" else keyed[name])
        ],
    )
    batches = _driver_batches(connection, query)
    first = next(batches, [])
    if len(first) < FETCH_ROWS:
        total = len(first)  # the whole export is in hand: no need to count it
    else:
        total = connection.execute(
            select(func.count()).select_from(products).where(*conditions)
        ).scalar_one()
    rows = chain(first, chain.from_iterable(batches))
    written = _Counter(total, report_progress)
    files: list[ExportedFile] = []
    upcoming = next(rows, None)
    while upcoming is not None:
        part = islice(chain([] if upcoming is None else [upcoming], rows), rows_per_file)
        before = written.count
        blob = write_blob(
            connection,
            store_id=store_id,
            name=f"part_{len(files) + 1}.csv",
            content_type=CSV_CONTENT_TYPE,
            chunks=_csv_chunks(header, part, to_cells, written),
            expires_at=expires_at,
        )
        files.append(ExportedFile(blob.id, blob.name, written.count - before))
        upcoming = next(rows, None)
    report_progress(written.count, total)
    return files


def _rows_query(
    conditions: Sequence[ColumnElement[bool]], dialect: str, *, extras: Sequence[str]
) -> Select[Any]:
    """The rows to write, oldest first, with timestamps already in the wire format.

    Nothing is converted to Python objects on the way (JSON stays as the driver gives it) and
    the database formats the timestamps: turning each into a datetime only to write it out as
    text again was half the export's time, measured on 100,000 rows.
    """
    selected: list[ColumnElement[Any]] = [products.c[name] for name in _ROW_COLUMNS]
    selected[_TAGS_POSITION] = type_coerce(products.c.tags, Text)
    selected += [
        _wire_timestamp(products.c.created_at, dialect),
        _wire_timestamp(products.c.updated_at, dialect),
    ]
    # The JSON columns cells are made from, as text, in the order `_EXTRA_JSON` names them.
    selected += [type_coerce(products.c[name], Text) for name in _EXTRA_JSON if name in extras]
    return select(*selected).where(*conditions).order_by(products.c.created_at, products.c.id)


def _driver_batches(connection: Connection, query: Select[Any]) -> Iterator[list[Sequence[Any]]]:
    """The query's rows as the driver's own tuples, a batch of FETCH_ROWS at a time.

    Its columns need no conversion (see `_rows_query`), and skipping SQLAlchemy's result rows
    saves a tenth of the export's time. On PostgreSQL a named, server-side cursor holds the
    result, so only one batch is ever in memory; SQLite steps through its result as it goes.
    """
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    values = compiled.params
    # Filters bind only text, which drivers take as it is: no SQLAlchemy bind processing needed.
    assert all(isinstance(value, str) for value in values.values()), values
    parameters: Any = values
    if compiled.positiontup is not None:
        parameters = tuple(values[name] for name in compiled.positiontup)
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name=f"export_{uuid.uuid4().hex}")
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(compiled.string, parameters)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield batch
    finally:
        cursor.close()


def _wire_timestamp(column: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """`2024-01-05T13:46:41.695Z` from a stored UTC timestamp, as `format_timestamp` writes it."""
    if dialect == "postgresql":
        return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"', type_=Text)
    # SQLite keeps whole milliseconds, so %f (seconds with three decimals) is exact.
    return func.strftime("%Y-%m-%dT%H:%M:%fZ", column, type_=Text)


def find_bundles(
    connection: Connection, store_id: str, filters: Sequence[FilterTerm], limit: int
) -> tuple[list[str], int]:
    """Up to `limit` ids of the bundles the filter matches, and how many it matches: an
    export leaves them out, as EP does, and says so."""
    conditions = [
        *filter_conditions(store_id, filters, connection.dialect.name),
        products.c.components.is_not(None),
    ]
    ids = connection.execute(
        select(products.c.id).where(*conditions).order_by(products.c.created_at).limit(limit)
    ).scalars()
    total = connection.execute(
        select(func.count()).select_from(products).where(*conditions)
    ).scalar_one()
    return list(ids), total


def _findtemplate_fields(
    connection: Connection, conditions: Sequence[ColumnElement[bool]]
) -> list[tuple[str, str]]:
    """Every (template, field) pair the matching products have data for, sorted."""
    if connection.dialect.name == "postgresql":
        is_object = func.jsonb_typeof(products.c.templates) == "object"
        each = func.jsonb_each
    else:
        is_object = func.json_type(products.c.templates) == "object"
        each = func.json_each
    # Functions in FROM may read the rows before them on both databases, LATERAL or not.
    templates = each(products.c.templates).table_valued("key", "value").alias("t")
    fields = each(templates.c.value).table_valued("key").alias("f")
    query = (
        select(templates.c.key, fields.c.key)
        .distinct()
        .select_from(products)
        .join(templates, true())
        .join(fields, true())
        .where(*conditions, is_object)
    )
    return sorted((template, field) for template, field in connection.execute(query))


def _find_keys(
    connection: Connection, conditions: Sequence[ColumnElement[bool]], column: str
) -> list[str]:
    """Every key the matching products have in a shopper or admin attributes map, sorted."""
    stored = products.c[column]
    if connection.dialect.name == "postgresql":
        is_object = func.jsonb_typeof(stored) == "object"
        each = func.jsonb_each
    else:
        is_object = func.json_type(stored) == "object"
        each = func.json_each
    keys = each(stored).table_valued("key").alias("k")
    query = (
        select(keys.c.key)
        .distinct()
        .select_from(products)
        .join(keys, true())
        .where(*conditions, is_object)
    )
    return sorted(connection.execute(query).scalars())


def _cell_maker(
    templates: Sequence[tuple[str, str]], keyed: Mapping[str, Sequence[str]]
) -> Callable[[Sequence[Any]], Cells]:
    """Turns a selected row into the cells of the full header; None cells are written blank.

    A product without a key other exported products have gets `__REMOVE_ATTRIBUTE__` in that
    column: a blank cell would import as an empty string and change the product.
    """
    created_at = len(_ROW_COLUMNS)
    extras_at = created_at + len(TIMESTAMP_COLUMNS)
    extras = [name for name in _EXTRA_JSON if (templates if name == "templates" else keyed[name])]

    def plain_cells(row: Sequence[Any]) -> Sequence[Any]:
        tags = row[_TAGS_POSITION]
        if tags is None:
            return row  # most rows: written just as they came
        cells = list(row)
        cells[_TAGS_POSITION] = _tags_cell(tags)
        return cells

    if not extras:
        return plain_cells

    def cells_with_extras(row: Sequence[Any]) -> Cells:
        cells = list(plain_cells(row))
        stored = dict(zip(extras, cells[extras_at:], strict=True))
        del cells[extras_at:]
        custom: list[Any] = []
        for column in KEYED_COLUMNS:
            if keyed[column]:
                values = _read_json(stored[column]) if stored[column] is not None else None
                values = values or {}
                custom.extend(values.get(key, REMOVE_ATTRIBUTE) for key in keyed[column])
        if templates:
            data: Mapping[str, Mapping[str, str]] = (
                _read_json(stored["templates"]) if stored["templates"] is not None else None
            ) or {}
            custom.extend(data.get(template, {}).get(field) for template, field in templates)
        cells[created_at:created_at] = custom
        return cells

    return cells_with_extras


def _tags_cell(stored: str | list[str]) -> str:
    """A tags cell (`a,b`) from the stored JSON array, text on SQLite, a list on PostgreSQL."""
    if isinstance(stored, str) and stored.startswith("[") and "\\" not in stored:
        # With no escape in the text no tag holds a quote, and the rules forbid commas and
        # whitespace in tags: what is left to drop is JSON punctuation. 4x faster than decoding.
        return "".join(stored[1:-1].split()).replace('"', "")
    return format_tags(_read_json(stored) or ())


def _read_json(value: Any) -> Any:
    # SQLite hands back JSON as text; psycopg has already decoded it.
    return json.loads(value) if isinstance(value, str) else value


def _reordered(
    to_cells: Callable[[Sequence[Any]], Cells], positions: Sequence[int]
) -> Callable[[Sequence[Any]], Cells]:
    def chosen_cells(row: Sequence[Any]) -> Cells:
        cells = to_cells(row)
        return [cells[position] for position in positions]

    return chosen_cells


class _Counter:
    """Counts rows written across parts and reports progress every so often."""

    def __init__(self, total: int, report_progress: ProgressCallback) -> None:
        self.count = 0
        self._total = total
        self._report_progress = report_progress
        self._reported = 0

    def add(self, rows: int) -> None:
        self.count += rows
        if self.count - self._reported >= PROGRESS_EVERY_ROWS:
            self._reported = self.count
            self._report_progress(self.count, self._total)


def _csv_chunks(
    header: Sequence[str],
    rows: Iterator[Sequence[Any]],
    to_cells: Callable[[Sequence[Any]], Cells],
    counter: _Counter,
) -> Iterator[bytes]:
    """The CSV file's bytes, a few hundred kilobytes at a time.

    The csv module's default "\\r\\n" line ending is kept on purpose: with "\\n", a value
    holding a lone carriage return would be written unquoted and split the record on import.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    while batch := list(islice(rows, WRITE_BATCH_ROWS)):
        writer.writerows(map(to_cells, batch))
        counter.add(len(batch))
        if buffer.tell() >= FLUSH_CHARS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
