"""Many threads claiming, finishing and cancelling at once: the invariants still hold."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import CancelOutcome, cancel_job
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import jobs
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import claim, finish

THREADS = 6
STORES = 4
JOBS_PER_STORE = 25


@dataclass(frozen=True)
class Run:
    job: Job
    began: float
    ended: float


def test_threads_never_overlap_a_store_and_keep_creation_order(engine: Engine) -> None:
    store_ids = make_stores(engine, STORES)
    queued = {store_id: queue_jobs(engine, store_id, JOBS_PER_STORE) for store_id in store_ids}
    runs: list[Run] = []
    runs_lock = threading.Lock()
    cancelled: set[str] = set()
    problems: list[BaseException] = []
    start_together = threading.Barrier(THREADS + 1)

    def work(worker_id: str) -> None:
        start_together.wait()
        try:
            while True:
                job = claim(engine, worker_id)
                if job is None:
                    with read_transaction(engine) as connection:
                        left = connection.execute(
                            select(func.count()).where(jobs.c.status == JobStatus.PENDING)
                        ).scalar()
                    if not left:
                        return
                    continue
                began = time.monotonic()
                time.sleep(random.uniform(0, 0.002))
                ended = time.monotonic()
                finish(engine, job)
                with runs_lock:
                    runs.append(Run(job, began, ended))
        except BaseException as error:
            problems.append(error)

    def cancel_some() -> None:
        start_together.wait()
        try:
            candidates = [job for store_jobs in queued.values() for job in store_jobs[1:]]
            for job in random.sample(candidates, len(candidates) // 4):
                with write_transaction(engine) as connection:
                    result = cancel_job(connection, job.store_id, job.id, utc_now())
                if result.outcome is CancelOutcome.CANCELLED:
                    cancelled.add(job.id)
        except BaseException as error:
            problems.append(error)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(THREADS - 1)]
    threads.append(threading.Thread(target=cancel_some))
    for thread in threads:
        thread.start()
    start_together.wait()
    for thread in threads:
        thread.join(timeout=120)
    assert not problems, problems

    ran = {run.job.id for run in runs}
    assert not ran & cancelled, "a cancelled job ran"
    assert len(ran) == len(runs), "a job ran twice"
    assert len(ran) + len(cancelled) == STORES * JOBS_PER_STORE, "a job was lost"

    by_store: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_store[run.job.store_id].append(run)
    for store_id, store_runs in by_store.items():
        store_runs.sort(key=lambda run: run.began)
        for before, after in itertools.pairwise(store_runs):
            assert before.ended <= after.began, "two jobs of one store overlapped"
        expected = [job.id for job in queued[store_id] if job.id not in cancelled]
        assert [run.job.id for run in store_runs] == expected, "creation order broken"


def test_claims_racing_on_few_stores_never_collide(engine: Engine) -> None:
    """A claim that locks a line just after another claim committed must see that start."""
    store_ids = make_stores(engine, 2)
    for store_id in store_ids:
        queue_jobs(engine, store_id, 60)
    collisions: list[BaseException] = []
    finished: list[str] = []
    start_together = threading.Barrier(8)

    def claim_and_finish(worker_id: str) -> None:
        start_together.wait()
        idle_rounds = 0
        while idle_rounds < 50:
            try:
                job = claim(engine, worker_id)
            except Exception as error:
                collisions.append(error)
                continue
            if job is None:
                idle_rounds += 1
                time.sleep(0.002)
                continue
            idle_rounds = 0
            finish(engine, job)
            finished.append(job.id)

    threads = [threading.Thread(target=claim_and_finish, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not collisions, collisions[:3]
    assert len(finished) == len(set(finished)) == 120
