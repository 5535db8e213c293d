"""A real webhook receiver on loopback that fails, stalls past the sender's timeout and recovers.

It records every request it is sent (before answering, as a receiver that dedupes by event id
would see it), then answers as its policy says: 2xx, a 5xx, or nothing until long after the
sender gave up.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How long a stalled answer is held back: far past any timeout the tests give the sender.
STALL_SECONDS = 30.0


@dataclass(frozen=True)
class Received:
    number: int  # 1 for the first request the receiver got
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.body["id"])

    @property
    def job_id(self) -> str:
        return str(self.body["payload"]["data"]["id"])


# Given the request's number and body: the status to answer, or None to stall.
Answer = Callable[[int, dict[str, Any]], int | None]


def always(status: int) -> Answer:
    return lambda _number, _body: status


def flaky(
    *, fail_first: int, error_rate: float, stall_rate: float, recover_after: int, seed: int = 5
) -> Answer:
    """Fails the first requests, then fails or stalls some at random, then recovers for good."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def answer(number: int, _body: dict[str, Any]) -> int | None:
        if number <= fail_first:
            return 500
        if number > recover_after:
            return 200
        with lock:
            draw = rng.random()
        if draw < stall_rate:
            return None
        return 503 if draw < stall_rate + error_rate else 200

    return answer


@dataclass
class Receiver:
    url: str
    answer: Answer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def record(self, headers: dict[str, str], body: dict[str, Any]) -> Received:
        with self.lock:
            got = Received(len(self.received) + 1, headers, body)
            self.received.append(got)
            return got

    def first_arrivals(self) -> list[Received]:
        """Each event once, as first received, in the order first received."""
        seen: set[str] = set()
        firsts = []
        with self.lock:
            for got in self.received:
                if got.event_id not in seen:
                    seen.add(got.event_id)
                    firsts.append(got)
        return firsts

    def events_by_job(self) -> dict[str, list[str]]:
        """Each job's event ids, in the order the receiver first saw them."""
        found: dict[str, list[str]] = {}
        for got in self.first_arrivals():
            found.setdefault(got.job_id, []).append(got.event_id)
        return found


@contextmanager
def running_receiver(answer: Answer) -> Iterator[Receiver]:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert receiver is not None
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            got = receiver.record({k.lower(): v for k, v in self.headers.items()}, body)
            status = receiver.answer(got.number, body)
            if status is None:
                receiver.released.wait(STALL_SECONDS)
                status = 200
            payload = b"ok" if status < 300 else b"try again later"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the sender gave up on a stalled answer and hung up

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
