"""The HTTP server: uvicorn on h11, with limits on what and how slowly a client may send.

uvicorn's faster parser (httptools) reads a request's head whatever its size; h11 stops at a
bound, which is what keeps one oversized header from taking the server's memory. On top of it,
each connection has a deadline for its request head and for every pause in its body, so a client
that sends a byte now and then cannot hold a connection for good. Errors the server answers on
its own (a malformed or oversized head, a timeout) carry the JSON error envelope like the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from pxm_jobs.config import Settings

logger = logging.getLogger(__name__)


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for slow clients and JSON errors of its own."""

    header_timeout_seconds: ClassVar[float] = 10.0
    body_timeout_seconds: ClassVar[float] = 30.0
    header_max_bytes: ClassVar[int] = 16 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A client that connects and sends nothing is a head that never comes.
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadlines()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_client()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_client()

    def _watch_client(self) -> None:
        """Set the deadline that fits what the client is sending now."""
        if self.transport.is_closing():
            self._cancel_deadlines()
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._cancel(self._head_deadline)
            self._head_deadline = None
            # Every piece of the body moves the deadline: it bounds a pause, not the upload.
            self._cancel(self._body_deadline)
            self._body_deadline = self.loop.call_later(
                self.body_timeout_seconds, self._body_too_slow
            )
            return
        self._cancel(self._body_deadline)
        self._body_deadline = None
        begun = bool(self.conn.trailing_data[0])
        if state is h11.IDLE and (self.cycle is None or begun):
            # A first request, or the next one begun: uvicorn's keep-alive timer stopped at
            # its first byte, so this deadline takes over.
            self._await_head()
        else:
            self._cancel(self._head_deadline)
            self._head_deadline = None

    def _await_head(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(
                self.header_timeout_seconds, self._head_too_slow
            )

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self._answer_and_close(
            408,
            f"the request's head did not arrive within {self.header_timeout_seconds:g} s; "
            "send the request line and headers at once",
        )

    def _body_too_slow(self) -> None:
        self._body_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
            return
        logger.warning("closing a connection whose request body stalled")
        if self.cycle is not None and not self.cycle.response_started:
            self._answer_and_close(
                408,
                f"the request body paused for more than {self.body_timeout_seconds:g} s; "
                "send it without long pauses",
            )
            return
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        # Called by uvicorn while it handles h11's error, which says what went wrong.
        error = sys.exc_info()[1]
        status = int(getattr(error, "error_status_hint", 400))
        if status >= 500:
            # h11 hints 501 for a transfer coding it does not know: still the client's request
            # to fix, and every answer to bad input is a 4xx.
            status = 400
        if status == 431:
            detail = (
                f"the request line and headers are larger than the {self.header_max_bytes:,} "
                "bytes this server reads; send fewer or shorter headers"
            )
        else:
            detail = f"the request is not valid HTTP/1.1 ({error or msg}); check the client"
        self._cancel_deadlines()
        self._answer_and_close(status, detail)

    def _answer_and_close(self, status: int, detail: str) -> None:
        body = json.dumps(
            {
                "errors": [
                    {"status": str(status), "title": HTTPStatus(status).phrase, "detail": detail}
                ]
            }
        ).encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode("latin-1")
        # Written as they are, past h11, whose state may not allow a response at this point.
        self.transport.write(head + body)
        self.transport.close()

    def _cancel_deadlines(self) -> None:
        self._cancel(self._head_deadline)
        self._cancel(self._body_deadline)
        self._head_deadline = self._body_deadline = None

    @staticmethod
    def _cancel(deadline: asyncio.TimerHandle | None) -> None:
        if deadline is not None:
            deadline.cancel()


def protocol_for(settings: Settings) -> type[LimitedH11Protocol]:
    """The protocol class with this deployment's limits."""
    return type(
        "ConfiguredH11Protocol",
        (LimitedH11Protocol,),
        {
            "header_timeout_seconds": settings.http_header_timeout_seconds,
            "body_timeout_seconds": settings.http_body_timeout_seconds,
            "header_max_bytes": settings.http_header_max_bytes,
        },
    )


def server_config(app: Any, settings: Settings, *, port: int | None = None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port if port is None else port,
        http=protocol_for(settings),
        h11_max_incomplete_event_size=settings.http_header_max_bytes,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        log_level="info",
    )


def serve_http(
    app: Any, settings: Settings, *, on_start: Callable[[uvicorn.Server], None] | None = None
) -> None:
    """Serve `app` until SIGTERM or SIGINT (or until `server.should_exit` is set)."""
    server = uvicorn.Server(server_config(app, settings))
    if on_start is not None:
        on_start(server)
    server.run()
