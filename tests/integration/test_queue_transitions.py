"""The queue's moves and invariants, one statement at a time, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import (
    CancelOutcome,
    LeaseLost,
    cancel_job,
    fail_job,
    finish_job,
    recover_abandoned_job,
    requeue_job,
)
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.reads import count_jobs_ahead, list_job_errors
from pxm_jobs.queue.workers import find_abandoned_jobs, register_worker, touch_worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import job_lines, jobs, workers
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import cancel, claim, finish, reread

LEASE_SECONDS = 30.0


def abandoned(engine: Engine) -> list[str]:
    with read_transaction(engine) as connection:
        return [job.id for job in find_abandoned_jobs(connection, utc_now(), LEASE_SECONDS)]


def silence(engine: Engine, worker_id: str) -> None:
    """As if the worker had not been heard from for longer than the lease."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(workers)
            .where(workers.c.id == worker_id)
            .values(last_seen_at=utc_now() - timedelta(seconds=LEASE_SECONDS + 5))
        )


def line_head(engine: Engine, store_id: str) -> int | None:
    with read_transaction(engine) as connection:
        head: int | None = connection.execute(
            select(job_lines.c.head_seq).where(job_lines.c.store_id == store_id)
        ).scalar_one()
    return head


def test_a_store_runs_its_jobs_one_at_a_time_in_creation_order(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    queued = queue_jobs(engine, store, 3)
    first = claim(engine)
    assert first is not None and first.id == queued[0].id
    assert first.status is JobStatus.STARTED and first.attempts == 1
    assert claim(engine, "w2") is None, "a second job of the same store must not start"
    done = finish(engine, first)
    second = claim(engine, "w2")
    assert second is not None and second.id == queued[1].id
    assert second.started_at is not None and done.completed_at is not None
    assert second.started_at >= done.completed_at, "the next start is recorded after the end"


def test_a_line_points_at_its_started_job_and_then_at_the_next(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    first, second = queue_jobs(engine, store, 2)
    assert line_head(engine, store) == first.seq
    started = claim(engine)
    assert started is not None
    assert line_head(engine, store) == first.seq, "a claim leaves the line as it is"
    finish(engine, started)
    assert line_head(engine, store) == second.seq
    finish(engine, claim(engine) or pytest.fail("the second job was not claimed"))
    assert line_head(engine, store) is None


def test_stores_run_in_parallel_and_the_oldest_front_goes_first(engine: Engine) -> None:
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


def test_an_earlier_job_queued_while_one_runs_waits_for_it(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    start = utc_now()
    [running] = queue_jobs(engine, store, 1, start=start + timedelta(seconds=5))
    assert claim(engine) is not None
    [earlier] = queue_jobs(engine, store, 1, start=start)
    assert claim(engine, "w2") is None, "the store is busy, whatever the new job's time"
    finish(engine, reread(engine, running))
    claimed = claim(engine, "w2")
    assert claimed is not None and claimed.id == earlier.id


def test_the_database_refuses_a_second_started_job_in_a_store(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    _first, second = queue_jobs(engine, store, 2)
    assert claim(engine) is not None
    with pytest.raises(IntegrityError), write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.seq == second.seq).values(status=JobStatus.STARTED)
        )
    assert reread(engine, second).status is JobStatus.PENDING


def test_cancel_takes_a_pending_job_out_of_the_line(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    first, second, third = queue_jobs(engine, store, 3)
    result = cancel(engine, first)
    with read_transaction(engine) as connection:
        assert count_jobs_ahead(connection, third) == 1
    assert result.outcome is CancelOutcome.CANCELLED
    assert result.job is not None and result.job.completed_at is not None
    assert line_head(engine, store) == second.seq
    claimed = claim(engine)
    assert claimed is not None and claimed.id == second.id


def test_cancel_is_idempotent_and_refused_once_started(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    first, second = queue_jobs(engine, store, 2)
    cancel(engine, second)
    assert cancel(engine, second).outcome is CancelOutcome.ALREADY_CANCELLED
    assert claim(engine) is not None
    late = cancel(engine, first)
    with write_transaction(engine) as connection:
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
    assert reread(engine, their_job).status is JobStatus.PENDING


def test_terminal_states_never_change(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    started = claim(engine)
    assert started is not None
    with write_transaction(engine) as connection:
        done = finish_job(connection, started, {"rows": 1}, (1, 1), utc_now())
    assert done.status is JobStatus.SUCCESS and done.meta == {"rows": 1}
    assert (done.progress_processed, done.progress_total) == (1, 1)
    with write_transaction(engine) as connection:
        assert fail_job(connection, started, [], {}, None, utc_now()) is None
        assert cancel_job(connection, store, job.id, utc_now()).outcome is CancelOutcome.TOO_LATE
        assert not requeue_job(connection, started, utc_now(), handed_back=True)
    with pytest.raises(LeaseLost):
        finish(engine, started)
    assert reread(engine, job).status is JobStatus.SUCCESS


def test_a_silent_workers_job_goes_back_to_the_front_then_fails(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    job, later = queue_jobs(engine, store, 2)
    max_attempts = 3
    for attempt in range(1, max_attempts + 1):
        worker_id = f"worker-{attempt}"
        register_worker(engine, worker_id)
        started = claim(engine, worker_id)
        assert started is not None and started.id == job.id, "the job keeps its place"
        assert started.attempts == attempt
        assert abandoned(engine) == [], "a worker heard from keeps its job"
        silence(engine, worker_id)
        assert abandoned(engine) == [job.id]
        with write_transaction(engine) as connection:
            outcome = recover_abandoned_job(connection, started, utc_now(), max_attempts)
        expected = JobStatus.PENDING if attempt < max_attempts else JobStatus.FAILED
        assert outcome is expected
    final = reread(engine, job)
    assert final.status is JobStatus.FAILED
    with read_transaction(engine) as connection:
        errors, total = list_job_errors(connection, final, limit=10, offset=0)
    assert total == 1 and errors[0].detail.code == "worker_lost"
    assert "stopped responding 3 times" in errors[0].detail.message
    after = claim(engine)
    assert after is not None and after.id == later.id


def test_a_worker_without_a_row_is_taken_for_gone(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    assert claim(engine, "never-signed-on") is not None
    assert abandoned(engine) == [job.id]


def test_a_heartbeat_keeps_the_jobs_of_its_worker(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    queue_jobs(engine, store, 1)
    register_worker(engine, "w1")
    assert claim(engine, "w1") is not None
    silence(engine, "w1")
    assert touch_worker(engine, "w1"), "the worker beats just in time"
    assert abandoned(engine) == []


def test_a_worker_whose_job_was_taken_back_cannot_end_it(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    [job] = queue_jobs(engine, store, 1)
    paused = claim(engine, "paused-worker")
    assert paused is not None
    with write_transaction(engine) as connection:
        assert recover_abandoned_job(connection, paused, utc_now(), max_attempts=3)
    rerun = claim(engine, "second-worker")
    assert rerun is not None and rerun.id == job.id and rerun.attempts == 2
    # The paused worker wakes up: every move it tries is refused.
    with write_transaction(engine) as connection:
        assert fail_job(connection, paused, [], {}, None, utc_now()) is None
        assert not requeue_job(connection, paused, utc_now(), handed_back=True)
    with pytest.raises(LeaseLost):
        finish(engine, paused, {"by": "paused"})
    assert finish(engine, rerun, {"by": "second"}).meta == {"by": "second"}


def test_a_job_handed_back_keeps_its_place_and_its_attempts(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    job, _later = queue_jobs(engine, store, 2)
    started = claim(engine, "stopping-worker")
    assert started is not None
    with write_transaction(engine) as connection:
        assert requeue_job(connection, started, utc_now(), handed_back=True)
    back = reread(engine, job)
    assert (back.status, back.attempts, back.worker_id, back.started_at) == (
        JobStatus.PENDING,
        0,
        None,
        None,
    )
    again = claim(engine, "next-worker")
    assert again is not None and again.id == job.id and again.attempts == 1


def test_lines_of_many_stores_stay_consistent(engine: Engine) -> None:
    store_ids = make_stores(engine, 5)
    for store_id in store_ids:
        queue_jobs(engine, store_id, 3)
    claimed: list[Job] = []
    while (job := claim(engine, f"w{len(claimed)}")) is not None:
        claimed.append(job)
        finish(engine, job)
    assert len(claimed) == 15
    with read_transaction(engine) as connection:
        statuses = connection.execute(select(jobs.c.status).distinct()).scalars().all()
        heads = connection.execute(select(job_lines.c.head_seq).distinct()).scalars().all()
    assert statuses == [JobStatus.SUCCESS]
    assert heads == [None]
