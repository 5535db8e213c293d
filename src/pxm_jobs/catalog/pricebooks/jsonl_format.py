"""Reading a price book import file: JSON objects one after another, optionally gzipped.

Elastic Path calls the format JSONL, yet its own example file holds pretty-printed objects
separated by blank lines, so objects are read as a stream of JSON values, whatever whitespace
lies between and inside them; one object per line is the special case. Nothing is held whole:
bytes are inflated a bounded piece at a time (`catalog.gzip_files`), decoded incrementally,
and each object is parsed by the C decoder as soon as its text has arrived.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pxm_jobs.catalog.errors import CatalogError

# An object whose text runs on this long is unreadable (an unclosed string or brace, most
# likely): the reader stops rather than hold the rest of the file waiting for its end.
OBJECT_MAX_CHARS = 1024 * 1024
# Far enough past an error for more text not to mend it (`-Infinity` and `\uXXXX` are shorter).
_DEFINITE_AFTER_CHARS = 16
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class InvalidJsonObject(CatalogError):
    """error processing object: invalid json provided"""

    def __init__(self, ordinal: int, reason: str) -> None:
        self.ordinal = ordinal
        super().__init__(f"error processing object {ordinal}: invalid json provided ({reason})")


def read_objects(chunks: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """Each JSON value of UTF-8 bytes with its ordinal (1 for the first).

    Raises InvalidJsonObject at the first value that cannot be read, naming its ordinal and
    where in the file the problem is: nothing after it can be told apart from it.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    decode = json.JSONDecoder().raw_decode
    skip_whitespace = _WHITESPACE.match
    buffer = ""
    lines_before = 0  # line breaks in the text before `buffer`
    bytes_read = 0
    ordinal = 0
    retry_at = 0  # parse again once the buffer is this long: a split object waits for its end
    chunk_iterator = iter(chunks)
    final = False
    while not final:
        chunk = next(chunk_iterator, None)
        final = chunk is None
        try:
            text = decoder.decode(chunk or b"", final=final)
        except UnicodeDecodeError as error:
            offset = bytes_read + max(error.start, 0)
            reason = f"the file is not UTF-8 text near byte {offset:,}; save it as UTF-8"
            raise InvalidJsonObject(ordinal + 1, reason) from error
        bytes_read += len(chunk or b"")
        buffer += text
        if not final and len(buffer) < retry_at:
            continue
        position = 0
        while True:
            gap = skip_whitespace(buffer, position)
            assert gap is not None  # the pattern matches the empty text too
            position = gap.end()
            if position == len(buffer):
                break
            try:
                value, end = decode(buffer, position)
            except json.JSONDecodeError as error:
                if final or _cannot_be_mended(error, buffer):
                    line = lines_before + buffer.count("\n", 0, error.pos) + 1
                    column = error.pos - buffer.rfind("\n", 0, error.pos)
                    reason = f"{error.msg.removesuffix(' at')} at line {line}, column {column}"
                    raise InvalidJsonObject(ordinal + 1, reason) from error
                if len(buffer) - position > OBJECT_MAX_CHARS:
                    reason = (
                        f"it does not end within {OBJECT_MAX_CHARS:,} characters; look for an "
                        "unclosed string or brace"
                    )
                    raise InvalidJsonObject(ordinal + 1, reason) from error
                retry_at = len(buffer) + (len(buffer) - position)
                break
            except RecursionError as error:
                raise InvalidJsonObject(ordinal + 1, "it is nested too deeply") from error
            except ValueError as error:  # an integer of more digits than Python reads
                raise InvalidJsonObject(ordinal + 1, str(error)) from error
            ordinal += 1
            yield ordinal, value
            position = end
        lines_before += buffer.count("\n", 0, position)
        buffer = buffer[position:]


def _cannot_be_mended(error: json.JSONDecodeError, buffer: str) -> bool:
    """Whether the error stands whatever text follows (else the object may just be unfinished)."""
    if error.msg.startswith("Unterminated string"):
        return False
    if error.msg.startswith("Invalid control character"):
        return True
    return len(buffer) - error.pos >= _DEFINITE_AFTER_CHARS
