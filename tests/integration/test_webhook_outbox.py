"""The outbox of job events, one step at a time, on both databases: an event is written exactly
when its move commits, and only for integrations observing it; deliveries fall due in order per
job, after their backoff, once their lease runs out, and never while their integration is off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from pxm_jobs.catalog.integrations.records import PAUSED_UNTIL, update_integration
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_events import JobEvent
from pxm_jobs.queue.lifecycle import (
    finish_job,
    recover_abandoned_job,
    request_cancel,
    stop_job,
)
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.queue.outbox import (
    AttemptOutcome,
    Delivery,
    DeliveryState,
    claim_delivery,
    prune_ended_deliveries,
    record_attempt,
)
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import integration_logs
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import cancel, claim, finish
from tests.webhooks import LOOPBACK, add_webhook, outbox

URL = "http://127.0.0.1:9/hooks"
LEASE_SECONDS = 30.0
FAILED_ATTEMPT = AttemptOutcome(succeeded=False, status_code=503, error_detail="down")
DELIVERED = AttemptOutcome(succeeded=True, status_code=200, body="ok")


def take(engine: Engine, at_seconds: float = 0.0) -> Delivery | None:
    """The delivery due `at_seconds` from now, claimed."""
    with write_transaction(engine) as connection:
        return claim_delivery(connection, utc_now() + timedelta(seconds=at_seconds), LEASE_SECONDS)


def settle(
    engine: Engine, delivery: Delivery, outcome: AttemptOutcome, retry_in: float | None = None
) -> DeliveryState | None:
    now = utc_now()
    retry_at = None if retry_in is None else now + timedelta(seconds=retry_in)
    with write_transaction(engine) as connection:
        return record_attempt(connection, delivery, outcome, now, retry_at=retry_at)


def test_a_store_without_webhooks_writes_no_event(engine: Engine) -> None:
    [store, other] = make_stores(engine, 2)
    add_webhook(engine, other, URL)
    first, second = queue_jobs(engine, store, 2)
    started = claim(engine)
    assert started is not None and started.id == first.id
    finish(engine, started)
    cancel(engine, second)
    assert outbox(engine) == []


def test_each_move_writes_the_events_observed_with_the_job_as_it_left_it(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    everything = add_webhook(engine, store, URL)
    endings = add_webhook(engine, store, URL, [JobEvent.SUCCEEDED, JobEvent.CANCELLED])
    first, second = queue_jobs(engine, store, 2)
    started = claim(engine)
    assert started is not None
    finish(engine, started, {"rows": {"created": 1, "updated": 0}})
    cancel(engine, second)
    rows = outbox(engine)
    written = [(row.integration_id, row.event, row.job_id, row.job_status) for row in rows]
    assert [row.event for row in rows if row.integration_id == everything.id] == [
        "pim-job.started",
        "pim-job.succeeded",
        "pim-job.cancelled",
    ]
    assert sorted(written) == sorted(
        [
            (everything.id, "pim-job.started", first.id, "started"),
            (everything.id, "pim-job.succeeded", first.id, "success"),
            (endings.id, "pim-job.succeeded", first.id, "success"),
            (everything.id, "pim-job.cancelled", second.id, "cancelled"),
            (endings.id, "pim-job.cancelled", second.id, "cancelled"),
        ]
    )
    assert len({row.id for row in rows}) == len(rows), "each delivery has an event id of its own"
    [succeeded] = [row for row in rows if row.integration_id == endings.id][:1]
    assert succeeded.job_meta == {"rows": {"created": 1, "updated": 0}}
    assert succeeded.job_completed_at is not None and succeeded.job_started_at is not None
    assert {row.state for row in rows} == {"pending"}


def test_a_move_rolled_back_leaves_no_event_and_a_lost_worker_given_up_on_tells_of_it(
    engine: Engine,
) -> None:
    [store] = make_stores(engine, 1)
    add_webhook(engine, store, URL, [JobEvent.SUCCEEDED, JobEvent.FAILED])
    queue_jobs(engine, store, 1)
    started = claim(engine)
    assert started is not None
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        finish_job(connection, started, {}, None, utc_now())
        raise RuntimeError("the job's transaction fails after its success was written")
    assert outbox(engine) == []
    with write_transaction(engine) as connection:
        outcome = recover_abandoned_job(connection, started, utc_now(), max_attempts=1)
    assert outcome is JobStatus.FAILED
    assert [(row.event, row.job_status) for row in outbox(engine)] == [("pim-job.failed", "failed")]


def test_a_started_job_that_stops_when_asked_tells_it_was_cancelled(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    add_webhook(engine, store, URL, [JobEvent.CANCELLED])
    stopped, abandoned = queue_jobs(engine, store, 2)
    for job in (stopped, abandoned):
        started = claim(engine)
        assert started is not None and started.id == job.id
        with write_transaction(engine) as connection:
            asked = request_cancel(connection, started, utc_now())
        assert asked is not None and asked.cancelling
        with write_transaction(engine) as connection:
            if job is stopped:
                assert stop_job(connection, asked, None, utc_now())
            else:  # its worker died: recovery cancels it instead of running it again
                outcome = recover_abandoned_job(connection, asked, utc_now(), max_attempts=3)
                assert outcome is JobStatus.CANCELLED
    assert [(row.job_id, row.event, row.job_status) for row in outbox(engine)] == [
        (stopped.id, "pim-job.cancelled", "cancelled"),
        (abandoned.id, "pim-job.cancelled", "cancelled"),
    ]


def test_a_disabled_integration_is_told_nothing_until_enabled_again(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    webhook = add_webhook(engine, store, URL, enabled=False)
    first, second = queue_jobs(engine, store, 2)
    cancel(engine, first)
    with write_transaction(engine) as connection:
        update_integration(connection, store, webhook.id, {"enabled": True}, LOOPBACK, utc_now())
    cancel(engine, second)
    assert [row.job_id for row in outbox(engine)] == [second.id]


def test_a_job_s_events_fall_due_one_after_the_other(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    add_webhook(engine, store, URL)
    first, second = queue_jobs(engine, store, 2)
    started = claim(engine)
    assert started is not None
    finish(engine, started)
    cancel(engine, second)
    taken = take(engine)
    assert taken is not None and (taken.event, taken.job.id) == ("pim-job.started", first.id)
    assert taken.attempt == 1 and taken.receiver.secret_key == "s3cret-squirrel"
    other = take(engine)
    assert other is not None and other.job.id == second.id, "another job's event is not held up"
    assert take(engine) is None, "the first job's success waits for its start to be delivered"
    assert settle(engine, taken, DELIVERED) is DeliveryState.DELIVERED
    after = take(engine)
    assert after is not None and (after.event, after.job.status) == (
        "pim-job.succeeded",
        JobStatus.SUCCESS,
    )


def test_a_failed_attempt_is_due_again_after_its_backoff_and_the_last_one_ends_it(
    engine: Engine,
) -> None:
    [store] = make_stores(engine, 1)
    add_webhook(engine, store, URL)
    queue_jobs(engine, store, 1)
    started = claim(engine)
    assert started is not None
    finish(engine, started)
    taken = take(engine)
    assert taken is not None
    assert settle(engine, taken, FAILED_ATTEMPT, retry_in=60) is DeliveryState.PENDING
    assert take(engine) is None, "not due before its backoff"
    again = take(engine, at_seconds=61)
    assert again is not None and (again.id, again.attempt) == (taken.id, 2)
    assert settle(engine, again, FAILED_ATTEMPT, retry_in=None) is DeliveryState.FAILED
    following = take(engine)
    assert following is not None and following.event == "pim-job.succeeded", (
        "an event that failed for good no longer holds back the job's next one"
    )
    with read_transaction(engine) as connection:
        attempts = connection.execute(
            select(integration_logs.c.attempt, integration_logs.c.succeeded)
            .where(integration_logs.c.delivery_seq == taken.seq)
            .order_by(integration_logs.c.seq)
        ).all()
    assert [tuple(row) for row in attempts] == [(1, False), (2, False)]


def test_an_attempt_whose_lease_ran_out_is_taken_over_and_cannot_settle_it(
    engine: Engine,
) -> None:
    [store] = make_stores(engine, 1)
    add_webhook(engine, store, URL, [JobEvent.CANCELLED])
    [job] = queue_jobs(engine, store, 1)
    cancel(engine, job)
    lost = take(engine)
    assert lost is not None
    assert take(engine, at_seconds=LEASE_SECONDS / 2) is None, "held while its lease runs"
    retaken = take(engine, at_seconds=LEASE_SECONDS + 1)
    assert retaken is not None and (retaken.id, retaken.attempt) == (lost.id, 2)
    assert settle(engine, lost, DELIVERED) is None, "the stale attempt is logged, not settled"
    assert settle(engine, retaken, DELIVERED) is DeliveryState.DELIVERED
    assert [row.state for row in outbox(engine)] == ["delivered"]


def test_deliveries_of_a_disabled_integration_wait_until_it_is_enabled(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    webhook = add_webhook(engine, store, URL, [JobEvent.CANCELLED])
    [job] = queue_jobs(engine, store, 1)
    cancel(engine, job)
    for enabled in (False, True):
        with write_transaction(engine) as connection:
            update_integration(
                connection, store, webhook.id, {"enabled": enabled}, LOOPBACK, utc_now()
            )
        assert (take(engine, at_seconds=3600) is not None) is enabled
        if not enabled:
            [row] = outbox(engine)
            assert row.next_attempt_at == PAUSED_UNTIL, "claims pass over it without a look"


def test_ended_deliveries_are_pruned_with_their_logs_after_their_retention(
    engine: Engine, settings: Settings
) -> None:
    [store] = make_stores(engine, 1)
    add_webhook(engine, store, URL, [JobEvent.CANCELLED])
    ended, waiting = queue_jobs(engine, store, 2)
    cancel(engine, ended)
    cancel(engine, waiting)
    taken = take(engine)
    assert taken is not None
    settle(engine, taken, DELIVERED)
    with write_transaction(engine) as connection:
        assert prune_ended_deliveries(connection, utc_now() - timedelta(days=1)) == 0
        assert prune_ended_deliveries(connection, utc_now() + timedelta(seconds=1)) == 1
    assert [row.job_id for row in outbox(engine)] == [waiting.id]
    with read_transaction(engine) as connection:
        assert connection.execute(select(func.count()).select_from(integration_logs)).scalar() == 0
