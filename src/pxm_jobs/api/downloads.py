"""Job files (exports, rejected rows): signed links, minted when a job is read, and their route.

The route sits outside `/pcm` because it takes no bearer token: the link's signature is the
permission. Signatures are checked before the database is touched, so an unsigned request
learns nothing, not even whether a file exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from pxm_jobs.api.common_schemas import REQUEST_HEAD_ERRORS, Responses, error_responses
from pxm_jobs.api.deps import AdminClaimsDep, EngineDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.public_url import public_base_url
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.blobs import get_blob, read_blob
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.tenancy.errors import InvalidDownloadLink
from pxm_jobs.tenancy.keys import find_active_key
from pxm_jobs.tenancy.links import sign_download, verify_download

router = APIRouter(tags=["downloads"])

DOWNLOAD_PREFIX = "downloads"
CSV_MEDIA_TYPE = "text/csv"

DOWNLOAD_RESPONSES: Responses = {
    200: {
        "description": "The file, as an attachment.",
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    **REQUEST_HEAD_ERRORS,
    **error_responses(403, 404, 413, 500),
}


@dataclass(frozen=True)
class DownloadLinks:
    """Mints links for one request: absolute URLs on the host the caller reached."""

    base_url: str  # ends with "/"
    signing_secret: bytes
    lifetime_seconds: int
    now: datetime
    client_id: str  # the API key of the caller: revoking it ends its links

    def url_for(self, file_id: str, name: str) -> str:
        expires = int(self.now.timestamp()) + self.lifetime_seconds
        signature = sign_download(self.signing_secret, file_id, name, expires, self.client_id)
        query = urlencode({"expires": expires, "client_id": self.client_id, "signature": signature})
        return f"{self.base_url}{DOWNLOAD_PREFIX}/{file_id}/{quote(name)}?{query}"


def read_download_links(request: Request, claims: AdminClaimsDep) -> DownloadLinks:
    settings: Settings = request.app.state.settings
    return DownloadLinks(
        base_url=public_base_url(request),
        signing_secret=request.app.state.signing_secret,
        lifetime_seconds=settings.download_link_seconds,
        now=utc_now(),
        client_id=claims.client_id,
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
    client_id: str | None = None,
) -> StreamingResponse:
    """An exported file or a file of rejected rows, for whoever holds a live link to it.

    The file is read in one snapshot from its first byte to its last: deleting its job (or its
    retention ending) meanwhile does not cut a download short.
    """
    now = utc_now()
    try:
        verify_download(
            request.app.state.signing_secret, file_id, name, expires, signature, now, client_id
        )
    except InvalidDownloadLink as error:
        raise ApiError(403, error.detail, title="Forbidden") from None
    assert client_id is not None
    reading = ExitStack()
    connection = reading.enter_context(read_transaction(engine, snapshot=True))
    try:
        blob = get_blob(connection, file_id)
        if blob is None or blob.name != name or (blob.expires_at and blob.expires_at <= now):
            raise ApiError(
                404,
                "this file was deleted with its job or at the end of its retention period; "
                "export the products again, or retry the import for a new file of rejected rows",
                title="Not Found",
            )
        key = find_active_key(connection, client_id)
        if key is None or key.store_id != blob.store_id:
            raise ApiError(
                403,
                "the API key this link was made for has been revoked; "
                "read the job again with an active key for a fresh link",
                title="Forbidden",
            )
        chunks = read_blob(connection, blob.id, blob.size)
    except BaseException:
        reading.close()
        raise
    return StreamingResponse(
        _until_done(chunks, reading),
        media_type=blob.content_type,
        headers={
            "Content-Disposition": _attachment(blob.name),
            "Content-Length": str(blob.size),
            # The URL carries a credential: keep it and the file out of shared caches.
            "Cache-Control": "private, no-store",
        },
        # Ends the snapshot if the body was never read (the client left before it began).
        background=BackgroundTask(reading.close),
    )


def _until_done(chunks: Iterator[bytes], reading: ExitStack) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        reading.close()


def _attachment(name: str) -> str:
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
