"""The rows a failed import rejected, as a CSV file to fix and import again.

The file has the upload's own header and cells, row for row as they were sent, after an `_error`
column saying what is wrong with each; the import ignores that column, so the fixed file
imports as it is. It comes first so that a row whose cell count is the problem still lines up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import Connection

from pxm_jobs.catalog.errors import CatalogError
from pxm_jobs.catalog.products.csv_export import CSV_CONTENT_TYPE, FLUSH_CHARS
from pxm_jobs.catalog.products.csv_format import (
    ERROR_COLUMN,
    escape_formula,
    read_csv_records,
)
from pxm_jobs.catalog.products.csv_import import FILE_PROBLEMS
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.blobs import BlobInfo, write_blob

REJECTED_ROWS_NAME = "rejected_rows.csv"
MESSAGE_SEPARATOR = "; "
FIRST_DATA_LINE = 2  # the header is line 1


def write_rejected_rows(
    connection: Connection,
    *,
    store_id: str,
    upload: Iterable[bytes],
    errors: Sequence[JobErrorDetail],
    expires_at: datetime,
    max_bytes: int | None = None,
    escape_formulas: bool = False,
) -> BlobInfo | None:
    """Store the rows of `upload` that `errors` name, each with its messages; None if no row
    can be singled out (the file as a whole was the problem).

    The file stops at the last row that fits in `max_bytes`, so that it imports back; the
    job's errors still name every row. With `escape_formulas`, cells are written as an export
    writes them (`csv_format.escape_formula`).
    """
    if any(error.code in FILE_PROBLEMS for error in errors):
        return None
    messages: dict[int, list[str]] = {}
    for error in errors:
        if error.row is not None and error.row >= FIRST_DATA_LINE:
            messages.setdefault(error.row, []).append(error.message)
    if not messages:
        return None
    try:
        records = read_csv_records(upload)
        header = next(records, None)
        if header is None:
            return None
        return write_blob(
            connection,
            store_id=store_id,
            name=REJECTED_ROWS_NAME,
            content_type=CSV_CONTENT_TYPE,
            chunks=_rejected_csv(header[1], records, messages, max_bytes, escape_formulas),
            expires_at=expires_at,
        )
    except CatalogError:  # unreadable after all: the errors already say so
        return None


def _rejected_csv(
    header: list[str],
    records: Iterator[tuple[int, list[str]]],
    messages: dict[int, list[str]],
    max_bytes: int | None,
    escape_formulas: bool,
) -> Iterator[bytes]:
    # A file of rejected rows imported again and rejected again has an `_error` column already:
    # the new messages replace the old ones.
    stale = [index for index, name in enumerate(header) if name.strip() == ERROR_COLUMN]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([ERROR_COLUMN, *_without(header, stale)])
    pending = bytearray(_take(buffer))
    size = len(pending)
    remaining = len(messages)
    for line, cells in records:
        found = messages.get(line)
        if found is None:
            continue
        row = [MESSAGE_SEPARATOR.join(found), *_without(cells, stale)]
        writer.writerow([escape_formula(cell) for cell in row] if escape_formulas else row)
        encoded = _take(buffer)
        if max_bytes is not None and size + len(encoded) > max_bytes:
            break  # full: the job's errors list the rows left out
        pending += encoded
        size += len(encoded)
        remaining -= 1
        if len(pending) >= FLUSH_CHARS:
            yield bytes(pending)
            pending.clear()
        if remaining == 0:
            break  # the rest of the file holds no rejected row
    yield bytes(pending)


def _take(buffer: io.StringIO) -> bytes:
    value = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return value


def _without(cells: list[str], positions: list[int]) -> list[str]:
    if not positions:
        return cells
    return [cell for index, cell in enumerate(cells) if index not in positions]
