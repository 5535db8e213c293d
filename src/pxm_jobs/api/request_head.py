"""Limits on a request's head that the HTTP server does not set: its line and its header count.

The server bounds the head as a whole (`PXM_HTTP_HEADER_MAX_BYTES`); these say more precisely
what is too long, before any route reads a header.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from pxm_jobs.api.errors import envelope_bytes


class RequestHeadLimitMiddleware:
    """414 for a request line over `line_max_bytes`, 431 for more than `header_max_count`."""

    def __init__(self, app: ASGIApp, *, line_max_bytes: int, header_max_count: int) -> None:
        self.app = app
        self.line_max_bytes = line_max_bytes
        self.header_max_count = header_max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        # "METHOD target HTTP/1.1": the line as the client sent it, give or take the query's "?".
        line = len(scope["method"]) + 1 + target + 1 + len("HTTP/") + len(scope["http_version"])
        status, detail = 0, ""
        if line > self.line_max_bytes:
            status = 414
            detail = (
                f"the request line is {line:,} bytes, over the {self.line_max_bytes:,} allowed; "
                "send long filters in fewer terms"
            )
        elif len(scope["headers"]) > self.header_max_count:
            status = 431
            detail = (
                f"the request has {len(scope['headers'])} headers, over the "
                f"{self.header_max_count} allowed"
            )
        if not status:
            await self.app(scope, receive, send)
            return
        body = envelope_bytes(status, detail, scope.get("state", {}).get("request_id"))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
