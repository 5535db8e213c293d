"""Rounds: several jobs run in one transaction, which also claims the next, on both databases.

A round must keep each job's promise of a transaction of its own: a job's effects commit with
its `success` and with nothing of a job that did not succeed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text, update

from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.reads import list_job_errors
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import jobs
from tests.factories import make_stores, queue_jobs

NOTE_JOB = "note"


@pytest.fixture
def notes(engine: Engine) -> Engine:
    """A table each `note` job writes a row to, in its own transaction."""
    with write_transaction(engine) as connection:
        connection.execute(text("CREATE TABLE round_notes (job_id VARCHAR(36) PRIMARY KEY)"))
    return engine


class NoteRunner:
    """Writes a note per job; fails the jobs whose input says so. Counts every run."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()

    def __call__(self, context: JobContext, connection: Connection) -> Mapping[str, Any]:
        self.runs[context.job.id] += 1
        connection.execute(
            text("INSERT INTO round_notes (job_id) VALUES (:job_id)"), {"job_id": context.job.id}
        )
        time.sleep(float(context.job.input.get("sleep", 0)))
        if context.job.input.get("fail"):
            raise JobFailed([JobErrorDetail(message="told to fail", code="told")])
        if context.job.input.get("crash"):
            raise RuntimeError("a bug in the runner")
        return {"noted": True}


def make_worker(engine: Engine, settings: Settings, runner: NoteRunner, **options: Any) -> Worker:
    tuned = settings.model_copy(update=options)
    return Worker(engine, tuned, {NOTE_JOB: runner}, concurrency=1, worker_id="round-worker")


def one_job_per_store(engine: Engine, inputs: list[dict[str, Any]]) -> list[Job]:
    stores = make_stores(engine, len(inputs))
    return [
        queue_jobs(engine, store, 1, job_type=NOTE_JOB, payload=payload)[0]
        for store, payload in zip(stores, inputs, strict=True)
    ]


def statuses(engine: Engine) -> dict[str, JobStatus]:
    with read_transaction(engine) as connection:
        rows = connection.execute(select(jobs.c.id, jobs.c.status)).all()
    return {job_id: JobStatus(status) for job_id, status in rows}


def noted(engine: Engine) -> set[str]:
    with read_transaction(engine) as connection:
        return set(connection.execute(text("SELECT job_id FROM round_notes")).scalars())


def test_a_round_runs_its_jobs_in_creation_order_and_claims_the_next(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    [store_a, store_b] = make_stores(engine, 2)
    first_a, second_a = queue_jobs(engine, store_a, 2, job_type=NOTE_JOB)
    [first_b] = queue_jobs(engine, store_b, 1, job_type=NOTE_JOB)

    batch = worker.claim_batch(5)
    assert [job.id for job in batch] == [first_a.id, first_b.id]

    held, quick = worker.run_round(batch, hold=5)
    assert quick
    assert [job.id for job in held] == [second_a.id], "store a's next job, claimed in the round"
    assert held[0].status is JobStatus.STARTED and held[0].worker_id == worker.id
    assert statuses(engine) == {
        first_a.id: JobStatus.SUCCESS,
        first_b.id: JobStatus.SUCCESS,
        second_a.id: JobStatus.STARTED,
    }
    assert noted(engine) == {first_a.id, first_b.id}
    with read_transaction(engine) as connection:
        metas = dict(connection.execute(select(jobs.c.id, jobs.c.meta)).all())
    assert metas[first_a.id] == metas[first_b.id] == {"noted": True}, "each job's own meta"

    held, _ = worker.run_round(held, hold=0)
    assert held == []
    assert set(statuses(engine).values()) == {JobStatus.SUCCESS}


@pytest.mark.parametrize("trouble", ["fail", "crash"])
def test_a_job_that_stops_a_round_fails_alone_and_runs_once(
    notes: Engine, settings: Settings, trouble: str
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    before, troubled, after = one_job_per_store(engine, [{}, {trouble: True}, {}])

    batch = worker.claim_batch(3)
    assert len(batch) == 3
    held, quick = worker.run_round(batch, hold=3)

    assert (held, quick) == ([], False)
    assert statuses(engine) == {
        before.id: JobStatus.SUCCESS,
        troubled.id: JobStatus.FAILED,
        after.id: JobStatus.SUCCESS,
    }
    assert noted(engine) == {before.id, after.id}, "the failed job's write was rolled back"
    # The job before it ran again once the round was rolled back; the failed one did not.
    assert runner.runs == {before.id: 2, troubled.id: 1, after.id: 1}
    with read_transaction(engine) as connection:
        [error], _ = list_job_errors(connection, troubled, limit=10, offset=0)
    expected = "told" if trouble == "fail" else "internal_error"
    assert error.detail.code == expected


def test_a_settled_round_runs_its_stores_next_jobs_chained_in_order(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    [store_a, store_b] = make_stores(engine, 2)
    line_a = queue_jobs(engine, store_a, 4, job_type=NOTE_JOB)
    [only_b] = queue_jobs(engine, store_b, 1, job_type=NOTE_JOB)

    batch = worker.claim_batch(5)
    held, quick = worker.run_round(batch, hold=5, chain=True)

    assert (held, quick) == ([], True), "store a's later jobs ran in the round, not held"
    assert set(statuses(engine).values()) == {JobStatus.SUCCESS}
    assert runner.runs == {job.id: 1 for job in [*line_a, only_b]}
    with read_transaction(engine) as connection:
        rows = connection.execute(
            select(jobs).where(jobs.c.store_id == store_a).order_by(jobs.c.created_at)
        ).all()
    ran = [Job.from_row(row) for row in rows]
    assert [job.id for job in ran] == [job.id for job in line_a]
    for earlier, later in pairwise(ran):
        assert earlier.completed_at is not None and later.started_at is not None
        assert later.started_at >= earlier.completed_at, "one at a time, in creation order"
    assert {(job.attempts, job.worker_id, job.meta["noted"]) for job in ran} == {
        (1, worker.id, True)
    }


def test_a_chained_job_that_fails_sends_the_round_back_to_one_job_at_a_time(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    [store] = make_stores(engine, 1)
    [first] = queue_jobs(engine, store, 1, job_type=NOTE_JOB)
    [troubled] = queue_jobs(engine, store, 1, job_type=NOTE_JOB, payload={"fail": True})
    [last] = queue_jobs(engine, store, 1, job_type=NOTE_JOB)

    held, quick = worker.run_round(worker.claim_batch(1), hold=1, chain=True)

    # Rolled back: the claimed job ran again on its own; the one that failed chained is pending
    # again, to run (and fail) as any other; nothing of the round's transaction is left.
    assert (held, quick) == ([], False)
    assert statuses(engine) == {
        first.id: JobStatus.SUCCESS,
        troubled.id: JobStatus.PENDING,
        last.id: JobStatus.PENDING,
    }
    assert noted(engine) == {first.id}
    held = worker.claim_batch(1)
    assert [job.id for job in held] == [troubled.id]
    worker.run_round(held, hold=1)
    assert statuses(engine)[troubled.id] is JobStatus.FAILED
    with read_transaction(engine) as connection:
        [error], _ = list_job_errors(connection, troubled, limit=10, offset=0)
    assert error.detail.code == "told"


def test_a_slow_chained_job_ends_the_chain_and_the_rest_is_claimed(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    [store_a, store_b] = make_stores(engine, 2)
    [first_a] = queue_jobs(engine, store_a, 1, job_type=NOTE_JOB)
    [first_b] = queue_jobs(engine, store_b, 1, job_type=NOTE_JOB)
    [slow_a] = queue_jobs(engine, store_a, 1, job_type=NOTE_JOB, payload={"sleep": 0.05})
    [second_b] = queue_jobs(engine, store_b, 1, job_type=NOTE_JOB)

    batch = worker.claim_batch(2)
    assert [job.id for job in batch] == [first_a.id, first_b.id]
    held, quick = worker.run_round(batch, hold=2, chain=True)

    assert not quick
    assert [job.id for job in held] == [second_b.id], "taken with the slow one, then claimed"
    assert statuses(engine) == {
        first_a.id: JobStatus.SUCCESS,
        first_b.id: JobStatus.SUCCESS,
        slow_a.id: JobStatus.SUCCESS,
        second_b.id: JobStatus.STARTED,
    }
    assert second_b.id not in runner.runs


def test_a_chained_job_keeps_its_last_progress(notes: Engine, settings: Settings) -> None:
    engine = notes

    def report(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        context.report_progress(3, 4)
        return {}

    worker = Worker(engine, settings, {NOTE_JOB: report}, concurrency=1, worker_id="w")
    [store] = make_stores(engine, 1)
    claimed, chained = queue_jobs(engine, store, 2, job_type=NOTE_JOB)

    held, _ = worker.run_round(worker.claim_batch(1), hold=1, chain=True)

    assert held == []
    with read_transaction(engine) as connection:
        rows = connection.execute(
            select(jobs.c.id, jobs.c.status, jobs.c.progress_processed, jobs.c.progress_total)
        ).all()
    assert {tuple(row) for row in rows} == {
        (claimed.id, JobStatus.SUCCESS.value, 3, 4),
        (chained.id, JobStatus.SUCCESS.value, 3, 4),
    }


def test_a_lost_lease_in_a_round_rolls_back_only_that_job(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    kept, lost = one_job_per_store(engine, [{}, {}])
    batch = worker.claim_batch(2)
    # Another worker took `lost` over, as recovery does after a lease lapsed.
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.id == lost.id).values(worker_id="another", attempts=2)
        )

    held, _ = worker.run_round(batch, hold=0)

    assert held == []
    assert statuses(engine) == {kept.id: JobStatus.SUCCESS, lost.id: JobStatus.STARTED}
    assert noted(engine) == {kept.id}


def test_a_round_running_long_hands_its_unstarted_jobs_to_another_thread(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = make_worker(engine, settings, runner)
    slow, behind = one_job_per_store(engine, [{"sleep": 1.0}, {}])
    batch = worker.claim_batch(2)
    assert [job.id for job in batch] == [slow.id, behind.id]
    handed: list[Job] = []

    def idle_thread() -> None:
        deadline = time.monotonic() + 10
        while (job := worker.round_watch.take_handed()) is None:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        handed.append(job)
        worker.run_round([job], hold=0)

    worker.round_watch.start()
    helper = threading.Thread(target=idle_thread)
    helper.start()
    try:
        held, quick = worker.run_round(batch, hold=0)
    finally:
        helper.join()
        worker.round_watch.stop()

    assert (held, quick) == ([], False), "a job slower than QUICK_JOB_SECONDS makes it slow"
    assert [job.id for job in handed] == [behind.id]
    assert runner.runs == {slow.id: 1, behind.id: 1}
    with read_transaction(engine) as connection:
        ended = dict(connection.execute(select(jobs.c.id, jobs.c.completed_at)).all())
    assert set(statuses(engine).values()) == {JobStatus.SUCCESS}
    if engine.dialect.name == "postgresql":
        # SQLite has one writer at a time: there, the job handed off waits for the round anyway.
        assert ended[behind.id] < ended[slow.id], "the job behind the slow one waited for it"


def test_a_running_worker_drains_many_quick_jobs_in_order(
    notes: Engine, settings: Settings
) -> None:
    engine = notes
    runner = NoteRunner()
    worker = Worker(
        engine,
        settings.model_copy(update={"worker_batch_size": 8}),
        {NOTE_JOB: runner},
        concurrency=3,
    )
    stores = make_stores(engine, 6)
    queued = [job for store in stores for job in queue_jobs(engine, store, 10, job_type=NOTE_JOB)]
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while set(statuses(engine).values()) != {JobStatus.SUCCESS}:
            assert time.monotonic() < deadline, "the queue did not drain"
            time.sleep(0.05)
    finally:
        assert worker.stop(grace_seconds=10)
    assert runner.runs == {job.id: 1 for job in queued}
    with read_transaction(engine) as connection:
        rows = connection.execute(
            select(jobs.c.store_id, jobs.c.started_at, jobs.c.completed_at).order_by(
                jobs.c.store_id, jobs.c.created_at, jobs.c.seq
            )
        ).all()
    for earlier, later in pairwise(rows):
        if earlier.store_id == later.store_id:
            assert later.started_at >= earlier.completed_at, "a store's jobs overlapped"


def test_renewing_leases_warns_only_of_leases_really_lost(
    notes: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = notes
    worker = make_worker(engine, settings, NoteRunner())
    finished, lost = one_job_per_store(engine, [{}, {}])
    batch = worker.claim_batch(2)
    by_id = {job.id: job for job in batch}
    # Caught between its commit and its thread letting go of it: done, but still held.
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.id == finished.id).values(status=JobStatus.SUCCESS)
        )
    # Taken over by another worker after its lease lapsed.
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.id == lost.id).values(worker_id="another", attempts=2)
        )

    with caplog.at_level("WARNING", logger="pxm_jobs.queue.housekeeping"):
        worker.housekeeper.renew_leases()

    warned = [record.getMessage() for record in caplog.records]
    assert warned == [f"job {lost.id}: lease lost; it will not be allowed to finish"]
    assert worker.held.holds(by_id[finished.id])
