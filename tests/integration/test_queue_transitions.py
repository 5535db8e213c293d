"""The queue's invariants, statement by statement, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from pxm_jobs.clock import utc_now
from pxm_jobs.queue.claims import claim_next_job
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.reads import count_jobs_ahead, get_job, list_job_errors
from pxm_jobs.queue.recovery import find_expired_jobs, recover_expired_job
from pxm_jobs.queue.transitions import (
    CancelOutcome,
    LeaseLost,
    cancel_job,
    extend_lease,
    fail_job,
    finish_job,
)
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import jobs
from tests.factories import make_stores, queue_jobs

LEASE_SECONDS = 30.0


def claim(engine: Engine, worker_id: str = "w1", now_offset: float = 0.0) -> Job | None:
    with write_transaction(engine) as connection:
        return claim_next_job(
            connection,
            worker_id=worker_id,
            now=utc_now() + timedelta(seconds=now_offset),
            lease_seconds=LEASE_SECONDS,
        )


def status_of(engine: Engine, job: Job) -> JobStatus:
    with read_transaction(engine) as connection:
        found = get_job(connection, job.store_id, job.id)
    assert found is not None
    return found.status


def test_a_store_runs_its_jobs_one_at_a_time_in_creation_order(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    queued = queue_jobs(engine, store, 3)
    first = claim(engine)
    assert first is not None and first.id == queued[0].id
    assert first.status is JobStatus.STARTED and first.attempts == 1
    assert claim(engine, "w2") is None, "a second job of the same store must not start"
    with write_transaction(engine) as connection:
        finish_job(connection, first, {}, utc_now())
    second = claim(engine, "w2")
    assert second is not None and second.id == queued[1].id


def test_stores_run_in_parallel_and_the_oldest_head_goes_first(engine: Engine) -> None:
    older, newer = make_stores(engine, 2)
    start = utc_now()
    [newer_job] = queue_jobs(engine, newer, 1, start=start + timedelta(seconds=1))
    [older_job] = queue_jobs(engine, older, 1, start=start)
    first, second = claim(engine, "w1"), claim(engine, "w2")
    assert first is not None and second is not None
    assert (first.id, second.id) == (older_job.id, newer_job.id)
    assert claim(engine, "w3") is None


def test_a_claim_takes_the_earliest_created_job_even_when_it_arrived_later(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    start = utc_now()
    [late_arrival] = queue_jobs(engine, store, 1, start=start + timedelta(seconds=5))
    [early_created] = queue_jobs(engine, store, 1, start=start)
    claimed = claim(engine)
    assert claimed is not None and claimed.id == early_created.id
    assert late_arrival.seq < early_created.seq


def test_a_claim_follows_a_line_left_pointing_at_a_job_no_longer_pending(
    engine: Engine,
) -> None:
    # A round that ran a store's next job chained re-points the line when it commits; if a
    # cancel or an enqueue held the line just then, the line still names that job.
    [store] = make_stores(engine, 1)
    ran_chained, waiting = queue_jobs(engine, store, 2)
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.id == ran_chained.id).values(status=JobStatus.SUCCESS)
        )

    claimed = claim(engine)

    assert claimed is not None and claimed.id == waiting.id, "in the same claim, not a later one"


def test_the_database_refuses_a_second_started_job_in_a_store(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    _first, second = queue_jobs(engine, store, 2)
    assert claim(engine) is not None
    with pytest.raises(IntegrityError), write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.seq == second.seq).values(status=JobStatus.STARTED)
        )
    assert status_of(engine, second) is JobStatus.PENDING


def test_cancel_takes_a_pending_job_out_of_the_line(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    first, second, third = queue_jobs(engine, store, 3)
    with write_transaction(engine) as connection:
        result = cancel_job(connection, store, first.id, utc_now())
        assert count_jobs_ahead(connection, third) == 1
    assert result.outcome is CancelOutcome.CANCELLED
    assert result.job is not None and result.job.completed_at is not None
    claimed = claim(engine)
    assert claimed is not None and claimed.id == second.id


def test_cancel_is_idempotent_and_refused_once_started(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    first, second = queue_jobs(engine, store, 2)
    with write_transaction(engine) as connection:
        cancel_job(connection, store, second.id, utc_now())
        again = cancel_job(connection, store, second.id, utc_now())
    assert again.outcome is CancelOutcome.ALREADY_CANCELLED
    assert claim(engine) is not None
    with write_transaction(engine) as connection:
        late = cancel_job(connection, store, first.id, utc_now())
        missing = cancel_job(connection, store, "00000000-0000-0000-0000-000000000000", utc_now())
    assert late.outcome is CancelOutcome.TOO_LATE
    assert late.job is not None and late.job.status is JobStatus.STARTED
    assert missing.outcome is CancelOutcome.NOT_FOUND


def test_a_store_cannot_cancel_another_stores_job(engine: Engine) -> None:
    mine, theirs = make_stores(engine, 2)
    [their_job] = queue_jobs(engine, theirs, 1)
    with write_transaction(engine) as connection:
        result = cancel_job(connection, mine, their_job.id, utc_now())
    assert result.outcome is CancelOutcome.NOT_FOUND
    assert status_of(engine, their_job) is JobStatus.PENDING


def test_terminal_states_never_change(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    started = claim(engine)
    assert started is not None
    with write_transaction(engine) as connection:
        done = finish_job(connection, started, {"rows": 1}, utc_now())
    assert done.status is JobStatus.SUCCESS and done.meta == {"rows": 1}
    with write_transaction(engine) as connection:
        assert fail_job(connection, started, [], {}, utc_now()) is None
        assert cancel_job(connection, store, job.id, utc_now()).outcome is CancelOutcome.TOO_LATE
        assert not extend_lease(connection, started, utc_now(), LEASE_SECONDS)
    with pytest.raises(LeaseLost), write_transaction(engine) as connection:
        finish_job(connection, started, {}, utc_now())
    assert status_of(engine, job) is JobStatus.SUCCESS


def test_an_expired_lease_puts_the_job_back_at_the_head_then_fails_it(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    job, later = queue_jobs(engine, store, 2)
    max_attempts = 3
    for attempt in range(1, max_attempts + 1):
        started = claim(engine, f"worker-{attempt}")
        assert started is not None and started.id == job.id, "the job keeps its place"
        assert started.attempts == attempt
        expired_at = utc_now() + timedelta(seconds=LEASE_SECONDS + 1)
        with read_transaction(engine) as connection:
            assert [found.id for found in find_expired_jobs(connection, expired_at)] == [job.id]
        with write_transaction(engine) as connection:
            outcome = recover_expired_job(connection, started, expired_at, max_attempts)
        expected = JobStatus.PENDING if attempt < max_attempts else JobStatus.FAILED
        assert outcome is expected
    assert status_of(engine, job) is JobStatus.FAILED
    with read_transaction(engine) as connection:
        final = get_job(connection, store, job.id)
        assert final is not None
        errors, total = list_job_errors(connection, final, limit=10, offset=0)
    assert total == 1 and errors[0].detail.code == "worker_lost"
    assert "stopped responding 3 times" in errors[0].detail.message
    after = claim(engine)
    assert after is not None and after.id == later.id


def test_a_worker_that_lost_its_lease_cannot_finish_the_job(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    paused = claim(engine, "paused-worker")
    assert paused is not None
    expired_at = utc_now() + timedelta(seconds=LEASE_SECONDS + 1)
    with write_transaction(engine) as connection:
        recover_expired_job(connection, paused, expired_at, max_attempts=3)
    rerun = claim(engine, "second-worker")
    assert rerun is not None and rerun.id == job.id and rerun.attempts == 2
    # The paused worker wakes up: every move it tries is refused.
    with write_transaction(engine) as connection:
        assert not extend_lease(connection, paused, utc_now(), LEASE_SECONDS)
        assert fail_job(connection, paused, [], {}, utc_now()) is None
    with pytest.raises(LeaseLost), write_transaction(engine) as connection:
        finish_job(connection, paused, {"by": "paused"}, utc_now())
    with write_transaction(engine) as connection:
        done = finish_job(connection, rerun, {"by": "second"}, utc_now())
    assert done.meta == {"by": "second"}


def test_recovery_leaves_a_renewed_lease_alone(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    queue_jobs(engine, store, 1)
    started = claim(engine)
    assert started is not None
    seen_expired_at = utc_now() + timedelta(seconds=LEASE_SECONDS + 1)
    with write_transaction(engine) as connection:
        assert extend_lease(connection, started, seen_expired_at, LEASE_SECONDS), (
            "the worker renews just in time"
        )
        outcome = recover_expired_job(connection, started, seen_expired_at, max_attempts=3)
    assert outcome is None
    assert status_of(engine, started) is JobStatus.STARTED


def test_lines_of_many_stores_stay_consistent(engine: Engine) -> None:
    store_ids = make_stores(engine, 5)
    for store_id in store_ids:
        queue_jobs(engine, store_id, 3)
    claimed: list[Job] = []
    while (job := claim(engine, f"w{len(claimed)}")) is not None:
        claimed.append(job)
        with write_transaction(engine) as connection:
            finish_job(connection, job, {}, utc_now())
    assert len(claimed) == 15
    with read_transaction(engine) as connection:
        statuses = connection.execute(select(jobs.c.status).distinct()).scalars().all()
    assert statuses == [JobStatus.SUCCESS]
