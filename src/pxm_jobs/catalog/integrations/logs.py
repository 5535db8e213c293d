"""What became of an integration's events: its deliveries ("integration jobs") and their logs.

Reads only; the workers write both (`queue.outbox`). Lists are newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from pxm_jobs.store.tables import integration_deliveries, integration_logs


@dataclass(frozen=True)
class DeliverySummary:
    """One event for one integration, and how its delivery stands."""

    id: str
    integration_id: str
    event: str
    state: str
    attempts: int
    job_id: str
    created_at: datetime
    next_attempt_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class DeliveryLog:
    """One attempt to deliver an event, and what the receiver answered."""

    id: str
    integration_id: str
    delivery_id: str
    attempt: int
    succeeded: bool
    status_code: int | None
    body: str | None
    error_detail: str | None
    created_at: datetime


def list_deliveries(
    connection: Connection, store_id: str, integration_id: str, *, limit: int, offset: int
) -> tuple[list[DeliverySummary], int]:
    deliveries = integration_deliveries
    where = (deliveries.c.store_id == store_id, deliveries.c.integration_id == integration_id)
    rows = connection.execute(
        select(deliveries)
        .where(*where)
        .order_by(deliveries.c.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    found = [
        DeliverySummary(
            id=row.id,
            integration_id=row.integration_id,
            event=row.event,
            state=row.state,
            attempts=row.attempts,
            job_id=row.job_id,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            ended_at=row.ended_at,
        )
        for row in rows
    ]
    total = connection.execute(select(func.count()).select_from(deliveries).where(*where))
    return found, total.scalar_one()


def find_delivery_seq(
    connection: Connection, store_id: str, integration_id: str, delivery_id: str
) -> int | None:
    """The row of the integration's delivery with this id; None if it has none."""
    deliveries = integration_deliveries
    seq: int | None = connection.execute(
        select(deliveries.c.seq).where(
            deliveries.c.store_id == store_id,
            deliveries.c.integration_id == integration_id,
            deliveries.c.id == delivery_id,
        )
    ).scalar()
    return seq


def list_logs(
    connection: Connection,
    store_id: str,
    *,
    integration_id: str | None = None,
    delivery_seq: int | None = None,
    limit: int,
    offset: int,
) -> tuple[list[DeliveryLog], int]:
    """One page of the store's delivery logs (of one integration, or of one of its deliveries)."""
    logs = integration_logs
    where: list[Any] = [logs.c.store_id == store_id]
    if integration_id is not None:
        where.append(logs.c.integration_id == integration_id)
    if delivery_seq is not None:
        where.append(logs.c.delivery_seq == delivery_seq)
    rows = connection.execute(
        select(logs, integration_deliveries.c.id.label("delivery_id"))
        .join(integration_deliveries, integration_deliveries.c.seq == logs.c.delivery_seq)
        .where(*where)
        .order_by(logs.c.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    found = [
        DeliveryLog(
            id=row.id,
            integration_id=row.integration_id,
            delivery_id=row.delivery_id,
            attempt=row.attempt,
            succeeded=row.succeeded,
            status_code=row.status_code,
            body=row.body,
            error_detail=row.error_detail,
            created_at=row.created_at,
        )
        for row in rows
    ]
    total = connection.execute(select(func.count()).select_from(logs).where(*where))
    return found, total.scalar_one()
