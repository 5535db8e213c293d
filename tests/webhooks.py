"""Webhooks for tests: integrations written through the catalog, and the outbox read back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select

from pxm_jobs.api.integrations.payloads import job_payload_renderer
from pxm_jobs.catalog.integrations.records import (
    Integration,
    TargetPolicy,
    create_integration,
)
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_events import OBSERVABLE_EVENTS
from pxm_jobs.queue.outbox import DeliveryState
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import integration_deliveries, integration_logs
from pxm_jobs.webhooks.courier import Courier
from pxm_jobs.webhooks.sending import new_client

SECRET = "s3cret-squirrel"
LOOPBACK = TargetPolicy(allow_private=True)
DEADLINE_SECONDS = 120.0


def webhook_settings(settings: Settings, **overrides: Any) -> Settings:
    """Settings for deliveries to a receiver on loopback, retried quickly."""
    values: dict[str, Any] = {
        "webhook_allow_private_targets": True,
        "webhook_timeout_seconds": 0.5,
        "webhook_retry_base_seconds": 0.01,
        "webhook_retry_max_seconds": 0.05,
        "webhook_max_attempts": 100,
        "webhook_poll_seconds": 0.05,
        **overrides,
    }
    return settings.model_copy(update=values)


def add_webhook(
    engine: Engine,
    store_id: str,
    url: str,
    observes: Sequence[str] = OBSERVABLE_EVENTS,
    *,
    enabled: bool = True,
    secret: str | None = SECRET,
) -> Integration:
    values: dict[str, Any] = {
        "name": "job events",
        "observes": list(observes),
        "enabled": enabled,
        "configuration": {"url": url, "secret_key": secret},
    }
    with write_transaction(engine) as connection:
        return create_integration(connection, store_id, values, LOOPBACK, utc_now())


def outbox(engine: Engine) -> list[Any]:
    """Every delivery row, in the order the events were written."""
    with read_transaction(engine) as connection:
        return list(
            connection.execute(
                select(integration_deliveries).order_by(integration_deliveries.c.seq)
            )
        )


def logs(engine: Engine) -> list[Any]:
    with read_transaction(engine) as connection:
        return list(connection.execute(select(integration_logs).order_by(integration_logs.c.seq)))


def courier_for(engine: Engine, settings: Settings, **kwargs: Any) -> Courier:
    renderer = job_payload_renderer(settings, b"test-signing-secret", engine)
    return Courier(engine, settings, renderer, **kwargs)


def deliver_until_ended(courier: Courier) -> DeliveryState:
    """Drive one delivery by hand until it is delivered or has failed for good."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with new_client() as client:
        while time.monotonic() < deadline:
            state = courier.deliver_one(client)
            if state in (DeliveryState.DELIVERED, DeliveryState.FAILED):
                return state
            if state is None:
                time.sleep(0.01)  # the next attempt's backoff is still running
    raise AssertionError("the delivery never ended")
