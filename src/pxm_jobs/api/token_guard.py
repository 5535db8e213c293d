"""What keeps the token endpoint from being turned against the service.

Checking a client secret costs a scrypt hash (about 30 ms of a core and 16 MiB), and anybody
may ask for one. So hashes run on a small pool of threads of their own, never on the threads
that serve other requests, with a bounded queue before it; a request beyond that queue is told
to come back (429) at once. Failed exchanges are counted per client id and per caller address
with `limits`' moving windows, and a caller over either limit gets 429 without a hash being
spent on it. An exchange still running counts against both limits as if it had failed, so a
burst of simultaneous guesses gets no more hashes than the limit allows either. Counts live in
this process: each API process limits on its own.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from pxm_jobs.api.errors import ApiError
from pxm_jobs.config import Settings

T = TypeVar("T")

TOO_MANY = "Too Many Requests"


class TokenGuard:
    """One API process's hashing pool, failure counts and exchanges under way.

    Used from the event loop's thread only; the hashes themselves run on the pool.
    """

    def __init__(self, settings: Settings) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=settings.token_hash_concurrency, thread_name_prefix="pxm-jobs-hash"
        )
        self._capacity = settings.token_hash_concurrency + settings.token_hash_queue
        self._in_flight = 0
        # Exchanges admitted and not yet answered, by limit key: at most `_capacity` hashing
        # ones, so this stays small whatever a flood sends.
        self._under_way: Counter[str] = Counter()
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_client: RateLimitItem = parse(settings.token_failures_per_client)
        self._per_address: RateLimitItem = parse(settings.token_failures_per_address)
        self._refusal_pause_seconds = settings.token_refusal_pause_seconds

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @asynccontextmanager
    async def exchange(self, client_id: str, address: str) -> AsyncIterator[None]:
        """Admit one token exchange, or 429 with Retry-After if this client id or this address
        failed too often lately; while it runs it counts against both."""
        limits = (
            (self._per_client, _client_key(client_id), "this client_id"),
            (self._per_address, _address_key(address), "this address"),
        )
        for item, key, whose in limits:
            wait = self._seconds_throttled(item, key)
            if wait is not None:
                raise ApiError(
                    429, throttled_detail(whose, wait), title=TOO_MANY, headers=retry_after(wait)
                )
        keys = [key for _, key, _ in limits]
        self._under_way.update(keys)
        try:
            yield
        finally:
            self._under_way.subtract(keys)
            for key in keys:
                if self._under_way[key] <= 0:
                    del self._under_way[key]

    def address_throttled(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        return self._seconds_throttled(self._per_address, _address_key(address))

    def record_failure(self, client_id: str, address: str) -> None:
        self._limiter.hit(self._per_client, _client_key(client_id))
        self._limiter.hit(self._per_address, _address_key(address))

    async def hash(self, work: Callable[[], T]) -> T:
        """Run `work` (a secret check) on the hashing pool; 429 at once if its queue is full."""
        if self._in_flight >= self._capacity:
            raise ApiError(
                429,
                "the service is checking too many client secrets at once; try again in 1 s",
                title=TOO_MANY,
                headers=retry_after(1),
            )
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            self._in_flight -= 1

    async def pause_refusal(self, retry_after_seconds: int) -> None:
        """Hold a 429 back for a moment, at most its Retry-After (see `token_throttle`)."""
        await asyncio.sleep(min(retry_after_seconds, self._refusal_pause_seconds))

    def _seconds_throttled(self, item: RateLimitItem, key: str) -> int | None:
        # This request, and those admitted before it and not yet answered, as if all failed.
        if self._limiter.test(item, key, cost=1 + self._under_way[key]):
            return None
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _client_key(client_id: str) -> str:
    return f"client:{client_id}"


def _address_key(address: str) -> str:
    return f"address:{address}"


def throttled_detail(whose: str, wait_seconds: int) -> str:
    return f"too many failed token requests for {whose}; try again in {wait_seconds} s"


def retry_after(wait_seconds: int) -> dict[str, str]:
    return {"Retry-After": str(wait_seconds)}
