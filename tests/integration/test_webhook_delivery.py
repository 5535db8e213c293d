"""Job events posted to a real receiver on loopback that fails, stalls and recovers, on both
databases: every event arrives, each job's in the order they happened, with its secret, its
event id and the job document; attempts are bounded and logged."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.job_events import JobEvent
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.queue.outbox import DeliveryState
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.queue.worker import Worker
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import cancel, claim, reread
from tests.webhook_receiver import always, flaky, running_receiver
from tests.webhooks import (
    SECRET,
    add_webhook,
    courier_for,
    deliver_until_ended,
    logs,
    outbox,
    webhook_settings,
)

DEADLINE_SECONDS = 120.0
TERMINAL_EVENTS = {
    JobStatus.SUCCESS: JobEvent.SUCCEEDED,
    JobStatus.FAILED: JobEvent.FAILED,
    JobStatus.CANCELLED: JobEvent.CANCELLED,
}


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def test_an_event_carries_the_secret_its_id_and_the_job_document(
    engine: Engine, settings: Settings
) -> None:
    quick = webhook_settings(settings)
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    with running_receiver(always(204)) as receiver:
        webhook = add_webhook(engine, store, receiver.url, [JobEvent.STARTED])
        assert claim(engine) is not None
        assert deliver_until_ended(courier_for(engine, quick)) is DeliveryState.DELIVERED
    [got] = receiver.received
    [row] = outbox(engine)
    assert got.headers["x-moltin-secret-key"] == SECRET
    assert got.headers["x-pxm-event-id"] == row.id == got.body["id"]
    assert got.headers["content-type"] == "application/json"
    body = got.body
    assert (body["triggered_by"], body["attempt"], body["store_id"]) == (
        "pim-job.started",
        1,
        store,
    )
    assert body["integration"] == {
        "id": webhook.id,
        "integration_type": "webhook",
        "name": "job events",
        "description": None,
    }
    data = body["payload"]["data"]
    assert (data["type"], data["id"], data["attributes"]["status"]) == (
        "pim-job",
        job.id,
        "started",
    )
    assert (
        data["attributes"]["started_at"] is not None and data["attributes"]["completed_at"] is None
    )
    assert body["resources"].startswith('{"data":{"type":"pim-job"')
    [log] = logs(engine)
    assert (log.attempt, log.succeeded, log.status_code, log.error_detail) == (1, True, 204, None)


def test_attempts_are_bounded_logged_and_a_stalled_receiver_times_out(
    engine: Engine, settings: Settings
) -> None:
    quick = webhook_settings(settings, webhook_max_attempts=3, webhook_timeout_seconds=0.3)
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    answers = iter([500, None, 503])
    with running_receiver(lambda _n, _body: next(answers)) as receiver:
        add_webhook(engine, store, receiver.url, [JobEvent.CANCELLED])
        cancel(engine, job)
        assert deliver_until_ended(courier_for(engine, quick)) is DeliveryState.FAILED
    attempts = [(log.attempt, log.succeeded, log.status_code) for log in logs(engine)]
    assert attempts == [(1, False, 500), (2, False, None), (3, False, 503)]
    details = [log.error_detail for log in logs(engine)]
    assert "did not answer within 0.3 s" in details[1]
    assert details[2] == "the receiver answered 503, not a 2xx status"
    assert logs(engine)[0].body == "try again later"
    assert [row.state for row in outbox(engine)] == ["failed"]
    assert {got.event_id for got in receiver.received} == {outbox(engine)[0].id}


def test_a_target_that_became_private_is_not_posted_to(engine: Engine, settings: Settings) -> None:
    """Checked at delivery too: here the operator no longer allows loopback targets."""
    strict = webhook_settings(settings, webhook_max_attempts=1)
    strict = strict.model_copy(update={"webhook_allow_private_targets": False})
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    with running_receiver(always(200)) as receiver:
        add_webhook(engine, store, receiver.url, [JobEvent.CANCELLED])
        cancel(engine, job)
        assert deliver_until_ended(courier_for(engine, strict)) is DeliveryState.FAILED
    assert receiver.received == []
    [log] = logs(engine)
    assert log.error_detail.startswith("not sent: 127.0.0.1 is a loopback address")


def test_a_name_that_resolves_elsewhere_at_delivery_is_not_posted_to(
    engine: Engine, settings: Settings
) -> None:
    """A DNS change after the URL was checked reaches nothing private."""
    strict = webhook_settings(settings, webhook_max_attempts=1)
    strict = strict.model_copy(update={"webhook_allow_private_targets": False})
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    add_webhook(engine, store, "https://hooks.example.com/jobs", [JobEvent.CANCELLED])
    cancel(engine, job)

    def rebound(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"] if host == "hooks.example.com" else []

    courier = courier_for(engine, strict, resolver=rebound)
    assert deliver_until_ended(courier) is DeliveryState.FAILED
    [log] = logs(engine)
    assert log.error_detail == (
        "not sent: hooks.example.com (it resolves to 10.1.2.3) is a private address; webhooks "
        "may only post to public addresses unless the service's operator sets "
        "PXM_WEBHOOK_ALLOW_PRIVATE_TARGETS=true"
    )


def test_every_event_arrives_in_order_per_job_while_the_receiver_fails_stalls_and_recovers(
    engine: Engine, settings: Settings
) -> None:
    quick = webhook_settings(settings)
    stores = make_stores(engine, 3)
    rng = random.Random(11)
    queued = [job for store in stores for job in queue_jobs(engine, store, 8)]
    failing = {job.id for job in rng.sample(queued, 6)}
    cancelled = {job.id for job in rng.sample([j for j in queued if j.id not in failing], 4)}

    def run(context: JobContext, connection: Connection) -> dict[str, Any]:
        if context.job.id in failing:
            raise JobFailed([JobErrorDetail(message="this one fails", code="test")])
        return {}

    answer = flaky(fail_first=5, error_rate=0.2, stall_rate=0.05, recover_after=80)
    with running_receiver(answer) as receiver:
        for store in stores:
            add_webhook(engine, store, receiver.url)
        for job in queued:
            if job.id in cancelled:
                cancel(engine, job)
        worker = Worker(engine, quick, {"test-job": run}, concurrency=2)
        courier = courier_for(engine, quick, threads=3)
        worker.start()
        courier.start()
        try:
            wait_for(
                lambda: all(reread(engine, job).status.is_terminal for job in queued),
                "every job ended",
            )
            wait_for(
                lambda: {row.state for row in outbox(engine)} == {"delivered"},
                "every event delivered",
            )
        finally:
            worker.stop(grace_seconds=DEADLINE_SECONDS)
            courier.stop()
        arrived = receiver.events_by_job()
        requests = len(receiver.received)

    rows = outbox(engine)
    written: dict[str, list[str]] = {}
    for row in rows:
        written.setdefault(row.job_id, []).append(row.id)
    assert arrived == written, "every event arrived, each job's in the order it was written"
    events = {row.id: row.event for row in rows}
    for job in queued:
        status = reread(engine, job).status
        sequence = [events[event_id] for event_id in written[job.id]]
        if status is JobStatus.CANCELLED:
            assert sequence == ["pim-job.cancelled"]
        else:
            assert sequence == ["pim-job.started", TERMINAL_EVENTS[status].value]
    assert {job.id for job in queued if reread(engine, job).status is JobStatus.FAILED} == failing
    outcomes = Counter(log.succeeded for log in logs(engine))
    assert outcomes[True] == len(rows) and outcomes[False] >= 5, "the failures were logged"
    assert requests > len(rows), "the receiver saw repeats of the events it failed"
