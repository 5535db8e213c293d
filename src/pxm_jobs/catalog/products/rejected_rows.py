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
from pxm_jobs.catalog.products.csv_format import ERROR_COLUMN, read_csv_records
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
) -> BlobInfo | None:
    """Store the rows of `upload` that `errors` name, each with its messages; None if no row
    can be singled out (the file as a whole was the problem).
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
            chunks=_rejected_csv(header[1], records, messages),
            expires_at=expires_at,
        )
    except CatalogError:  # unreadable after all: the errors already say so
        return None


def _rejected_csv(
    header: list[str], records: Iterator[tuple[int, list[str]]], messages: dict[int, list[str]]
) -> Iterator[bytes]:
    # A file of rejected rows imported again and rejected again has an `_error` column already:
    # the new messages replace the old ones.
    stale = [index for index, name in enumerate(header) if name.strip() == ERROR_COLUMN]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([ERROR_COLUMN, *_without(header, stale)])
    remaining = len(messages)
    for line, cells in records:
        found = messages.get(line)
        if found is None:
            continue
        writer.writerow([MESSAGE_SEPARATOR.join(found), *_without(cells, stale)])
        remaining -= 1
        if buffer.tell() >= FLUSH_CHARS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if remaining == 0:
            break  # the rest of the file holds no rejected row
    yield buffer.getvalue().encode()


def _without(cells: list[str], positions: list[int]) -> list[str]:
    if not positions:
        return cells
    return [cell for index, cell in enumerate(cells) if index not in positions]
