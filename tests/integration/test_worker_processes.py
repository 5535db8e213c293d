"""Worker processes killed and paused at random while they drain many stores' lines.

`make stress` runs the same test at a larger scale (PXM_STRESS=1) and prints its counts.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import CancelOutcome, cancel_job, request_cancel
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import job_errors, jobs
from tests.factories import make_stores, queue_jobs
from tests.workload import HOLD_JOB, RECORD_JOB, create_run_log

ROOT = Path(__file__).resolve().parents[2]
STRESS = os.environ.get("PXM_STRESS") == "1"
STORES = 20 if STRESS else 5
JOBS_PER_STORE = 100 if STRESS else 16
WORKERS = 4 if STRESS else 3
FAULTS = 40 if STRESS else 8
# Long enough runs that faults land while jobs are in flight.
MAX_JOB_SECONDS = 0.05 if STRESS else 0.15
LEASE_SECONDS = 1.0
DRAIN_TIMEOUT_SECONDS = 900 if STRESS else 120
# Each store's line also holds jobs that run this long, reporting progress as they go: a
# request to stop one lands while it runs, whichever process runs it.
LONG_JOB_SECONDS = 3.0
LONG_JOBS_PER_STORE = 2


def start_worker(database_url: str, *, lease: float = LEASE_SECONDS) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workload", database_url, "--lease", str(lease)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def unfinished(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        count = connection.execute(
            select(func.count()).where(jobs.c.status.in_([JobStatus.PENDING, JobStatus.STARTED]))
        ).scalar()
    return int(count or 0)


def started_jobs(engine: Engine) -> list[Job]:
    with read_transaction(engine) as connection:
        rows = connection.execute(select(jobs).where(jobs.c.status == JobStatus.STARTED))
        return [Job.from_row(row) for row in rows]


def ask_to_stop(engine: Engine, candidates: list[Job], rng: random.Random | None) -> set[str]:
    """Ask started jobs to stop (each by a coin toss, given `rng`); the ids that were asked."""
    asked = set()
    for job in candidates:
        if rng is None or rng.random() < 0.5:
            with write_transaction(engine) as connection:
                if request_cancel(connection, job, utc_now()) is not None:
                    asked.add(job.id)
    return asked


def queue_line(engine: Engine, store_id: str) -> list[Job]:
    """Short jobs with long ones among them, created a millisecond apart in this order."""
    short = {"max_sleep": MAX_JOB_SECONDS}
    long = {"sleep": LONG_JOB_SECONDS}
    short_per_run = JOBS_PER_STORE // (LONG_JOBS_PER_STORE + 1)
    plan = ([short] * short_per_run + [long]) * LONG_JOBS_PER_STORE
    plan += [short] * (JOBS_PER_STORE - len(plan))
    start = utc_now()
    return [
        job
        for n, payload in enumerate(plan)
        for job in queue_jobs(
            engine,
            store_id,
            1,
            job_type=RECORD_JOB,
            payload=payload,
            start=start + timedelta(milliseconds=n),
        )
    ]


def test_killed_and_paused_workers_lose_no_job_and_break_no_rule(
    engine: Engine, database_url: str
) -> None:
    create_run_log(engine)
    store_ids = make_stores(engine, STORES)
    queued = {store_id: queue_line(engine, store_id) for store_id in store_ids}
    asked_to_stop: set[str] = set()
    workers = [start_worker(database_url) for _ in range(WORKERS)]
    kills = pauses = 0
    rng = random.Random(7)
    cancelled: set[str] = set()
    cancel_attempts = 0
    cancellable = [job for store_jobs in queued.values() for job in store_jobs]
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    try:
        while unfinished(engine) and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 0.4))
            # Cancels race the workers' claims: whichever wins, the job runs or it does not.
            for job in rng.sample(cancellable, 3):
                cancel_attempts += 1
                with write_transaction(engine) as connection:
                    outcome = cancel_job(connection, job.store_id, job.id, utc_now()).outcome
                if outcome is CancelOutcome.CANCELLED:
                    cancelled.add(job.id)
            # Stops race the jobs' ends, kills and pauses: a job stopped writes nothing.
            asked_to_stop |= ask_to_stop(engine, started_jobs(engine), rng)
            victim = rng.randrange(len(workers))
            if rng.random() < 0.7:
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start_worker(database_url)
                kills += 1
            else:
                # Paused past its lease: when it resumes, fencing must refuse its stale work.
                workers[victim].send_signal(signal.SIGSTOP)
                time.sleep(LEASE_SECONDS * 1.5)
                workers[victim].send_signal(signal.SIGCONT)
                pauses += 1
            if kills + pauses >= FAULTS:
                break
        while unfinished(engine) and time.monotonic() < deadline:
            time.sleep(0.2)
            if not asked_to_stop:
                # No fault left to race with: a long job still to run is stopped for certain.
                long_ones = [job for job in started_jobs(engine) if "sleep" in job.input]
                asked_to_stop |= ask_to_stop(engine, long_ones, None)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait()

    assert kills + pauses > 0
    assert unfinished(engine) == 0, "some job never reached a terminal state"
    with read_transaction(engine) as connection:
        runs = connection.execute(
            text("SELECT job_id, store_id, began, ended FROM test_run_log")
        ).all()
        outcomes = dict(connection.execute(select(jobs.c.id, jobs.c.status)).all())
        failure_codes = set(connection.execute(select(job_errors.c.code)).scalars())
    succeeded = {job_id for job_id, status in outcomes.items() if status == JobStatus.SUCCESS}
    assert {run.job_id for run in runs} == succeeded, "effects and success must commit together"
    assert cancelled, "no cancel won a race; the test proved nothing about cancels"
    assert not cancelled & succeeded, "a cancelled job ran"
    ended_cancelled = {
        job_id for job_id, status in outcomes.items() if status == JobStatus.CANCELLED
    }
    stopped = ended_cancelled & asked_to_stop
    assert stopped, "no request to stop a started job landed; the test proved nothing of it"
    assert ended_cancelled == cancelled | stopped, "a job ended cancelled that nobody cancelled"
    assert failure_codes <= {"worker_lost"}
    by_store: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for run in runs:
        by_store[run.store_id].append((run.began, run.ended, run.job_id))
    for store_id, store_runs in by_store.items():
        store_runs.sort()
        for before, after in itertools.pairwise(store_runs):
            assert before[1] <= after[0], "two jobs of one store overlapped"
        order = [job.id for job in queued[store_id] if job.id in succeeded]
        assert [run[2] for run in store_runs] == order, "creation order broken"
    print(
        f"\nstress {engine.dialect.name}: {len(outcomes)} jobs over {STORES} stores, "
        f"{len(succeeded)} succeeded, {len(cancelled)} cancelled in {cancel_attempts} "
        f"cancel races, {len(stopped)} of {len(asked_to_stop)} asked to stop while started "
        f"stopped with nothing written, {kills} workers killed, {pauses} paused past their "
        "lease, violations 0"
    )


HOLD_SECONDS = 600.0  # far past the test: only the database can end the paused transaction
FROZEN_LEASE_SECONDS = 2.0
# After the lease: the recovering worker's next look (a third of a lease), the re-run, slack.
RECOVERY_BOUND_SECONDS = 30.0


def job_status(engine: Engine, job_id: str) -> str:
    with read_transaction(engine) as connection:
        return str(connection.execute(select(jobs.c.status).where(jobs.c.id == job_id)).scalar())


def test_a_worker_paused_mid_write_does_not_block_the_rerun_of_its_job(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """SIGSTOP while the job's transaction holds the row lock its re-run needs."""
    create_run_log(engine)
    ready = tmp_path / "ready"
    (store_id,) = make_stores(engine, 1)
    (job,) = queue_jobs(
        engine,
        store_id,
        1,
        job_type=HOLD_JOB,
        payload={"ready_file": str(ready), "hold_seconds": HOLD_SECONDS},
    )
    frozen = start_worker(database_url, lease=FROZEN_LEASE_SECONDS)
    rescuer: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while not ready.exists():
            assert time.monotonic() < deadline, "the job never started"
            assert frozen.poll() is None, "the worker died"
            time.sleep(0.05)
        frozen.send_signal(signal.SIGSTOP)
        paused_at = time.monotonic()
        rescuer = start_worker(database_url, lease=FROZEN_LEASE_SECONDS)
        if engine.dialect.name == "sqlite":
            # A SQLite writer holds the whole file, and nothing outside its process can end its
            # transaction: the job goes on when the worker does, run once all the same.
            time.sleep(FROZEN_LEASE_SECONDS * 1.5)
            frozen.send_signal(signal.SIGCONT)
            frozen.send_signal(signal.SIGKILL)
            frozen.wait()
        bound = FROZEN_LEASE_SECONDS + RECOVERY_BOUND_SECONDS
        while job_status(engine, job.id) != JobStatus.SUCCESS:
            assert time.monotonic() - paused_at < bound, (
                f"the job is still {job_status(engine, job.id)} {bound:.0f} s after its worker "
                "paused: the re-run waits on the paused transaction's locks"
            )
            time.sleep(0.1)
    finally:
        for process in (frozen, rescuer):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait()
    with read_transaction(engine) as connection:
        logged = connection.execute(text("SELECT count(*) FROM test_run_log")).scalar_one()
    assert logged == 1, "the paused run's effects must not commit beside the re-run's"
