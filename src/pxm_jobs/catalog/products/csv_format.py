"""The product import CSV: its columns, its header rules, and reading its records from bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pxm_jobs.catalog.errors import (
    DuplicateCsvHeader,
    ImportFileNotUtf8,
    MalformedCsv,
    MissingCsvHeader,
    UnknownCsvHeader,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

ID_COLUMN = "id"
# Product attributes a CSV column can set, in the order an export writes them.
ATTRIBUTE_COLUMNS = (
    "external_ref",
    "name",
    "description",
    "slug",
    "status",
    "commodity_type",
    "sku",
    "upc_ean",
    "mpn",
    "tags",
    "main_image_id",
)
# EP's header table makes `sku` optional; `name` and `commodity_type` a new product needs.
REQUIRED_COLUMNS = ("name", "commodity_type")
# `shopper_attributes.<key>` and `admin_attributes.<key>`: one key of the product's map each.
KEYED_COLUMNS = ("shopper_attributes", "admin_attributes")
# In a keyed cell: remove the key from the product (on a new product, the cell is ignored).
REMOVE_ATTRIBUTE = "__REMOVE_ATTRIBUTE__"
# Written by export so that a file can go round trip, and by a failed import beside each rejected
# row (`_error`) so that the fixed rows import as they are; an import never sets them.
ERROR_COLUMN = "_error"
IGNORED_COLUMNS = frozenset({"_created_at", "_updated_at", ERROR_COLUMN})
IGNORED_TEMPLATE_FIELDS = frozenset({"created_at", "updated_at"})
TEMPLATE_PREFIX = "template:"
TAG_SEPARATOR = ","

ENCODING = "utf-8-sig"  # UTF-8, with or without a byte order mark
READ_BUFFER_BYTES = 256 * 1024

_KNOWN = (ID_COLUMN, *ATTRIBUTE_COLUMNS)
_EXPECTED = (
    ", ".join(_KNOWN)
    + ", shopper_attributes.<key>, admin_attributes.<key>, template:<template>:<field>"
)


@dataclass(frozen=True)
class CsvLayout:
    """Where each thing an import understands sits in a row of the file."""

    headers: tuple[str, ...]
    id_index: int | None
    # (attribute, column index), for the product attributes present.
    attributes: tuple[tuple[str, int], ...]
    # (column index, template, field), for custom data.
    templates: tuple[tuple[int, str, str], ...]
    # (column index, `shopper_attributes` or `admin_attributes`, key).
    keyed: tuple[tuple[int, str, str], ...] = ()

    @property
    def width(self) -> int:
        return len(self.headers)


def parse_header(cells: list[str]) -> CsvLayout:
    """The layout a header row describes; raises the first problem it finds."""
    headers = tuple(cell.strip() for cell in cells)
    seen: set[str] = set()
    id_index: int | None = None
    attributes: list[tuple[str, int]] = []
    templates: list[tuple[int, str, str]] = []
    keyed: list[tuple[int, str, str]] = []
    for index, header in enumerate(headers):
        # `template: t: f` (EP's own sample file has the spaces) is the column `template:t:f`.
        name = canonical_header(header)
        if name in seen:
            raise DuplicateCsvHeader(header)
        seen.add(name)
        if name == ID_COLUMN:
            id_index = index
        elif name in ATTRIBUTE_COLUMNS:
            attributes.append((name, index))
        elif name.startswith(TEMPLATE_PREFIX):
            template, field = _split_template_header(name, index)
            if field not in IGNORED_TEMPLATE_FIELDS:
                templates.append((index, template, field))
        elif (found := split_keyed_header(name)) is not None:
            keyed.append((index, *found))
        elif name not in IGNORED_COLUMNS:
            raise _unknown_header(header, index)
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            raise MissingCsvHeader(required)
    return CsvLayout(headers, id_index, tuple(attributes), tuple(templates), tuple(keyed))


def canonical_header(header: str) -> str:
    """The column a header names: a template header without spaces around its parts."""
    if not header.startswith(TEMPLATE_PREFIX.rstrip(":")):
        return header
    parts = header.split(":", 2)
    return ":".join(part.strip() for part in parts)


def split_keyed_header(header: str) -> tuple[str, str] | None:
    """(`shopper_attributes` or `admin_attributes`, key) of a keyed column's header, or None."""
    column, dot, key = header.partition(".")
    if dot and column in KEYED_COLUMNS and key:
        return column, key
    return None


def _split_template_header(header: str, index: int) -> tuple[str, str]:
    parts = header.split(":", 2)
    if len(parts) != 3 or not parts[0] == "template" or not parts[1] or not parts[2]:
        raise UnknownCsvHeader(
            header,
            f"csv header {header!r} (column {index + 1}) must look like "
            "template:<templateID-or-slug>:<field>",
        )
    return parts[1], parts[2]


def _unknown_header(header: str, index: int) -> UnknownCsvHeader:
    if not header:
        return UnknownCsvHeader(
            header, f"csv header of column {index + 1} is empty; name it or remove the column"
        )
    return UnknownCsvHeader(header, f"unknown csv header: {header}; expected one of {_EXPECTED}")


def split_tags(cell: str) -> list[str]:
    """A CSV tags cell (`a,b,c`) as the list of tags it holds."""
    return cell.split(TAG_SEPARATOR)


def format_tags(tags: Iterable[str]) -> str:
    return TAG_SEPARATOR.join(tags)


def allow_large_fields(max_chars: int) -> None:
    """Let one CSV field be as large as a whole accepted file.

    The csv module refuses fields over 128 KiB by default; a long description is legitimate.
    The limit is process-wide, so it is only ever raised, never lowered.
    """
    if csv.field_size_limit() < max_chars:
        csv.field_size_limit(max_chars)


def read_csv_records(chunks: Iterable[bytes]) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record with the file line it starts on (the header is line 1).

    The bytes are decoded incrementally, so only a buffer and one record are in memory.
    """
    text = io.TextIOWrapper(
        io.BufferedReader(_ChunkStream(chunks), READ_BUFFER_BYTES), encoding=ENCODING, newline=""
    )
    reader = csv.reader(text)
    line = 0
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if cells:
                yield start, cells
    except UnicodeDecodeError as error:
        raise ImportFileNotUtf8(
            f"the file is not valid UTF-8 (near line {line + 1}); "
            'save it as UTF-8 ("CSV UTF-8" in a spreadsheet)'
        ) from error
    except csv.Error as error:
        raise MalformedCsv(f"line {line + 1}: {error}") from error


class _ChunkStream(io.RawIOBase):
    """A readable stream over an iterable of byte chunks, without joining them."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._current = memoryview(b"")
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while self._offset >= len(self._current):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            if b"\x00" in chunk:
                # Databases refuse NUL in text; a NUL byte is never part of a real CSV file.
                raise MalformedCsv("the file contains a NUL byte; it is not a CSV text file")
            self._current = memoryview(chunk)
            self._offset = 0
        target = memoryview(buffer)
        size = min(len(target), len(self._current) - self._offset)
        target[:size] = self._current[self._offset : self._offset + size]
        self._offset += size
        return size
