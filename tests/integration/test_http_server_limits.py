"""The HTTP server's own limits, spoken to in raw HTTP over loopback: what a client may send,
how slowly, and what it reads back when it went too far (always the JSON error envelope)."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from tests.live_server import live_server, read_response

HEADER_MAX_BYTES = 8 * 1024
TIMEOUT_SECONDS = 1.0


@pytest.fixture
def small_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "http_header_max_bytes": HEADER_MAX_BYTES,
            "http_header_max_count": 20,
            "http_request_line_max_bytes": 1024,
            "http_header_timeout_seconds": TIMEOUT_SECONDS,
            "http_body_timeout_seconds": TIMEOUT_SECONDS,
            "http_keep_alive_seconds": 1,
            "import_max_bytes": 4096,
            "http_drain_max_bytes": 1024 * 1024,
        }
    )


@pytest.fixture
def app(small_settings: Settings, engine: Engine) -> FastAPI:
    app = create_app(small_settings, engine=engine, run_worker=False)

    def fail() -> None:
        raise RuntimeError("a bug, for the test")

    app.add_api_route("/test-failure", fail)
    return app


@pytest.fixture
def server(app: FastAPI, small_settings: Settings) -> Iterator[tuple[str, int]]:
    with live_server(app, small_settings) as address:
        yield address


def status_and_error(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"application/json" in head.lower(), head
    error: dict[str, object] = json.loads(body)["errors"][0]
    assert error["status"] == str(status) and error["detail"]
    return status, error


def test_an_oversized_header_is_refused_431_without_being_read(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server) as connection:
        connection.sendall(b"GET /pcm/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        piece = b"a" * 65536
        try:
            while sent < 2 * 1024 * 1024:  # far over the limit, and bounded
                connection.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading and closed: what it must do
        raw = read_response(connection)
    # Read whole (the server's former parser), it would have reached the app and got a 401.
    assert status_and_error(raw)[0] == 431


def test_too_many_headers_and_a_long_request_line_are_refused(server: tuple[str, int]) -> None:
    many = "".join(f"X-{n}: {n}\r\n" for n in range(30))
    with socket.create_connection(server) as connection:
        connection.sendall(f"GET /pcm/jobs HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
        assert status_and_error(read_response(connection))[0] == 431
    with socket.create_connection(server) as connection:
        connection.sendall(f"GET /pcm/jobs?q={'a' * 2000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert status_and_error(read_response(connection))[0] == 414


def test_a_malformed_request_gets_the_envelope(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert status_and_error(read_response(connection))[0] == 400


def test_an_unknown_transfer_coding_is_the_clients_to_fix(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as connection:
        connection.sendall(
            b"POST /pcm/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: r\r\n\r\n"
        )
        status, error = status_and_error(read_response(connection))
    assert status == 400
    assert "Transfer-Encoding" in str(error["detail"])


def test_a_head_sent_too_slowly_is_answered_408_and_closed(server: tuple[str, int]) -> None:
    for opening in (b"", b"GET /pcm/jobs HTTP/1.1\r\nHost: x\r\n"):
        with socket.create_connection(server) as connection:
            began = time.monotonic()
            connection.sendall(opening)
            # Drip a byte now and then: each used to restart the server's patience.
            for _ in range(3):
                time.sleep(TIMEOUT_SECONDS / 2)
                try:
                    connection.sendall(b"X")
                except (BrokenPipeError, ConnectionResetError):
                    break
            raw = read_response(connection)
        assert status_and_error(raw)[0] == 408
        assert time.monotonic() - began < 15


def test_a_body_that_stalls_is_cut_off(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as connection:
        connection.sendall(
            b"POST /oauth/access_token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"grant_type="
        )
        raw = read_response(connection)
    assert status_and_error(raw)[0] == 408


def test_an_idle_keep_alive_connection_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as connection:
        connection.sendall(b"GET /pcm/jobs HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_response(connection)  # returns once the server closes the idle connection
    assert raw.startswith(b"HTTP/1.1 401"), raw[:100]


def test_after_a_500_the_client_is_told_to_reconnect(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=15)
    connection.request("GET", "/test-failure")
    failed = connection.getresponse()
    assert failed.status == 500
    assert failed.getheader("Connection") == "close"
    assert json.loads(failed.read())["errors"][0]["status"] == "500"
    # Reusing the connection would meet a reset; told to close, the client opens a new one.
    connection.request("GET", "/pcm/jobs")
    after = connection.getresponse()
    assert after.status == 401
    after.read()
    connection.close()


def test_an_oversized_upload_is_answered_413_to_a_client_that_sends_it_all_first(
    server: tuple[str, int],
) -> None:
    body = (
        b"--b\r\nContent-Disposition: form-data; name=file; filename=f.csv\r\n\r\n"
        + b"x" * 200_000
        + b"\r\n--b--\r\n"
    )
    request = urllib.request.Request(
        f"http://{server[0]}:{server[1]}/pcm/products/import",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=b", "Authorization": "Bearer x"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=15)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["errors"][0]["status"] == "413"
