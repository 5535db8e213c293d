"""What a successful import did with each row, as a CSV file: integrations learn the ids of
the products it created (and which rows changed nothing) without querying for them.

One line per row applied, in file order: `row` (its line in the upload, the header being line
1, as in the job's errors), the product's `id`, `external_ref` and `sku` after the import, and
`action`: `created`, `updated` or `unchanged`. Rows left out are in the file of rejected rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from pxm_jobs.catalog.products.csv_export import CSV_CONTENT_TYPE, FLUSH_CHARS
from pxm_jobs.catalog.products.csv_format import escape_formula
from pxm_jobs.store.blobs import BlobInfo, write_blob

RESULT_FILE_NAME = "import_results.csv"
RESULT_COLUMNS = ("row", "id", "external_ref", "sku", "action")
CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RowOutcome:
    line: int
    product_id: str | None  # None for the product a dry run would have created
    external_ref: str | None
    sku: str | None
    action: str


def write_import_results(
    connection: Connection,
    *,
    store_id: str,
    outcomes: Iterable[RowOutcome],
    expires_at: datetime,
    escape_formulas: bool = False,
) -> BlobInfo:
    """Store the result file; with `escape_formulas`, cells are written as an export writes
    them (`csv_format.escape_formula`), since skus and refs are whatever the upload said."""
    return write_blob(
        connection,
        store_id=store_id,
        name=RESULT_FILE_NAME,
        content_type=CSV_CONTENT_TYPE,
        chunks=_result_csv(outcomes, escape_formulas),
        expires_at=expires_at,
    )


def _result_csv(outcomes: Iterable[RowOutcome], escape_formulas: bool) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RESULT_COLUMNS)
    escape = escape_formula if escape_formulas else _as_is
    for outcome in outcomes:
        writer.writerow(
            (
                outcome.line,
                outcome.product_id or "",
                escape(outcome.external_ref or ""),
                escape(outcome.sku or ""),
                outcome.action,
            )
        )
        if buffer.tell() >= FLUSH_CHARS:
            yield _take(buffer)
    yield _take(buffer)


def _as_is(cell: str) -> str:
    return cell


def _take(buffer: io.StringIO) -> bytes:
    value = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return value
