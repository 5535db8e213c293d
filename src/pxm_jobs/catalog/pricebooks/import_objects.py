"""The objects of a price book import file, each read and checked on its own.

An object is `{"data": {"type", "id"?, "attributes", ...}}` of type `pricebook`,
`product-price` or `price-modifier`; the last two name their book by `pricebook_id` or
`pricebook_external_ref`. What can be checked without the database is checked here, with
the object's ordinal (1 for the first) as the error's row; which objects are new, and so what
they must hold, is known only once they are matched (`import_plan`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.gzip_files import GzipUnreadable, inflated
from pxm_jobs.catalog.pricebooks.jsonl_format import InvalidJsonObject, read_objects
from pxm_jobs.catalog.pricebooks.rules import (
    PricebookLimits,
    check_modifier_attributes,
    check_price_attributes,
    check_pricebook_attributes,
)
from pxm_jobs.catalog.pricebooks.spool import ValueSpool
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail

PRICEBOOK = "pricebook"
PRICE = "product-price"
MODIFIER = "price-modifier"
# How each kind is named in messages, as Elastic Path's own messages name them.
WHAT = {PRICEBOOK: "price book", PRICE: "price", MODIFIER: "price modifier"}
_CHECKS = {
    PRICEBOOK: check_pricebook_attributes,
    PRICE: check_price_attributes,
    MODIFIER: check_modifier_attributes,
}
_IN_A_BOOK = frozenset({PRICE, MODIFIER})
# Keys of `data` beside those read here, written by exports and ignored.
_IGNORED_KEYS = frozenset({"meta", "links", "relationships"})
JSON_COLUMNS = frozenset({"currencies", "sales", "admin_attributes", "shopper_attributes"})

# Problem codes of the file and of objects as a whole.
INVALID_FILE = "invalid_file"
INVALID_OBJECT = "invalid_object"
TOO_MANY = "too_many"
PROGRESS_EVERY_OBJECTS = 1000

ProgressCallback = Callable[[int, int | None], None]
# Compact JSON text, as the JSON columns store it.
dump_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(slots=True)
class ImportObject:
    ordinal: int
    kind: str
    id: str | None
    book_id: str | None  # a price's or modifier's `pricebook_id`
    book_ref: str | None  # ... or its `pricebook_external_ref`
    # The checked attributes it gives, JSON ones as handles of their JSON text in the spool.
    values: dict[str, Any]


def read_import_objects(
    chunks: Iterable[bytes],
    settings: Settings,
    errors: list[JobErrorDetail],
    report_progress: ProgressCallback,
    spool: ValueSpool,
) -> list[ImportObject]:
    """Every object of the file, checked; problems go to `errors`.

    Raises ImportRejected, with the problems found so far, where reading cannot go on: a
    damaged gzip stream, an object that is not JSON, more objects than allowed.
    """
    limits = PricebookLimits.from_settings(settings)
    found: list[ImportObject] = []
    try:
        for ordinal, value in read_objects(inflated(chunks, settings.import_max_bytes)):
            if ordinal > settings.import_max_rows:
                message = (
                    f"the file has more than {settings.import_max_rows:,} objects; "
                    "split it into smaller files and import them one after another"
                )
                errors.append(JobErrorDetail(message, TOO_MANY, ordinal))
                raise ImportRejected(errors)
            checked = check_object(ordinal, value, limits, errors, spool)
            if checked is not None:
                found.append(checked)
            if ordinal % PROGRESS_EVERY_OBJECTS == 0:
                report_progress(ordinal, None)
    except GzipUnreadable as error:
        errors.append(JobErrorDetail(error.detail, INVALID_FILE))
        raise ImportRejected(errors) from error
    except InvalidJsonObject as error:
        errors.append(JobErrorDetail(error.detail, INVALID_OBJECT, error.ordinal))
        raise ImportRejected(errors) from error
    return found


def check_object(
    ordinal: int,
    value: Any,
    limits: PricebookLimits,
    errors: list[JobErrorDetail],
    spool: ValueSpool,
) -> ImportObject | None:
    """The object as the import uses it, or None (with its problems in `errors`)."""
    before = len(errors)

    def report(message: str, field: str, code: str) -> None:
        errors.append(JobErrorDetail(message, code, ordinal, field))

    data = value.get("data") if type(value) is dict else None
    if type(data) is not dict:
        report(
            'the object must be {"data": {"type": ..., "attributes": {...}}}',
            "data",
            INVALID_OBJECT,
        )
        return None
    kind = data.get("type")
    if kind not in _CHECKS:
        report(
            f"unknown type {kind!r}; use pricebook, product-price or price-modifier",
            "type",
            INVALID_OBJECT,
        )
        return None
    what = WHAT[kind]
    allowed = {"type", "id", "attributes"} | (
        {"pricebook_id", "pricebook_external_ref"} if kind in _IN_A_BOOK else set()
    )
    for key in data:
        if key not in allowed and key not in _IGNORED_KEYS:
            report(
                f"unknown key {key!r} for {what}; use " + ", ".join(sorted(allowed)),
                key,
                INVALID_OBJECT,
            )
    attributes = data.get("attributes")
    if type(attributes) is not dict:
        report(f"missing attributes for {what}", "attributes", INVALID_OBJECT)
        return None
    own_id = _read_id(data.get("id"), "id", f"invalid id for {what}", report)
    book_id = book_ref = None
    if kind in _IN_A_BOOK:
        book_id = _read_id(
            data.get("pricebook_id"), "pricebook_id", f"invalid pricebook_id for {what}", report
        )
        book_ref = data.get("pricebook_external_ref")
        if book_ref is not None and type(book_ref) is not str:
            report(
                f"invalid type for pricebook_external_ref for {what}: it must be a string",
                "pricebook_external_ref",
                INVALID_OBJECT,
            )
            book_ref = None
        if not book_id and not book_ref and len(errors) == before:
            report(
                f"missing pricebook_id/pricebook_external_ref for {what}: name the price book "
                "it belongs to",
                "pricebook_external_ref",
                INVALID_OBJECT,
            )
    values = _CHECKS[kind](attributes, is_new=False, limits=limits, report=report)
    if len(errors) > before:
        return None
    for name in JSON_COLUMNS.intersection(values):
        if values[name] is not None:
            values[name] = spool.put(dump_json(values[name]))
    return ImportObject(ordinal, kind, own_id, book_id, book_ref or None, values)


def _read_id(
    value: Any, field: str, message: str, report: Callable[[str, str, str], None]
) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is str:
        try:
            return str(UUID(value))
        except ValueError:
            pass
    report(f"{message}: {value!r} is not an id (a UUID)", field, INVALID_OBJECT)
    return None
