"""Job files (exports, rejected rows): signed links, minted when a job is read, and their route.

The route sits outside `/pcm` because it takes no bearer token: the link's signature is the
permission. Signatures are checked before the database is touched, so an unsigned request
learns nothing, not even whether a file exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from pxm_jobs.api.common_schemas import Responses, error_responses
from pxm_jobs.api.deps import EngineDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.blobs import get_blob, read_blob
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.tenancy.errors import InvalidDownloadLink
from pxm_jobs.tenancy.links import sign_download, verify_download

router = APIRouter(tags=["downloads"])

DOWNLOAD_PREFIX = "downloads"
CSV_MEDIA_TYPE = "text/csv"

DOWNLOAD_RESPONSES: Responses = {
    200: {
        "description": "The file, as an attachment.",
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    **error_responses(403, 404, 413, 500),
}


@dataclass(frozen=True)
class DownloadLinks:
    """Mints links for one request: absolute URLs on the host the caller reached."""

    base_url: str  # ends with "/"
    signing_secret: bytes
    lifetime_seconds: int
    now: datetime

    def url_for(self, file_id: str, name: str) -> str:
        expires = int(self.now.timestamp()) + self.lifetime_seconds
        signature = sign_download(self.signing_secret, file_id, name, expires)
        query = urlencode({"expires": expires, "signature": signature})
        return f"{self.base_url}{DOWNLOAD_PREFIX}/{file_id}/{quote(name)}?{query}"


def read_download_links(request: Request) -> DownloadLinks:
    settings: Settings = request.app.state.settings
    return DownloadLinks(
        base_url=str(request.base_url),
        signing_secret=request.app.state.signing_secret,
        lifetime_seconds=settings.download_link_seconds,
        now=utc_now(),
    )


DownloadLinksDep = Annotated[DownloadLinks, Depends(read_download_links)]


@router.get(
    f"/{DOWNLOAD_PREFIX}/{{file_id}}/{{name}}",
    name="download_file",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
def download_file(
    request: Request,
    file_id: str,
    name: str,
    engine: EngineDep,
    expires: str | None = None,
    signature: str | None = None,
) -> StreamingResponse:
    """An exported file or a file of rejected rows, for whoever holds a live link to it."""
    now = utc_now()
    try:
        verify_download(request.app.state.signing_secret, file_id, name, expires, signature, now)
    except InvalidDownloadLink as error:
        raise ApiError(403, error.detail, title="Forbidden") from None
    with read_transaction(engine) as connection:
        blob = get_blob(connection, file_id)
    if blob is None or blob.name != name or (blob.expires_at and blob.expires_at <= now):
        raise ApiError(
            404,
            "this file was deleted with its job or at the end of its retention period; "
            "export the products again, or retry the import for a new file of rejected rows",
            title="Not Found",
        )
    return StreamingResponse(
        _blob_bytes(engine, blob.id),
        media_type=blob.content_type,
        headers={
            "Content-Disposition": _attachment(blob.name),
            "Content-Length": str(blob.size),
            # The URL carries a credential: keep it and the file out of shared caches.
            "Cache-Control": "private, no-store",
        },
    )


def _blob_bytes(engine: Engine, blob_id: str) -> Iterator[bytes]:
    with read_transaction(engine) as connection:
        yield from read_blob(connection, blob_id)


def _attachment(name: str) -> str:
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
