"""The request-time check of an uploaded price book file: not empty, and not too large once
inflated, read as a stream (a gzip bomb stops at the limit, never inflated whole).

Whether its gzip stream and its objects are sound is the job's to say, as Elastic Path's job
says it ("error processing gzip file", "invalid json provided"), with each object's position.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from pxm_jobs.catalog.errors import ImportFileEmpty
from pxm_jobs.catalog.gzip_files import GzipUnreadable, inflated, is_gzip
from pxm_jobs.store.blobs import CHUNK_BYTES


@dataclass(frozen=True)
class UploadSummary:
    size: int  # bytes as uploaded
    inflated_size: int | None  # bytes once inflated; None if the gzip stream is damaged
    gzipped: bool


def check_upload(file: BinaryIO, max_bytes: int) -> UploadSummary:
    """Read the file once to its end; ImportFileTooLarge past `max_bytes` (as uploaded or
    inflated), ImportFileEmpty for no bytes. The file is left where it started.
    """
    start = file.tell()
    size = 0
    head = b""

    def chunks() -> Iterator[bytes]:
        nonlocal size, head
        while chunk := file.read(CHUNK_BYTES):
            if not head:
                head = chunk[:2]
            size += len(chunk)
            yield chunk

    inflated_size: int | None = 0
    try:
        for piece in inflated(chunks(), max_bytes):
            inflated_size = (inflated_size or 0) + len(piece)
    except GzipUnreadable:
        inflated_size = None
    finally:
        file.seek(start)
    if size == 0:
        raise ImportFileEmpty("the file is empty; upload a JSONL file of price book objects")
    return UploadSummary(size, inflated_size, is_gzip(head))
