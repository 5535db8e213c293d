"""Importing price books, prices and modifiers from a JSONL file, all of it or none of it.

Elastic Path applies such a file on a best-endeavours basis (what came before the first error
stays written); this service keeps the rule its other imports keep: every object is read and
checked first, every problem is listed with the object's ordinal as its row, and nothing is
written unless there is none.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.pricebooks.import_objects import (
    MODIFIER,
    PRICE,
    ProgressCallback,
    read_import_objects,
)
from pxm_jobs.catalog.pricebooks.import_plan import NewIds, plan_books, plan_children
from pxm_jobs.catalog.pricebooks.import_writes import (
    MODIFIERS,
    PRICES,
    Counts,
    write_books,
    write_children,
)
from pxm_jobs.catalog.pricebooks.spool import ValueSpool
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail

CONFLICT = "conflict"


@dataclass(frozen=True)
class PricebookImportResult:
    pricebooks: Counts
    prices: Counts
    modifiers: Counts

    def as_meta(self) -> dict[str, Any]:
        """`{"pricebooks": {"created", "updated"}, "prices": {...}, "modifiers": {...}}`."""
        return asdict(self)


def import_pricebooks(
    connection: Connection,
    *,
    store_id: str,
    chunks: Iterable[bytes],
    settings: Settings,
    dry_run: bool,
    report_progress: ProgressCallback,
) -> PricebookImportResult:
    """Apply the file's objects in order; raises ImportRejected, before writing anything, if
    any object cannot apply.
    """
    errors: list[JobErrorDetail] = []
    spool = ValueSpool()
    with _collector_paused(), closing(spool):
        objects = read_import_objects(chunks, settings, errors, report_progress, spool)
        new_ids = NewIds()
        books = plan_books(connection, store_id, objects, errors, new_ids)
        planned_prices = plan_children(connection, PRICE, objects, books, errors, new_ids)
        planned_modifiers = plan_children(connection, MODIFIER, objects, books, errors, new_ids)
        if errors:
            raise ImportRejected(sorted(errors, key=lambda error: error.row or 0))
        # Everything is read and checked; a job that must stop learns it here, before writing.
        read = objects[-1].ordinal if objects else 0
        report_progress(read, read)
        del objects
        now = utc_now()
        try:
            result = PricebookImportResult(
                pricebooks=write_books(connection, books.entries, now, dry_run=dry_run),
                prices=write_children(
                    connection, PRICES, store_id, planned_prices, now, spool, dry_run=dry_run
                ),
                modifiers=write_children(
                    connection,
                    MODIFIERS,
                    store_id,
                    planned_modifiers,
                    now,
                    spool,
                    dry_run=dry_run,
                ),
            )
        except IntegrityError as error:
            # Only a concurrent write (through the Price Books API, say) gets here.
            message = "price books changed while the import ran; run the import again"
            raise ImportRejected([JobErrorDetail(message, CONFLICT)]) from error
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while objects are built, as the product import does:
    tens of thousands of new dicts make it sweep the growing heap again and again, and none is
    part of a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
