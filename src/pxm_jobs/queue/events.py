"""Job events for the store's integrations, written in the transaction of the move they tell of.

Each move of `lifecycle` that an integration can observe makes one call here. The call asks
who in the store observes the event (one probe of `integration_observers`' primary key) and
writes nothing when nobody does; otherwise it writes one outbox row per observer, carrying the
job as the move left it. So an event exists exactly when its move committed, and a store
without webhooks pays that one probe.

The claim and the finish, the two moves every job makes, are the exceptions. On PostgreSQL each
is a single statement that writes its own events (`statements.claim_job`, `finish_job`): the
claim is sent alone in autocommit, and the finish saves every job a round trip. On SQLite they
write them as the other moves do.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Select, bindparam, insert, select

from pxm_jobs.job_events import JobEvent
from pxm_jobs.queue import statements as sql
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.outbox import DeliveryState
from pxm_jobs.store.engine import call_after_commit
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import integration_deliveries, integration_observers

_bells: dict[str, threading.Event] = {}
_bells_lock = threading.Lock()


def courier_bell(engine: Engine) -> threading.Event:
    """What this process's couriers wait on between deliveries: set when events were written.

    Couriers of other processes find the events at their next poll.
    """
    key = engine.url.render_as_string(hide_password=False)
    with _bells_lock:
        return _bells.setdefault(key, threading.Event())


def record_job_event(connection: Connection, job: Job, event: JobEvent, now: datetime) -> None:
    """Write `event` of `job` (as the move left it) for each integration observing it."""
    observers = sql.run(
        connection, find_observers, {"p_store_id": job.store_id, "p_event": event.value}
    ).scalars()
    rows = [_outbox_row(job, integration_id, event, now) for integration_id in observers]
    if not rows:
        return
    connection.execute(statement_for(connection, insert_deliveries), rows)
    _ring_after_commit(connection)


def record_move_events(
    connection: Connection, job: Job, moved: Any, event: JobEvent, now: datetime
) -> None:
    """The events of a claim or a finish: written by the move itself on PostgreSQL, here
    otherwise. `moved` is the row the move returned; on PostgreSQL it counts the events."""
    written = getattr(moved, "events_written", None)
    if written is None:
        record_job_event(connection, job, event, now)
    elif written:
        _ring_after_commit(connection)


def find_observers(dialect: str) -> Select[Any]:
    """The enabled integrations of the store (`p_store_id`) that observe `p_event`."""
    return select(integration_observers.c.integration_id).where(
        integration_observers.c.store_id == bindparam("p_store_id"),
        integration_observers.c.event == bindparam("p_event"),
    )


def insert_deliveries(dialect: str) -> Insert:
    """Outbox rows, one per observer of an event."""
    return insert(integration_deliveries)


def _ring_after_commit(connection: Connection) -> None:
    bell = courier_bell(connection.engine)
    call_after_commit(connection, bell.set)


def _outbox_row(job: Job, integration_id: str, event: JobEvent, now: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "store_id": job.store_id,
        "integration_id": integration_id,
        "event": event.value,
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "job_id": job.id,
        "job_type": job.type,
        "job_status": job.status.value,
        "job_created_at": job.created_at,
        "job_updated_at": job.updated_at,
        "job_started_at": job.started_at,
        "job_completed_at": job.completed_at,
        "job_request_id": job.request_id,
        "job_meta": job.meta,
        "job_progress_processed": job.progress_processed,
        "job_progress_total": job.progress_total,
    }
