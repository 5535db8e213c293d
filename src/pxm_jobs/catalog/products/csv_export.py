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
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import chain, islice
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    bindparam,
    func,
    select,
    true,
    type_coerce,
)

from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products.csv_format import (
    KEYED_COLUMNS,
    REMOVE_ATTRIBUTE,
    TEMPLATE_PREFIX,
    escape_formula,
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
from pxm_jobs.store import driver_path
from pxm_jobs.store.blobs import CHUNK_BYTES, write_blob
from pxm_jobs.store.tables import products

# JSON columns read for the cells they make, in this order.
_EXTRA_JSON = ("shopper_attributes", "admin_attributes", "templates")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FETCH_ROWS = 2000
FLUSH_CHARS = 256 * 1024
# Rows handed to csv.writer at once: fewer trips through Python per row.
WRITE_BATCH_ROWS = 500
PROGRESS_EVERY_ROWS = 1000
# A part is kept in memory up to this size while the export reads, on disk beyond it: only the
# last part of an export can stay this small, so memory stays flat in the number of products.
SPOOL_MEMORY_BYTES = 1024 * 1024


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


@dataclass(frozen=True)
class SpooledPart:
    """One part's bytes in a temporary file, waiting to be stored."""

    content: IO[bytes]
    rows: int


def export_products(
    connection: Connection,
    *,
    store_id: str,
    filters: Sequence[FilterTerm],
    columns: Sequence[str] | None,
    rows_per_file: int,
    expires_at: datetime,
    report_progress: ProgressCallback,
    bytes_per_file: int | None = None,
    escape_formulas: bool = False,
) -> list[ExportedFile]:
    """Write the store's products matching `filters` as `part_<n>.csv` blobs, on `connection`.

    See `spool_parts` for what the parts hold; a job that reads on a connection of its own uses
    it and `store_part` directly.
    """
    matched = count_matches(connection, store_id, filters)
    with spool_parts(
        connection,
        store_id=store_id,
        filters=filters,
        matched=matched.exported,
        columns=columns,
        rows_per_file=rows_per_file,
        report_progress=report_progress,
        bytes_per_file=bytes_per_file,
        escape_formulas=escape_formulas,
    ) as parts:
        return [
            store_part(connection, part, number, store_id=store_id, expires_at=expires_at)
            for number, part in enumerate(parts, start=1)
        ]


@dataclass(frozen=True)
class MatchCounts:
    """What a filter matches in a store: products the export writes, and bundles it skips."""

    exported: int
    bundles: int


# Products the export writes, and bundles it skips.
_MATCH_COUNTS = (
    func.count().filter(products.c.components.is_(None)).label("exported"),
    func.count().filter(products.c.components.is_not(None)).label("bundles"),
)
# The usual export, of a whole store, counted by a statement built once.
_STORE_COUNTS = select(*_MATCH_COUNTS).where(products.c.store_id == bindparam("store_id"))


def count_matches(
    connection: Connection, store_id: str, filters: Sequence[FilterTerm]
) -> MatchCounts:
    """Both counts in one query: an export that matches nothing needs no other."""
    if filters:
        conditions = filter_conditions(store_id, filters, connection.dialect.name)
        exported, bundles = connection.execute(select(*_MATCH_COUNTS).where(*conditions)).one()
    else:
        # Every export of a whole store asks this: straight to the driver, where it has one.
        exported, bundles = driver_path.fetch_first(
            connection, _STORE_COUNTS, {"store_id": store_id}
        )
    return MatchCounts(int(exported), int(bundles))


@contextmanager
def spool_parts(
    reader: Connection,
    *,
    store_id: str,
    filters: Sequence[FilterTerm],
    matched: int,
    columns: Sequence[str] | None,
    rows_per_file: int,
    report_progress: ProgressCallback,
    bytes_per_file: int | None = None,
    escape_formulas: bool = False,
) -> Iterator[list[SpooledPart]]:
    """Read the store's products matching `filters`, oldest first, into CSV parts kept in
    temporary files for the duration of the block; `reader` is not used once it is entered.

    `matched` is how many products the filter matched when counted (`count_matches`), for the
    progress reports; with none, nothing more is read. Every part has the header; an export
    matching nothing has no part, as in EP's example.
    A part ends at `rows_per_file` rows or before it would pass `bytes_per_file` bytes, so that
    every part imports back. With `escape_formulas`, cells a spreadsheet would run as formulas
    get a leading `'` (see `csv_format.escape_formula`).
    """
    if matched == 0:
        report_progress(0, 0)
        yield []
        return
    conditions = [
        *filter_conditions(store_id, filters, reader.dialect.name),
        products.c.components.is_(None),  # bundles are not exported (`find_bundles` says which)
    ]
    templates = _findtemplate_fields(reader, conditions)
    keyed = {column: _find_keys(reader, conditions, column) for column in KEYED_COLUMNS}
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
    if escape_formulas:
        to_cells = _escaped(to_cells)
    query = _rows_query(
        conditions,
        reader.dialect.name,
        extras=[
            name for name in _EXTRA_JSON if (templates if name == "templates" else keyed[name])
        ],
    )
    batches = _driver_batches(reader, query)
    rows = _Rows(chain.from_iterable(batches))
    written = _Counter(matched, report_progress)
    with ExitStack() as spooled:
        parts: list[SpooledPart] = []
        while rows.peek():
            before = written.count
            limits = _PartLimits(rows_per_file, bytes_per_file)
            spool: IO[bytes] = spooled.enter_context(
                SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
            )
            for chunk in _csv_chunks(header, rows, to_cells, written, limits):
                spool.write(chunk)
            parts.append(SpooledPart(spool, written.count - before))
        batches.close()  # read to its end already; this makes sure its cursor is closed
        report_progress(written.count, max(matched, written.count))
        yield parts


def store_part(
    connection: Connection,
    part: SpooledPart,
    number: int,
    *,
    store_id: str,
    expires_at: datetime,
) -> ExportedFile:
    """Store a spooled part as the blob `part_<number>.csv`."""
    part.content.seek(0)
    blob = write_blob(
        connection,
        store_id=store_id,
        name=f"part_{number}.csv",
        content_type=CSV_CONTENT_TYPE,
        chunks=iter(partial(part.content.read, CHUNK_BYTES), b""),
        expires_at=expires_at,
    )
    return ExportedFile(blob.id, blob.name, part.rows)


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


def _driver_batches(
    connection: Connection, query: Select[Any]
) -> Generator[list[Sequence[Any]], None, None]:
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
) -> list[str]:
    """Up to `limit` ids of the bundles the filter matches, oldest first: an export leaves
    them out, as EP does, and says so (`count_matches` counts them all)."""
    conditions = [
        *filter_conditions(store_id, filters, connection.dialect.name),
        products.c.components.is_not(None),
    ]
    return list(
        connection.execute(
            select(products.c.id).where(*conditions).order_by(products.c.created_at).limit(limit)
        ).scalars()
    )


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


@dataclass(frozen=True)
class _PartLimits:
    rows: int
    bytes: int | None


class _Rows:
    """The rows to export, with room to put back the ones a full part could not take."""

    def __init__(self, rows: Iterator[Sequence[Any]]) -> None:
        self._rows = rows
        self._back: list[Sequence[Any]] = []

    def take(self, count: int) -> list[Sequence[Any]]:
        taken, self._back = self._back[:count], self._back[count:]
        taken.extend(islice(self._rows, count - len(taken)))
        return taken

    def put_back(self, rows: Sequence[Sequence[Any]]) -> None:
        self._back[:0] = rows

    def peek(self) -> bool:
        """Whether any row is left."""
        if not self._back:
            self._back.extend(islice(self._rows, 1))
        return bool(self._back)


def _csv_chunks(
    header: Sequence[str],
    rows: _Rows,
    to_cells: Callable[[Sequence[Any]], Cells],
    counter: _Counter,
    limits: _PartLimits,
) -> Iterator[bytes]:
    """One part's bytes, a few hundred kilobytes at a time, up to its rows and bytes.

    The csv module's default "\\r\\n" line ending is kept on purpose: with "\\n", a value
    holding a lone carriage return would be written unquoted and split the record on import.
    Rows are written a batch at a time; only a batch that would pass the byte limit is
    written row by row, to stop at the last row that fits.
    """
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    pending = bytearray(_take_text(text).encode())
    size, row_count = len(pending), 0
    while row_count < limits.rows:
        batch = rows.take(min(WRITE_BATCH_ROWS, limits.rows - row_count))
        if not batch:
            break
        writer.writerows(map(to_cells, batch))
        encoded = _take_text(text).encode()
        full = limits.bytes is not None and size + len(encoded) > limits.bytes
        if limits.bytes is not None and full:
            fitting, encoded = _rows_that_fit(batch, to_cells, limits.bytes - size, row_count == 0)
            rows.put_back(batch[fitting:])
            batch = batch[:fitting]
        pending += encoded
        size += len(encoded)
        row_count += len(batch)
        counter.add(len(batch))
        if len(pending) >= FLUSH_CHARS:
            yield bytes(pending)
            pending.clear()
        if full:
            break
    yield bytes(pending)


def _rows_that_fit(
    batch: Sequence[Sequence[Any]],
    to_cells: Callable[[Sequence[Any]], Cells],
    room: int,
    part_is_empty: bool,
) -> tuple[int, bytes]:
    """How many of `batch`'s rows fit in `room` bytes, and their bytes; at least one row in an
    empty part, which could never hold it otherwise."""
    text = io.StringIO()
    writer = csv.writer(text)
    kept = bytearray()
    for count, row in enumerate(batch):
        writer.writerow(to_cells(row))
        line = _take_text(text).encode()
        if len(kept) + len(line) > room and (count > 0 or not part_is_empty):
            return count, bytes(kept)
        kept += line
    return len(batch), bytes(kept)


def _take_text(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def _escaped(to_cells: Callable[[Sequence[Any]], Cells]) -> Callable[[Sequence[Any]], Cells]:
    def escaped_cells(row: Sequence[Any]) -> Cells:
        return [escape_formula(cell) if isinstance(cell, str) else cell for cell in to_cells(row)]

    return escaped_cells
