"""Refusing token requests cheaply, and slowly, so that a flood of them starves nobody.

Under a flood of wrong secrets nearly every request comes from an address already over its
failure limit, and what answering each one costs the event loop is what every other request
waits for. So such a request is refused here, from the connection's address alone: no form
parsed, no route matched, no dependency solved. Limits per client id need the form; the
endpoint checks those.

Every 429 from the token endpoint, from here or from the endpoint, is also held back for a
moment (at most its Retry-After) before it is sent. A client that asks again as soon as it is
answered, as a flood does, then asks a few times a second instead of hundreds; a sleeping
answer costs neither CPU nor a thread.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pxm_jobs.api.errors import envelope_bytes
from pxm_jobs.api.token_guard import TokenGuard, retry_after, throttled_detail

TOKEN_PATH = "/oauth/access_token"
TOO_MANY_REQUESTS = 429


class TokenThrottleMiddleware:
    """For token requests: 429 up front for a throttled address; every 429 sent after a pause."""

    def __init__(self, app: ASGIApp, *, guard: TokenGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or scope["path"] != TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        wait = self.guard.address_throttled(client[0]) if client else None
        if wait is not None:
            await self.guard.pause_refusal(wait)
            # The small form body is left unread: the server skips it before the next request.
            await _send_throttled(send, wait, scope.get("state", {}).get("request_id"))
            return

        async def pausing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == TOO_MANY_REQUESTS:
                await self.guard.pause_refusal(_retry_after_seconds(message))
            await send(message)

        await self.app(scope, receive, pausing_send)


def _retry_after_seconds(message: Message) -> int:
    for name, value in message.get("headers", []):
        if name.lower() == b"retry-after" and value.isdigit():
            return int(value)
    return 1


async def _send_throttled(send: Send, wait: int, request_id: str | None) -> None:
    body = envelope_bytes(TOO_MANY_REQUESTS, throttled_detail("this address", wait), request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in retry_after(wait).items()),
    ]
    await send({"type": "http.response.start", "status": TOO_MANY_REQUESTS, "headers": headers})
    await send({"type": "http.response.body", "body": body})
