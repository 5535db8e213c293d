"""A store's integrations: create, read, change and delete them; the caller owns the transaction.

Beside each integration, `integration_observers` holds one row per key it observes while it is
enabled: the rows a job's move looks up to learn whom to tell. Every write here keeps them in
step with the integration, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.integrations.errors import (
    IntegrationNotFound,
    InvalidIntegration,
    TargetRefused,
)
from pxm_jobs.catalog.integrations.targets import Resolver, check_target, resolve_host
from pxm_jobs.catalog.paging import newest_first_page
from pxm_jobs.catalog.text_rules import unstorable_character
from pxm_jobs.job_events import OBSERVABLE_EVENTS
from pxm_jobs.store.tables import integration_deliveries, integration_observers, integrations

WEBHOOK = "webhook"
# Elastic Path's other delivery types; this service posts webhooks only.
OTHER_INTEGRATION_TYPES = ("aws_sqs", "stomp")
NAME_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 4096
SECRET_KEY_MAX_LENGTH = 1024
# The next attempt of every undelivered event of a disabled integration: workers looking for
# events that are due then pass none of them, however many wait; enabling it makes them due.
PAUSED_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class Integration:
    id: str
    store_id: str
    name: str
    description: str | None
    enabled: bool
    integration_type: str
    observes: list[str]
    url: str
    secret_key: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Integration:
        values = {name: row[name] for name in INTEGRATION_COLUMNS}
        values["observes"] = list(values["observes"])
        return cls(**values)


INTEGRATION_COLUMNS = tuple(field.name for field in fields(Integration))


@dataclass(frozen=True)
class TargetPolicy:
    """What the operator lets webhooks reach, and how host names are resolved."""

    allow_private: bool
    resolver: Resolver = resolve_host


def get_integration(
    connection: Connection, store_id: str, integration_id: str
) -> Integration | None:
    row = (
        connection.execute(
            select(integrations).where(
                integrations.c.store_id == store_id, integrations.c.id == integration_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Integration.from_row(row)


def list_integrations(
    connection: Connection, store_id: str, *, limit: int, offset: int
) -> tuple[list[Integration], int]:
    """One page of the store's integrations, newest first, and how many there are."""
    rows, total = newest_first_page(
        connection, integrations, [integrations.c.store_id == store_id], limit=limit, offset=offset
    )
    return [Integration.from_row(row) for row in rows], total


def create_integration(
    connection: Connection,
    store_id: str,
    values: Mapping[str, Any],
    policy: TargetPolicy,
    now: datetime,
) -> Integration:
    """A new integration from the fields given (`name`, `observes` and `configuration.url`
    required); raises InvalidIntegration naming the first field it cannot take."""
    for required in ("name", "observes", "configuration"):
        if values.get(required) is None:
            raise InvalidIntegration(required, "is required")
    fields_ = _checked_fields(values, policy, configuration={})
    row = (
        connection.execute(
            insert(integrations)
            .values(
                {
                    "id": str(uuid.uuid4()),
                    "store_id": store_id,
                    "description": None,
                    "enabled": True,
                    "integration_type": WEBHOOK,
                    "secret_key": None,
                    "created_at": now,
                    "updated_at": now,
                    **fields_,
                }
            )
            .returning(integrations)
        )
        .mappings()
        .one()
    )
    created = Integration.from_row(row)
    _repoint_observers(connection, created)
    return created


def update_integration(
    connection: Connection,
    store_id: str,
    integration_id: str,
    values: Mapping[str, Any],
    policy: TargetPolicy,
    now: datetime,
) -> Integration:
    """The integration with the fields given changed and the others kept; within
    `configuration`, likewise. Raises IntegrationNotFound or InvalidIntegration."""
    current = _lock_integration(connection, store_id, integration_id)
    configuration = {"url": current.url, "secret_key": current.secret_key}
    fields_ = _checked_fields(values, policy, configuration=configuration)
    if not fields_:
        return current
    row = (
        connection.execute(
            update(integrations)
            .where(integrations.c.id == current.id)
            .values(updated_at=now, **fields_)
            .returning(integrations)
        )
        .mappings()
        .one()
    )
    updated = Integration.from_row(row)
    _repoint_observers(connection, updated)
    if updated.enabled != current.enabled:
        _hold_deliveries(connection, updated, now)
    return updated


def delete_integration(connection: Connection, store_id: str, integration_id: str) -> None:
    """Delete the integration, with its undelivered events and its logs."""
    deleted = connection.execute(
        delete(integrations).where(
            integrations.c.store_id == store_id, integrations.c.id == integration_id
        )
    )
    if not deleted.rowcount:
        raise IntegrationNotFound()


def _lock_integration(connection: Connection, store_id: str, integration_id: str) -> Integration:
    row = (
        connection.execute(
            select(integrations)
            .where(integrations.c.store_id == store_id, integrations.c.id == integration_id)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise IntegrationNotFound()
    return Integration.from_row(row)


def _repoint_observers(connection: Connection, integration: Integration) -> None:
    """The integration's observer rows: one per key it observes, none while it is disabled."""
    connection.execute(
        delete(integration_observers).where(
            integration_observers.c.integration_id == integration.id
        )
    )
    if not integration.enabled:
        return
    connection.execute(
        insert(integration_observers),
        [
            {"store_id": integration.store_id, "event": event, "integration_id": integration.id}
            for event in integration.observes
        ],
    )


def _hold_deliveries(connection: Connection, integration: Integration, now: datetime) -> None:
    """Pause the integration's undelivered events while it is disabled; resume them when not."""
    deliveries = integration_deliveries
    pending = (deliveries.c.integration_id == integration.id) & (deliveries.c.state == "pending")
    if integration.enabled:
        held = pending & (deliveries.c.next_attempt_at >= PAUSED_UNTIL)
        connection.execute(update(deliveries).where(held).values(next_attempt_at=now))
    else:
        connection.execute(update(deliveries).where(pending).values(next_attempt_at=PAUSED_UNTIL))


def _checked_fields(
    values: Mapping[str, Any], policy: TargetPolicy, *, configuration: Mapping[str, Any]
) -> dict[str, Any]:
    """The columns to write for the fields given, each checked; `configuration` is what the
    given configuration's keys are merged into."""
    checked: dict[str, Any] = {}
    if "name" in values:
        checked["name"] = _check_text("name", values["name"], NAME_MAX_LENGTH, required=True)
    if "description" in values:
        checked["description"] = _check_text(
            "description", values["description"], DESCRIPTION_MAX_LENGTH, required=False
        )
    if "enabled" in values:
        if not isinstance(values["enabled"], bool):
            raise InvalidIntegration("enabled", "must be true or false")
        checked["enabled"] = values["enabled"]
    if "integration_type" in values:
        checked["integration_type"] = _check_type(values["integration_type"])
    if "observes" in values:
        checked["observes"] = _check_observes(values["observes"])
    if values.get("configuration") is not None:
        merged = {**configuration, **values["configuration"]}
        checked["url"] = _check_url(merged.get("url"), policy)
        checked["secret_key"] = _check_text(
            "configuration.secret_key", merged.get("secret_key"), SECRET_KEY_MAX_LENGTH
        )
    elif "configuration" in values:
        raise InvalidIntegration("configuration", "must be an object with a url")
    return checked


def _check_text(field: str, value: Any, max_length: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidIntegration(field, "must be a non-empty string")
    if len(value) > max_length:
        raise InvalidIntegration(field, f"must be at most {max_length} characters")
    return _storable(field, value)


def _storable(field: str, value: str) -> str:
    what = unstorable_character(value)
    if what is not None:
        raise InvalidIntegration(field, f"must not contain {what}")
    return value


def _check_type(value: Any) -> str:
    if value == WEBHOOK:
        return WEBHOOK
    if value in OTHER_INTEGRATION_TYPES:
        raise InvalidIntegration(
            "integration_type",
            f"{value!r} integrations are not offered by this service; use 'webhook'",
        )
    raise InvalidIntegration("integration_type", f"{value!r} is not a type; use 'webhook'")


def _check_observes(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidIntegration(
            "observes", f"must be a non-empty list of event keys: {', '.join(OBSERVABLE_EVENTS)}"
        )
    unknown = [key for key in value if key not in OBSERVABLE_EVENTS]
    if unknown:
        raise InvalidIntegration(
            "observes",
            f"{unknown[0]!r} is not an event this service sends; observe any of "
            f"{', '.join(OBSERVABLE_EVENTS)}",
        )
    return list(dict.fromkeys(value))


def _check_url(value: Any, policy: TargetPolicy) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidIntegration("configuration.url", "is required: the URL to post events to")
    _storable("configuration.url", value)
    try:
        check_target(value, allow_private=policy.allow_private, resolver=policy.resolver)
    except TargetRefused as refused:
        raise InvalidIntegration("configuration.url", refused.detail) from None
    return value
