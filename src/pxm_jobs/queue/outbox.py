"""The outbox of job events: taking the next delivery that is due, and recording each attempt.

A delivery is one event for one integration (`queue.events` writes them). Workers share them
out by claiming one at a time, in a statement that passes over rows other claims hold
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite writers take turns anyway). A claim counts the
attempt and moves `next_attempt_at` to the end of a lease, so a courier that dies mid-attempt
leaves a row that falls due again when the lease runs out: delivery is at least once.

Only the first undelivered event of an integration and job is ever due, so a job's events
reach each receiver in the order they happened; an event whose attempts are all spent ends
`failed` and no longer holds back the ones after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    delete,
    insert,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.sql.dml import ReturningUpdate

from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import integration_deliveries, integration_logs, integrations
from pxm_jobs.store.types import UtcDateTime

# Deliveries deleted per pruning transaction (their logs go with them).
PRUNE_BATCH = 500


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt, or one is under way
    DELIVERED = "delivered"  # the receiver answered with a 2xx status
    FAILED = "failed"  # every attempt failed; no more are made

    @property
    def constant(self) -> Any:
        """The state as a constant in SQL text, so PostgreSQL's partial indexes apply."""
        return literal_column(f"'{self.value}'", String)


@dataclass(frozen=True)
class Receiver:
    """Where and how an integration wants its events, as it is configured now."""

    integration_id: str
    integration_type: str
    name: str
    description: str | None
    url: str
    secret_key: str | None


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery: the event, this attempt's number, and the job as the event left it."""

    seq: int
    id: str
    event: str
    attempt: int
    created_at: datetime
    job: Job
    receiver: Receiver


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt came to, as its log records it."""

    succeeded: bool
    status_code: int | None = None
    body: str | None = None
    error_detail: str | None = None


def claim_delivery(connection: Connection, now: datetime, lease_seconds: float) -> Delivery | None:
    """The next delivery due, its attempt counted and held for `lease_seconds`; None if none."""
    parameters = {"p_now": now, "p_lease_until": now + timedelta(seconds=lease_seconds)}
    row = connection.execute(statement_for(connection, _claim_delivery), parameters).first()
    if row is None:
        return None
    found = connection.execute(
        select(integrations).where(integrations.c.id == row.integration_id)
    ).first()
    if found is None:  # deleted since: its deliveries went with it
        return None
    receiver = Receiver(
        integration_id=found.id,
        integration_type=found.integration_type,
        name=found.name,
        description=found.description,
        url=found.url,
        secret_key=found.secret_key,
    )
    return Delivery(
        seq=row.seq,
        id=row.id,
        event=row.event,
        attempt=row.attempts,
        created_at=row.created_at,
        job=_job_as_it_was(row),
        receiver=receiver,
    )


def record_attempt(
    connection: Connection,
    delivery: Delivery,
    outcome: AttemptOutcome,
    now: datetime,
    *,
    retry_at: datetime | None,
) -> DeliveryState | None:
    """Log the attempt and settle the delivery: delivered, due again at `retry_at`, or failed.

    A failed attempt with no `retry_at` was the last. None when the attempt's lease ran out and
    another one took the delivery over: that one settles it, and this log still tells of it.
    """
    log = {
        "id": literal(str(uuid.uuid4()), String),
        "delivery_seq": integration_deliveries.c.seq,
        "integration_id": integration_deliveries.c.integration_id,
        "store_id": integration_deliveries.c.store_id,
        "attempt": literal(delivery.attempt, Integer),
        "succeeded": literal(outcome.succeeded, Boolean),
        "status_code": literal(outcome.status_code, Integer),
        "body": literal(outcome.body, Text),
        "error_detail": literal(outcome.error_detail, Text),
        "created_at": literal(now, UtcDateTime),
    }
    # Read from the delivery's row, so that nothing is logged for one deleted meanwhile (its
    # integration was deleted while the attempt was under way).
    connection.execute(
        insert(integration_logs).from_select(
            list(log),
            select(*log.values()).where(integration_deliveries.c.seq == delivery.seq),
        )
    )
    values: dict[str, Any]
    if outcome.succeeded:
        state, values = DeliveryState.DELIVERED, {"ended_at": now}
    elif retry_at is None:
        state, values = DeliveryState.FAILED, {"ended_at": now}
    else:
        state, values = DeliveryState.PENDING, {"next_attempt_at": retry_at}
    settled = connection.execute(
        update(integration_deliveries)
        .where(
            integration_deliveries.c.seq == delivery.seq,
            integration_deliveries.c.state == DeliveryState.PENDING.constant,
            integration_deliveries.c.attempts == delivery.attempt,
        )
        .values(state=state.value, **values)
    )
    return state if settled.rowcount else None


def prune_ended_deliveries(
    connection: Connection, before: datetime, limit: int = PRUNE_BATCH
) -> int:
    """Delete up to `limit` deliveries that ended before `before`, with their logs."""
    oldest = (
        select(integration_deliveries.c.seq)
        .where(
            integration_deliveries.c.ended_at.is_not(None),
            integration_deliveries.c.ended_at < before,
        )
        .order_by(integration_deliveries.c.ended_at)
        .limit(limit)
    )
    deleted = connection.execute(
        delete(integration_deliveries).where(integration_deliveries.c.seq.in_(oldest))
    )
    return int(deleted.rowcount or 0)


def _claim_delivery(dialect: str) -> ReturningUpdate[Any]:
    """The delivery due soonest whose integration is enabled and whose job's earlier events
    have all ended; its attempt counted and `next_attempt_at` moved to the lease's end."""
    pending = DeliveryState.PENDING.constant
    deliveries = integration_deliveries
    earlier = deliveries.alias("earlier")
    waits_behind = (
        select(earlier.c.seq)
        .where(
            earlier.c.integration_id == deliveries.c.integration_id,
            earlier.c.job_id == deliveries.c.job_id,
            earlier.c.state == pending,
            earlier.c.seq < deliveries.c.seq,
        )
        .exists()
    )
    now = bindparam("p_now", type_=deliveries.c.next_attempt_at.type)
    due: Select[Any] = (
        select(deliveries.c.seq)
        .join(integrations, integrations.c.id == deliveries.c.integration_id)
        .where(
            deliveries.c.state == pending,
            deliveries.c.next_attempt_at <= now,
            integrations.c.enabled.is_(true()),
            ~waits_behind,
        )
        .order_by(deliveries.c.next_attempt_at, deliveries.c.seq)
        .limit(literal_column("1", Integer))
        .with_for_update(skip_locked=True, of=deliveries)
    )
    return (
        update(deliveries)
        .where(
            deliveries.c.seq == due.scalar_subquery(),
            deliveries.c.state == pending,
            deliveries.c.next_attempt_at <= now,
        )
        .values(
            attempts=deliveries.c.attempts + 1,
            next_attempt_at=bindparam("p_lease_until", type_=deliveries.c.next_attempt_at.type),
        )
        .returning(*deliveries.c)
    )


def _job_as_it_was(row: Any) -> Job:
    """The job of a delivery's snapshot; what the snapshot does not keep is left empty."""
    return Job(
        seq=0,
        id=row.job_id,
        store_id=row.store_id,
        type=row.job_type,
        status=JobStatus(row.job_status),
        created_at=row.job_created_at,
        updated_at=row.job_updated_at,
        started_at=row.job_started_at,
        completed_at=row.job_completed_at,
        request_id=row.job_request_id,
        input={},
        file_id=None,
        meta=dict(row.job_meta or {}),
        progress_processed=row.job_progress_processed,
        progress_total=row.job_progress_total,
        worker_id=None,
        attempts=0,
    )
