"""What keeps the token endpoint from being turned against the service.

Checking a client secret costs a scrypt hash (about 30 ms of a core and 16 MiB), and anybody
may ask for one. So hashes run on a small pool of threads of their own, never on the threads
that serve other requests, with a bounded queue before it; a request beyond that queue is told
to come back (429) at once. Failed exchanges are counted per client id and per caller address
with `limits`' moving windows, and a caller over either limit gets 429 without a hash being
spent on it. Counts live in this process: each API process limits on its own.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from pxm_jobs.api.errors import ApiError
from pxm_jobs.config import Settings

T = TypeVar("T")

TOO_MANY = "Too Many Requests"


class TokenGuard:
    """One API process's hashing pool and failure counts."""

    def __init__(self, settings: Settings) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=settings.token_hash_concurrency, thread_name_prefix="pxm-jobs-hash"
        )
        self._capacity = settings.token_hash_concurrency + settings.token_hash_queue
        self._in_flight = 0  # only touched on the event loop's thread
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_client: RateLimitItem = parse(settings.token_failures_per_client)
        self._per_address: RateLimitItem = parse(settings.token_failures_per_address)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def refuse_if_throttled(self, client_id: str, address: str) -> None:
        """429 with Retry-After if this client id or this address failed too often lately."""
        for item, key, whose in (
            (self._per_client, f"client:{client_id}", "this client_id"),
            (self._per_address, f"address:{address}", "this address"),
        ):
            if not self._limiter.test(item, key):
                wait = self._seconds_until_allowed(item, key)
                raise ApiError(
                    429,
                    f"too many failed token requests for {whose}; try again in {wait} s",
                    title=TOO_MANY,
                    headers={"Retry-After": str(wait)},
                )

    def record_failure(self, client_id: str, address: str) -> None:
        self._limiter.hit(self._per_client, f"client:{client_id}")
        self._limiter.hit(self._per_address, f"address:{address}")

    async def hash(self, work: Callable[[], T]) -> T:
        """Run `work` (a secret check) on the hashing pool; 429 at once if its queue is full."""
        if self._in_flight >= self._capacity:
            raise ApiError(
                429,
                "the service is checking too many client secrets at once; try again in 1 s",
                title=TOO_MANY,
                headers={"Retry-After": "1"},
            )
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            self._in_flight -= 1

    def _seconds_until_allowed(self, item: RateLimitItem, key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))
