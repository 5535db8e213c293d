"""Refusing request bodies over the limits of the contract before they are read in full."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pxm_jobs.api.errors import envelope_bytes

# Multipart framing around an uploaded file: boundaries and part headers.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    """The request body is larger than this endpoint accepts.

    An HTTP exception, so that the framework renders it as a 413 wherever reading stops.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


class BodyLimitMiddleware:
    """413 for bodies over the limit: by `Content-Length` up front, or by counting as they stream.

    Multipart uploads may be as large as an import file; every other body as large as a JSON one.
    """

    def __init__(
        self, app: ASGIApp, *, json_max_bytes: int, upload_max_bytes: int, drain_max_bytes: int
    ) -> None:
        self.app = app
        self.json_max_bytes = json_max_bytes
        self.upload_max_bytes = upload_max_bytes + MULTIPART_OVERHEAD_BYTES
        self.drain_max_bytes = drain_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        is_upload = content_type.startswith("multipart/form-data")
        limit = self.upload_max_bytes if is_upload else self.json_max_bytes
        what = "an upload" if is_upload else "a JSON body"
        detail = f"the request body is larger than the {limit:,} bytes allowed for {what}"
        request_id = scope.get("state", {}).get("request_id")
        # A client that waits for "100 Continue" before sending has sent nothing to drain.
        drain = (
            self.drain_max_bytes if headers.get(b"expect", b"").lower() != b"100-continue" else 0
        )
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= drain:
                await _drain(receive, drain)
            await _send_too_large(send, detail, request_id)
            return

        received = 0
        body_done = False
        over_limit = False

        async def counting_receive() -> Message:
            nonlocal received, body_done, over_limit
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > limit:
                    over_limit = True
                    raise BodyTooLarge(detail)
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and over_limit:
                # Read what the client is still sending, so that it gets to read this answer
                # instead of a reset connection; then close, as the rest was not read.
                if not body_done:
                    await _drain(receive, drain)
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except BodyTooLarge:
            if not body_done:
                await _drain(receive, drain)
            await _send_too_large(send, detail, request_id)


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of a request body, up to `budget` bytes."""
    drained = 0
    while drained <= budget:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _send_too_large(send: Send, detail: str, request_id: str | None) -> None:
    body = envelope_bytes(413, detail, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if request_id:
        headers.append((b"x-request-id", request_id.encode()))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
