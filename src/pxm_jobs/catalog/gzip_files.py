"""Reading an uploaded file that may be gzipped: told by its first bytes, never by its name,
and inflated a bounded piece at a time, so a file whose inflated size passes the limit stops
there (a gzip bomb is never inflated whole)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from pxm_jobs.catalog.errors import CatalogError, ImportFileTooLarge

GZIP_MAGIC = b"\x1f\x8b"
# Inflated bytes produced per step: what a gzip bomb can make the reader hold at once.
INFLATE_STEP_BYTES = 256 * 1024


class GzipUnreadable(CatalogError):
    """error processing gzip file"""


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


def inflated(chunks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """The file's bytes, inflated if they start with gzip's magic bytes, whatever its name.

    Raises ImportFileTooLarge once more than `max_bytes` come out, and GzipUnreadable for a
    damaged or truncated gzip stream.
    """
    pieces = iter(chunks)
    head = b""
    for piece in pieces:
        head += piece
        if len(head) >= len(GZIP_MAGIC):
            break
    if not is_gzip(head):
        yield from limited(_prepend(head, pieces), max_bytes, "")
        return
    yield from limited(_gunzip(_prepend(head, pieces)), max_bytes, " once decompressed")


def _prepend(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from rest


def limited(pieces: Iterable[bytes], max_bytes: int, how: str = "") -> Iterator[bytes]:
    """The pieces as they come; ImportFileTooLarge once more than `max_bytes` came."""
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > max_bytes:
            raise ImportFileTooLarge(
                f"the file is larger than {max_bytes:,} bytes{how}; split it into smaller files"
            )
        yield piece


def _gunzip(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Inflate gzip members one after another (as `gzip` does), a bounded step at a time."""
    stream = _gzip_member()
    try:
        for piece in pieces:
            data = piece
            while data:
                if stream.eof:
                    if not data.strip(b"\x00"):
                        break  # zero padding after the last member, which gzip allows
                    if len(data) >= len(GZIP_MAGIC) and not is_gzip(data):
                        raise GzipUnreadable(
                            "error processing gzip file: the bytes after its gzip data are not "
                            "gzip data; compress the file again"
                        )
                    stream = _gzip_member()  # another member follows the one that ended
                out = stream.decompress(data, INFLATE_STEP_BYTES)
                if out:
                    yield out
                data = (
                    stream.unused_data + stream.unconsumed_tail
                    if stream.eof
                    else (stream.unconsumed_tail)
                )
        while not stream.eof and (out := stream.decompress(b"", INFLATE_STEP_BYTES)):
            yield out
    except zlib.error as error:
        raise GzipUnreadable(
            f"error processing gzip file: {error}; check that it is a whole gzip file"
        ) from error
    if not stream.eof:
        raise GzipUnreadable(
            "error processing gzip file: it ends before its gzip data does; upload it whole"
        )


def _gzip_member() -> Any:
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
