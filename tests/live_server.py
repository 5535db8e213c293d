"""The app served by the real HTTP server (uvicorn on h11, the service's protocol) in a thread,
for tests that must speak raw HTTP to it: oversized heads, slow clients, dropped connections."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from pxm_jobs.config import Settings
from pxm_jobs.http_server import server_config
from tests.acceptance.service import free_port

STARTUP_TIMEOUT_SECONDS = 90


@contextmanager
def live_server(app: FastAPI, settings: Settings) -> Iterator[tuple[str, int]]:
    """Serve `app` on a free loopback port; yields (host, port)."""
    port = free_port()
    config = server_config(app, settings.model_copy(update={"host": "127.0.0.1"}), port=port)
    config.log_level = "warning"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield ("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def read_response(connection: socket.socket, timeout: float = 15.0) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout` passes)."""
    connection.settimeout(timeout)
    received = bytearray()
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return bytes(received)
