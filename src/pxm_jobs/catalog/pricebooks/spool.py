"""Where an import keeps the JSON text of its prices until it writes them: a temporary file.

A price's currencies, sales and custom attributes are most of a large file's bytes; held as
strings, 50,000 of them would double the memory an import needs. What stays in memory is a
small handle per value, and the text is read back, one value at a time, as rows are written.
"""

from __future__ import annotations

import tempfile
from typing import IO

# Bits of a handle that hold the value's length; the rest hold where it starts.
_LENGTH_BITS = 32


class ValueSpool:
    """Append-only storage of texts, each known by the integer handle `put` returns."""

    def __init__(self) -> None:
        # Closed by `close`: the spool lives as long as the import that fills it.
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._end = 0
        self._at_end = True

    def put(self, text: str) -> int:
        data = text.encode()
        if not self._at_end:
            self._file.seek(self._end)
            self._at_end = True
        self._file.write(data)
        handle = self._end << _LENGTH_BITS | len(data)
        self._end += len(data)
        return handle

    def get(self, handle: int) -> str:
        self._file.seek(handle >> _LENGTH_BITS)
        self._at_end = False
        return self._file.read(handle & ((1 << _LENGTH_BITS) - 1)).decode()

    def close(self) -> None:
        self._file.close()
