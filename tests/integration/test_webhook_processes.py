"""Job events delivered by real worker processes killed at random, to a receiver that fails,
stalls and then recovers: every event arrives, each job's in order, and none is lost.

Each worker process runs jobs and delivers their events, as `pxm-jobs worker` does. A kill lands
in the middle of a job, of a claim or of a delivery; the job is taken back after its lease and
the delivery after its own. At the source, the outbox must hold exactly one event per move that
committed: one `started` per claim and one ending per job. At the receiver, every one of them
must have arrived, and the first arrival of each job's events must follow the outbox's order.

`make stress` runs it at a larger scale (PXM_STRESS=1) and prints its counts.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from pxm_jobs.queue.models import JobStatus
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.store.tables import jobs
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import cancel
from tests.webhook_receiver import running_receiver
from tests.webhooks import add_webhook, outbox
from tests.workload import RECORD_JOB, create_run_log

ROOT = Path(__file__).resolve().parents[2]
STRESS = os.environ.get("PXM_STRESS") == "1"
STORES = 10 if STRESS else 4
JOBS_PER_STORE = 40 if STRESS else 8
WORKERS = 3
KILLS = 24 if STRESS else 5
MAX_JOB_SECONDS = 0.05 if STRESS else 0.1
LEASE_SECONDS = 1.0
DRAIN_TIMEOUT_SECONDS = 900 if STRESS else 240
ENDINGS = {
    JobStatus.SUCCESS: "pim-job.succeeded",
    JobStatus.FAILED: "pim-job.failed",
    JobStatus.CANCELLED: "pim-job.cancelled",
}


def start_worker(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.workload",
            database_url,
            "--lease",
            str(LEASE_SECONDS),
            "--webhooks",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def job_rows(engine: Engine) -> dict[str, Any]:
    with read_transaction(engine) as connection:
        rows = connection.execute(select(jobs.c.id, jobs.c.status, jobs.c.attempts))
        return {row.id: row for row in rows}


def settled(engine: Engine) -> bool:
    if any(not JobStatus(row.status).is_terminal for row in job_rows(engine).values()):
        return False
    return {row.state for row in outbox(engine)} <= {"delivered"}


def test_killed_workers_deliver_every_event_in_order_to_a_receiver_that_recovers(
    engine: Engine, database_url: str
) -> None:
    create_run_log(engine)
    rng = random.Random(17)
    recovered = threading.Event()
    answer_lock = threading.Lock()

    def answer(_number: int, _body: dict[str, Any]) -> int | None:
        if recovered.is_set():
            return 200
        with answer_lock:
            draw = rng.random()
        return None if draw < 0.05 else 503 if draw < 0.35 else 200

    with running_receiver(answer) as receiver:
        store_ids = make_stores(engine, STORES)
        queued = []
        for store_id in store_ids:
            add_webhook(engine, store_id, receiver.url)
            for n in range(JOBS_PER_STORE):
                payload = {"max_sleep": MAX_JOB_SECONDS, "fail": n % 5 == 1}
                [job] = queue_jobs(engine, store_id, 1, job_type=RECORD_JOB, payload=payload)
                queued.append(job)
                if n % 7 == 3:
                    cancel(engine, job)
        workers = [start_worker(database_url) for _ in range(WORKERS)]
        kills = 0
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        try:
            while kills < KILLS and not settled(engine) and time.monotonic() < deadline:
                # Kill only once the receiver has seen more since the last kill, so that each
                # one lands among jobs and deliveries in flight, not among starting processes.
                seen = len(receiver.received)
                while len(receiver.received) < seen + 3 and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(rng.uniform(0, 0.3))
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start_worker(database_url)
                kills += 1
            recovered.set()
            while not settled(engine) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
        arrived = receiver.events_by_job()
        requests = len(receiver.received)

    assert kills > 0
    assert settled(engine), "a job never ended, or an event was never delivered"
    rows = outbox(engine)
    written: dict[str, list[str]] = {}
    for row in rows:
        written.setdefault(row.job_id, []).append(row.id)
    assert arrived == written, "every event arrived, each job's first arrivals in order"
    finals = job_rows(engine)
    by_job: dict[str, list[str]] = {}
    for row in rows:
        by_job.setdefault(row.job_id, []).append(row.event)
    for job in queued:
        final = finals[job.id]
        status = JobStatus(final.status)
        events = by_job[job.id]
        assert events[-1] == ENDINGS[status] and events.count(ENDINGS[status]) == 1, events
        assert events.count("pim-job.started") == final.attempts, (
            "one started event per claim that committed, none for a claim that did not"
        )
        assert len(events) == final.attempts + 1
    counts = Counter(JobStatus(row.status) for row in finals.values())
    print(
        f"\nwebhooks {engine.dialect.name}: {len(finals)} jobs over {STORES} stores "
        f"({counts[JobStatus.SUCCESS]} succeeded, {counts[JobStatus.FAILED]} failed, "
        f"{counts[JobStatus.CANCELLED]} cancelled), {kills} workers killed, {len(rows)} events, "
        f"{requests} requests received, {requests - len(rows)} repeats dropped by id, "
        "events lost 0, out of order 0"
    )
