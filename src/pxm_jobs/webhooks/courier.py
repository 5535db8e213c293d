"""The courier: threads of a worker process that deliver the outbox's job events to webhooks.

Each thread claims one delivery (a transaction of its own), posts it with no transaction open,
then records the attempt and settles the delivery (a second one): delivered on a 2xx answer;
otherwise due again after a delay that doubles with each attempt (with a little jitter, so
receivers that come back are not hit by every retry at once), until the attempts are spent.
Many couriers, in as many processes, share the outbox without waiting on each other.

A courier that dies mid-attempt records nothing; its claim's lease runs out and another
courier delivers the event again, with the same event id. A lease outlasts the longest an
attempt can take (each of its phases is bounded by the timeout), so two couriers do not post
the same event at once but in rare cases (a receiver that trickles its answer).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from pxm_jobs.catalog.integrations.targets import Resolver, resolve_host
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.events import courier_bell
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.outbox import (
    AttemptOutcome,
    Delivery,
    DeliveryState,
    claim_delivery,
    record_attempt,
)
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.webhooks.sending import event_body, new_client, post_event

logger = logging.getLogger(__name__)

# The job document a webhook's payload carries, as the Jobs API renders it.
PayloadRenderer = Callable[[Job], dict[str, Any]]

# An attempt has four phases (connect, send, wait, read), each bounded by the timeout; the
# lease covers them all, and the database work around them.
LEASE_PHASES = 4
LEASE_MARGIN_SECONDS = 5.0
# Each retry's delay is the doubled delay times a factor drawn from this range.
JITTER = (0.8, 1.2)
_JITTER_RANDOM = random.Random()


def retry_delay_seconds(
    attempt: int, settings: Settings, rng: random.Random | None = None
) -> float | None:
    """How long after failed attempt number `attempt` the next one is due; None if none is."""
    if attempt >= settings.webhook_max_attempts:
        return None
    doubled = settings.webhook_retry_base_seconds * 2.0 ** (attempt - 1)
    delay = min(settings.webhook_retry_max_seconds, doubled)
    return delay * (rng or _JITTER_RANDOM).uniform(*JITTER)


def lease_seconds(settings: Settings) -> float:
    return settings.webhook_timeout_seconds * LEASE_PHASES + LEASE_MARGIN_SECONDS


class Courier:
    """Delivers job events in `settings.webhook_delivery_threads` threads until stopped."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        render_payload: PayloadRenderer,
        *,
        resolver: Resolver = resolve_host,
        threads: int | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.render_payload = render_payload
        self.resolver = resolver
        self.thread_count = threads or settings.webhook_delivery_threads
        self.bell = courier_bell(engine)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._deliver, name=f"pxm-jobs-courier-{n}", daemon=True)
            for n in range(self.thread_count)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop after the attempts under way; an unfinished one is delivered again later."""
        self._stopping.set()
        self.bell.set()
        deadline = time.monotonic() + self.settings.webhook_timeout_seconds * LEASE_PHASES
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def deliver_one(self, client: httpx.Client) -> DeliveryState | None:
        """Claim, post and settle one delivery; what it became, or None if none was due."""
        with write_transaction(self.engine) as connection:
            delivery = claim_delivery(connection, utc_now(), lease_seconds(self.settings))
        if delivery is None:
            return None
        outcome = self._attempt(client, delivery)
        now = utc_now()
        delay = None if outcome.succeeded else retry_delay_seconds(delivery.attempt, self.settings)
        retry_at = None if delay is None else now + timedelta(seconds=delay)
        with write_transaction(self.engine) as connection:
            state = record_attempt(connection, delivery, outcome, now, retry_at=retry_at)
        if state is DeliveryState.FAILED:
            logger.warning(
                "event %s (%s of job %s) not delivered after %d attempts: %s",
                delivery.id,
                delivery.event,
                delivery.job.id,
                delivery.attempt,
                outcome.error_detail,
            )
        return state or DeliveryState.PENDING

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> AttemptOutcome:
        try:
            body = event_body(delivery, self.render_payload(delivery.job))
        except Exception:
            # A bug of ours, not the receiver's: log it, and let the retries see if it stays.
            logger.exception("event %s could not be rendered", delivery.id)
            return AttemptOutcome(succeeded=False, error_detail="the event could not be rendered")
        return post_event(
            client,
            delivery,
            body,
            timeout_seconds=self.settings.webhook_timeout_seconds,
            allow_private=self.settings.webhook_allow_private_targets,
            resolver=self.resolver,
        )

    def _deliver(self) -> None:
        with new_client() as client:
            while not self._stopping.is_set():
                # Forget past rings first, so that none arriving during the claim is lost.
                self.bell.clear()
                try:
                    delivered = self.deliver_one(client)
                except DBAPIError as error:
                    logger.warning("webhook delivery: database unavailable (%s)", error.orig)
                    self._stopping.wait(self.settings.webhook_poll_seconds)
                    continue
                if delivered is None:
                    self.bell.wait(self.settings.webhook_poll_seconds)
