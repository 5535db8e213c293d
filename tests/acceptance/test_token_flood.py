"""A flood of wrong credentials at the token endpoint while a store goes about its work.

`make stress` runs it at full size (80 flooding clients) and prints the latency of the
legitimate requests before the flood (the normal time, on the same machine at the same moment)
and during it, and the count of 5xx answers; the normal suite runs a smaller flood and asserts
only that nothing answered 5xx and that the flood was throttled.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.acceptance.conftest import Service
from tests.acceptance.service import CLIENT_ID

STRESS = os.environ.get("PXM_STRESS") == "1"
FLOODERS = 80 if STRESS else 12
FLOOD_SECONDS = 20.0 if STRESS else 4.0
NORMAL_SECONDS = 5.0 if STRESS else 1.0
MAX_REQUESTS_PER_FLOODER = 2000  # bounds the loop whatever the machine's speed
# Each flooder sends at least this many, however slow the machine: together more failures from
# one address than its limit allows, so the flood must meet a 429.
MIN_REQUESTS_PER_FLOODER = 4
GIVE_UP_SECONDS = 120.0


def flood(
    base_url: str, client_id: str, stop: threading.Event, sent_enough: threading.Event
) -> Counter[int]:
    answers: Counter[int] = Counter()
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for sent in range(MAX_REQUESTS_PER_FLOODER):
            if sent >= MIN_REQUESTS_PER_FLOODER:
                sent_enough.set()
                if stop.is_set():
                    break
            response = http.post(
                "/oauth/access_token",
                data={
                    "grant_type": "client_credentials",
                    # Half aim at the real client id, half make theirs up.
                    "client_id": client_id or uuid.uuid4().hex,
                    "client_secret": uuid.uuid4().hex,
                },
            )
            answers[response.status_code] += 1
    return answers


def timed_list(service: Service, latencies: list[float], legitimate: Counter[int]) -> None:
    asked_at = time.monotonic()
    response = service.client.http.get("/pcm/jobs")
    latencies.append(time.monotonic() - asked_at)
    legitimate[response.status_code] += 1


def summary(latencies: list[float]) -> str:
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else latencies[0]
    return (
        f"{len(latencies)} authenticated GET /pcm/jobs, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )


def test_a_token_flood_leaves_authenticated_requests_answering(service: Service) -> None:
    stop = threading.Event()
    normal: list[float] = []
    latencies: list[float] = []
    legitimate: Counter[int] = Counter()
    began = time.monotonic()
    while time.monotonic() - began < NORMAL_SECONDS:
        timed_list(service, normal, legitimate)
    enough = [threading.Event() for _ in range(FLOODERS)]
    with ThreadPoolExecutor(FLOODERS) as pool:
        flooders = [
            pool.submit(flood, service.base_url, CLIENT_ID if n % 2 else "", stop, enough[n])
            for n in range(FLOODERS)
        ]
        flood_began = time.monotonic()
        try:
            while time.monotonic() - flood_began < FLOOD_SECONDS or not all(
                sent.is_set() for sent in enough
            ):
                assert time.monotonic() - flood_began < GIVE_UP_SECONDS, "the flood stalled"
                timed_list(service, latencies, legitimate)
        finally:
            stop.set()
        flood_answers = sum((flooder.result() for flooder in flooders), Counter[int]())
    server_errors = sum(
        count
        for answers in (flood_answers, legitimate)
        for status, count in answers.items()
        if status >= 500
    )
    print(
        f"\ntoken flood ({FLOODERS} clients, {FLOOD_SECONDS:.0f} s): "
        f"{sum(flood_answers.values())} flood requests {dict(flood_answers)}; "
        f"before it {summary(normal)}; during it {summary(latencies)}; 5xx {server_errors}"
    )
    assert server_errors == 0
    assert set(legitimate) == {200}
    assert flood_answers[429] > 0, "the flood was never throttled"
