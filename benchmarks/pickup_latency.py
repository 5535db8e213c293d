"""Pickup latency on an idle queue: from a job's commit to its runner starting.

    python -m benchmarks.pickup_latency [--jobs N] [--database D]

On PostgreSQL the worker is another process, woken by LISTEN/NOTIFY; on SQLite it shares the
enqueuing process, as `pxm-jobs serve` does, and is woken in-process. The floor is the poll
interval a worker without wake-ups would need for the same p99 (half the interval on average).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from benchmarks.harness import DATABASES, fresh_engine, percentile
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.runner import JobContext
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from tests.factories import make_stores
from tests.workload import RECORD_JOB, create_run_log

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_MS = 100.0
GAP_SECONDS = 0.05


def record_start(context: JobContext, connection: Connection) -> Mapping[str, Any]:
    connection.execute(
        text(
            "INSERT INTO test_run_log (job_id, store_id, worker_id, began, ended)"
            " VALUES (:job_id, :store_id, 'bench', :began, :began)"
        ),
        {"job_id": context.job.id, "store_id": context.job.store_id, "began": time.time()},
    )
    return {}


def queue_one_at_a_time(engine: Engine, store_id: str, count: int) -> dict[str, float]:
    """Enqueue jobs one by one on an idle queue; when each was committed."""
    committed: dict[str, float] = {}
    for _ in range(count):
        with write_transaction(engine) as connection:
            job = enqueue_job(
                connection,
                NewJob(store_id=store_id, type=RECORD_JOB, input={"max_sleep": 0.001}, meta={}),
                utc_now(),
            )
        committed[job.id] = time.time()
        time.sleep(GAP_SECONDS)
    return committed


def started_times(engine: Engine, expected: int) -> dict[str, float]:
    deadline = time.monotonic() + 30
    while True:
        with read_transaction(engine) as connection:
            rows = connection.execute(text("SELECT job_id, began FROM test_run_log")).all()
        if len(rows) >= expected or time.monotonic() > deadline:
            return {row.job_id: row.began for row in rows}
        time.sleep(0.05)


def run(database: str, count: int) -> str:
    with fresh_engine(database) as engine:
        create_run_log(engine)
        [store_id] = make_stores(engine, 1)
        if database == "postgresql":
            url = engine.url.render_as_string(hide_password=False)
            worker = subprocess.Popen(
                [sys.executable, "-m", "tests.workload", url, "--concurrency", "1"],
                cwd=ROOT,
            )
            time.sleep(2)
            try:
                committed = queue_one_at_a_time(engine, store_id, count)
                started = started_times(engine, count)
            finally:
                worker.terminate()
                worker.wait()
        else:
            settings = Settings(database_url=str(engine.url), signing_secret="unused")
            in_process = Worker(engine, settings, {RECORD_JOB: record_start}, concurrency=1)
            in_process.start()
            try:
                committed = queue_one_at_a_time(engine, store_id, count)
                started = started_times(engine, count)
            finally:
                in_process.stop(grace_seconds=5)
    samples = [(started[job_id] - at) * 1000 for job_id, at in committed.items()]
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    poll_floor = 1000.0  # the slowest fallback poll a worker uses without wake-ups
    verdict = "meets" if p99 <= TARGET_P99_MS else "MISSES"
    return (
        f"pickup {database}: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(samples)} jobs "
        f"({verdict} the {TARGET_P99_MS:.0f} ms p99 target); polling alone at "
        f"{poll_floor:.0f} ms would average {poll_floor / 2:.0f} ms, "
        f"{poll_floor / 2 / p50:.0f}x the p50"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        print(run(database, args.jobs), flush=True)


if __name__ == "__main__":
    main()
