"""The request-time check of an uploaded import file, fed chunk by chunk as it arrives.

Everything cheap to know before a job is queued is checked here: size, encoding, header and the
number of CSV records. Records are counted with the same `csv` reader the import uses, so a
quoted field spanning lines counts once, exactly as the import will see it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

from pxm_jobs.catalog.errors import (
    ImportFileEmpty,
    ImportFileNotUtf8,
    ImportFileTooLarge,
    MalformedCsv,
    TooManyRows,
)
from pxm_jobs.catalog.products.csv_format import (
    ENCODING,
    allow_large_fields,
    nul_byte_problem,
    parse_header,
)
from pxm_jobs.config import MEGABYTE, Settings


@dataclass(frozen=True)
class ImportFileSummary:
    rows: int  # CSV records, the header included
    columns: list[str]
    size: int  # bytes


class _NeedMoreText(Exception):
    """The reader reached the end of the text received so far in the middle of a record."""


def _need_more_text() -> Iterator[str]:
    raise _NeedMoreText
    yield ""  # pragma: no cover - makes this a generator


class ImportFileChecker:
    """Checks an import file without holding it: `feed` each chunk, then `finish`.

    Raises a `CatalogError` subclass as soon as the file is known to be unacceptable.
    """

    def __init__(self, settings: Settings) -> None:
        self._max_bytes = settings.import_max_bytes
        self._max_rows = settings.import_max_rows
        allow_large_fields(settings.import_max_bytes)
        self._decoder = codecs.getincrementaldecoder(ENCODING)("strict")
        self._size = 0
        self._rows = 0
        self._columns: list[str] | None = None
        # Text after the last line break: not yet a whole line.
        self._partial: list[str] = []
        # Whole lines not yet parsed into complete records.
        self._lines: list[str] = []
        self._unparsed_chars = 0
        # Parsing again only once the unparsed text has doubled keeps a record that spans many
        # chunks (a huge quoted field) from being re-read once per chunk.
        self._parse_after_chars = 0

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._max_bytes:
            raise ImportFileTooLarge(
                f"the file is larger than {_describe_bytes(self._max_bytes)}; "
                "split it into smaller files"
            )
        if b"\x00" in chunk:
            raise MalformedCsv(nul_byte_problem(chunk, first=self._size == len(chunk)))
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise _not_utf8(self._size - len(chunk) + max(error.start, 0)) from error
        self._take_text(text, final=False)

    def finish(self) -> ImportFileSummary:
        try:
            text = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise _not_utf8(self._size) from error
        self._take_text(text, final=True)
        if self._size == 0:
            raise ImportFileEmpty("the file is empty; upload a CSV file with a header row")
        if self._columns is None:
            raise ImportFileEmpty("the file has no header row; the first line must name columns")
        return ImportFileSummary(rows=self._rows, columns=self._columns, size=self._size)

    def _take_text(self, text: str, *, final: bool) -> None:
        # A CRLF split between chunks reads as a line and a blank line: the same records.
        cut = len(text) if final else max(text.rfind("\n"), text.rfind("\r")) + 1
        if not cut and not final:
            # No line ends here; pieces are joined once one does, so a long line costs linear time.
            self._partial.append(text)
            return
        self._partial.append(text[:cut])
        whole = "".join(self._partial)
        self._partial = [text[cut:]]
        # StringIO with newline="" splits lines exactly as the import's TextIOWrapper does.
        self._lines.extend(io.StringIO(whole, newline=""))
        self._unparsed_chars += len(whole)
        if final or self._unparsed_chars >= self._parse_after_chars:
            self._parse_lines(final=final)

    def _parse_lines(self, *, final: bool) -> None:
        lines = self._lines
        source = iter(lines) if final else chain(lines, _need_more_text())
        reader = csv.reader(source)
        parsed_lines = 0
        try:
            for cells in reader:
                parsed_lines = reader.line_num
                if cells:
                    self._take_record(cells)
        except _NeedMoreText:
            pass
        except csv.Error as error:
            raise MalformedCsv(f"record {self._rows + 1}: {error}") from error
        self._lines = lines[parsed_lines:]
        self._unparsed_chars = sum(map(len, self._lines))
        self._parse_after_chars = 2 * self._unparsed_chars

    def _take_record(self, cells: list[str]) -> None:
        self._rows += 1
        if self._columns is None:
            self._columns = list(parse_header(cells).headers)
        elif self._rows > self._max_rows:
            raise TooManyRows(
                f"the file has more than {self._max_rows:,} rows (the header included); "
                "split it into smaller files"
            )


def _not_utf8(offset: int) -> ImportFileNotUtf8:
    return ImportFileNotUtf8(
        f'the file is not valid UTF-8 near byte {offset:,}; save it as UTF-8 ("CSV UTF-8")'
    )


def _describe_bytes(size: int) -> str:
    if size % MEGABYTE == 0:
        return f"{size // MEGABYTE} MB"
    return f"{size:,} bytes"
