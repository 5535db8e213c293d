"""Files kept for jobs (uploads, exports) as chunked blobs in the database.

Every process of a deployment can read them, which a local disk would not give. The interface is
small so that an object store can stand in later.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Integer,
    LargeBinary,
    bindparam,
    delete,
    insert,
    literal,
    select,
    update,
)

from pxm_jobs.clock import utc_now
from pxm_jobs.store import driver_path
from pxm_jobs.store.tables import blob_chunks, blobs

CHUNK_BYTES = 1024 * 1024
# Blobs deleted per purge transaction: small enough that a purge never holds locks for long.
PURGE_BATCH = 200


# Built once: every upload, export and result file passes through these, and building a
# statement costs more client time than the database spends on a small file's.
_ADD_BLOB = insert(blobs)
_ADD_CHUNK = insert(blob_chunks)
_SET_SIZE = (
    update(blobs).where(blobs.c.id == bindparam("blob_id")).values(size=bindparam("new_size"))
)
_BLOB = select(blobs).where(blobs.c.id == bindparam("blob_id"))
# A blob's row and its one chunk in one statement (PostgreSQL): a round trip less for each
# small file, which is most of them.
_ADDED = (
    insert(blobs)
    .values({column.key: bindparam(column.key, type_=column.type) for column in blobs.c})
    .returning(blobs.c.id)
    .cte("added")
)
_ADD_ONE_CHUNK_BLOB = (
    insert(blob_chunks)
    .from_select(
        ["blob_id", "position", "data"],
        select(_ADDED.c.id, literal(0, Integer), bindparam("data", type_=LargeBinary)),
    )
    .add_cte(_ADDED, nest_here=True)
)
_CHUNK = select(blob_chunks.c.data).where(
    blob_chunks.c.blob_id == bindparam("blob_id"), blob_chunks.c.position == bindparam("position")
)
_BLOB_AND_FIRST_CHUNK = select(
    blobs,
    select(blob_chunks.c.data)
    .where(blob_chunks.c.blob_id == blobs.c.id, blob_chunks.c.position == 0)
    .scalar_subquery()
    .label("first_chunk"),
).where(blobs.c.id == bindparam("blob_id"))


@dataclass(frozen=True)
class BlobInfo:
    id: str
    store_id: str
    name: str
    content_type: str
    size: int
    created_at: datetime
    expires_at: datetime | None


def write_blob(
    connection: Connection,
    *,
    store_id: str,
    name: str,
    content_type: str,
    chunks: Iterable[bytes],
    expires_at: datetime | None = None,
) -> BlobInfo:
    """Store the bytes of `chunks` as one blob; the caller's transaction makes it visible."""
    blob_id = str(uuid.uuid4())
    created_at = utc_now()
    pieces = _rechunk(chunks)
    # Most blobs (a small export, a small upload) are one piece: knowing that before the
    # blob's row is written spares the statement that would set its size afterwards.
    ahead = list(islice(pieces, 2))
    one_piece = len(ahead) < 2
    row = {
        "id": blob_id,
        "store_id": store_id,
        "name": name,
        "content_type": content_type,
        "size": sum(len(piece) for piece in ahead) if one_piece else 0,
        "created_at": created_at,
        "expires_at": expires_at,
    }
    if len(ahead) == 1 and connection.dialect.name == "postgresql":
        driver_path.execute(connection, _ADD_ONE_CHUNK_BLOB, {**row, "data": ahead[0]})
        size = len(ahead[0])
        return BlobInfo(blob_id, store_id, name, content_type, size, created_at, expires_at)
    connection.execute(_ADD_BLOB, row)
    size = 0
    for position, chunk in enumerate(chain(ahead, pieces)):
        connection.execute(_ADD_CHUNK, {"blob_id": blob_id, "position": position, "data": chunk})
        size += len(chunk)
    if not one_piece:
        connection.execute(_SET_SIZE, {"blob_id": blob_id, "new_size": size})
    return BlobInfo(blob_id, store_id, name, content_type, size, created_at, expires_at)


class OpenedBlob(NamedTuple):
    info: BlobInfo
    chunks: Iterator[bytes]  # its bytes, as `read_blob` gives them


def get_blob(connection: Connection, blob_id: str) -> BlobInfo | None:
    row = connection.execute(_BLOB, {"blob_id": blob_id}).first()
    return None if row is None else _info(row)


def open_blob(connection: Connection, blob_id: str) -> OpenedBlob | None:
    """The blob and its bytes, its first chunk read with its row: a job reading a one-chunk
    upload (most are) reads it in one query."""
    row = driver_path.fetch_first(connection, _BLOB_AND_FIRST_CHUNK, {"blob_id": blob_id})
    if row is None:
        return None
    info = _info(row)
    if row.first_chunk is None:
        return OpenedBlob(info, iter(()))
    first = bytes(row.first_chunk)
    rest = _chunks(connection, blob_id, info.size, position=1, received=len(first))
    return OpenedBlob(info, chain([first], rest))


def _info(row: Any) -> BlobInfo:
    return BlobInfo(
        row.id, row.store_id, row.name, row.content_type, row.size, row.created_at, row.expires_at
    )


def read_blob(connection: Connection, blob_id: str, size: int | None = None) -> Iterator[bytes]:
    """The blob's bytes, one chunk in memory at a time.

    Given the blob's `size` (`BlobInfo.size`), reading ends once that many bytes came, without
    asking for a chunk past the last: a one-chunk upload is read in one query.
    """
    return _chunks(connection, blob_id, size, position=0, received=0)


def _chunks(
    connection: Connection, blob_id: str, size: int | None, *, position: int, received: int
) -> Iterator[bytes]:
    while size is None or received < size:
        data = connection.execute(_CHUNK, {"blob_id": blob_id, "position": position}).scalar()
        if data is None:
            return
        received += len(data)
        yield bytes(data)
        position += 1


def keep_blobs_until(
    connection: Connection, blob_ids: Collection[str], expires_at: datetime
) -> int:
    """Give these blobs a new retention end; how many of them were still there."""
    if not blob_ids:
        return 0
    result = connection.execute(
        blobs.update().where(blobs.c.id.in_(list(blob_ids))).values(expires_at=expires_at)
    )
    return result.rowcount


def delete_blobs(connection: Connection, blob_ids: Collection[str]) -> None:
    if blob_ids:
        connection.execute(delete(blob_chunks).where(blob_chunks.c.blob_id.in_(list(blob_ids))))
        connection.execute(delete(blobs).where(blobs.c.id.in_(list(blob_ids))))


def purge_expired_blobs(connection: Connection, now: datetime, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` blobs whose retention ended before `now`; how many went."""
    expired = (
        connection.execute(
            select(blobs.c.id)
            .where(blobs.c.expires_at.is_not(None), blobs.c.expires_at <= now)
            .order_by(blobs.c.expires_at)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    delete_blobs(connection, expired)
    return len(expired)


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Regroup arbitrary pieces into CHUNK_BYTES pieces, so row count stays proportional to size."""
    buffer = bytearray()
    for piece in chunks:
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES])
            del buffer[:CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)
