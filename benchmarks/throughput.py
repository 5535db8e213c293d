"""Throughput of one-at-a-time-per-store jobs on PostgreSQL, against Procrastinate in the same run.

    python -m benchmarks.throughput [--jobs 2000 --stores 20 --workers 2 --concurrency 4]
        [--rounds N] [--procrastinate-poll SECONDS]

Each side gets a fresh database and the same work: `--jobs` no-op jobs dealt round-robin over
`--stores` stores (Procrastinate: `lock=f"store-{n}"`, its one-job-at-a-time-per-lock rule),
drained by `--workers` processes with `--concurrency` slots each. The workers start first, on an
empty queue; all jobs then land in one transaction. The clock runs from its commit until the last
job ended, as the jobs themselves note it (each notes its end just before its queue records the
success), so process start-up is not counted on either side, and neither is the time it takes
the benchmark to see that the queue is empty (it looks every DONE_POLL_SECONDS).

Afterwards every run's start and end, noted by the job itself, are checked against the rule: no
two runs of a store overlap and each store's jobs run in creation order. A side that broke it
gets no speed printed. Rounds alternate which side goes first, as the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import LiteralString

import psycopg
from procrastinate import App

from benchmarks.harness import fresh_engine
from benchmarks.noop_worker import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PROCRASTINATE_POLL_SECONDS,
    NOOP_JOB,
    Run,
    make_procrastinate_app,
    read_run_log,
)
from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.store.engine import write_transaction
from tests.databases import POSTGRES_ADMIN_URL, postgres_database_url
from tests.factories import make_stores

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 10.0
READY_TIMEOUT_SECONDS = 60.0
DRAIN_TIMEOUT_SECONDS = 900.0
# How often the benchmark looks for the last job. It only decides when to stop the workers: the
# drain's length comes from the jobs' own notes, to the microsecond, whatever this is.
DONE_POLL_SECONDS = 0.02
# Registered is not yet listening: give each worker's LISTEN connection time to come up.
SETTLE_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 30.0
SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class Workload:
    jobs: int
    stores: int
    workers: int
    concurrency: int
    procrastinate_poll_seconds: float


@dataclass(frozen=True)
class Drain:
    """How one side drained its queue, and every way it broke the per-store rule."""

    seconds: float
    problems: list[str]

    def jobs_per_second(self, jobs: int) -> float:
        return jobs / self.seconds


def drain_of(queued_at: float, runs: Sequence[Run], problems: list[str]) -> Drain:
    """The drain from the moment the jobs were queued (`time.time()`) to the last run's end."""
    last_end = max(ended for _, _, _, ended in runs)
    return Drain(last_end - queued_at, problems)


# -- shared machinery ------------------------------------------------------------------------


@contextmanager
def running_workers(
    queue: str, database_url: str, workload: Workload, runs: list[Run]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes of `queue` for the block; their runs are added to `runs` on the way out."""
    with tempfile.TemporaryDirectory() as directory:
        logs = [Path(directory) / f"worker-{n}.json" for n in range(workload.workers)]
        command = [sys.executable, "-m", "benchmarks.noop_worker", queue, database_url]
        options = ["--concurrency", str(workload.concurrency)]
        if queue == "procrastinate":
            options += ["--poll", str(workload.procrastinate_poll_seconds)]
        processes = [
            subprocess.Popen(
                [*command, str(log), *options],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            for log in logs
        ]
        try:
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        for log, process in zip(logs, processes, strict=True):
            if not log.exists():
                raise SystemExit(f"a {queue} worker exited with {process.returncode}, no run log")
            runs.extend(read_run_log(log))


def wait_for_count(
    database_url: str,
    query: LiteralString,
    expected: int,
    timeout: float,
    processes: Sequence[subprocess.Popen[bytes]],
) -> None:
    """Return once `query` (a count) reaches `expected`, while every worker process lives."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            row = connection.execute(query).fetchone()
            count = int(row[0]) if row is not None else 0
            if count >= expected:
                return
            if any(process.poll() is not None for process in processes):
                raise SystemExit(f"a worker process died with {query} at {count}/{expected}")
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"gave up after {timeout:.0f} s with {query} at {count}/{expected}"
                )
            time.sleep(DONE_POLL_SECONDS)


def find_rule_breaks(creation_order: Sequence[tuple[str, str]], runs: Sequence[Run]) -> list[str]:
    """Every job that did not run exactly once, or began before its store's previous job ended.

    `creation_order` is (job id, store) for every job, earliest created first. A job that began
    before the previous job of its store ended either overlapped it or overtook it.
    """
    problems: list[str] = []
    times_run = Counter(job_id for job_id, _, _, _ in runs)
    times = {job_id: (began, ended) for job_id, _, began, ended in runs}
    previous: dict[str, str] = {}
    for job_id, store in creation_order:
        if times_run[job_id] != 1:
            problems.append(f"job {job_id} ran {times_run[job_id]} times")
            continue
        before = previous.get(store)
        if before is not None and times[job_id][0] < times[before][1]:
            gap_ms = (times[before][1] - times[job_id][0]) * 1000
            problems.append(
                f"store {store}: job {job_id} began {gap_ms:.1f} ms before the end of {before}, "
                "created before it"
            )
        previous[store] = job_id
    known = {job_id for job_id, _ in creation_order}
    problems.extend(f"job {job_id} ran but was never queued" for job_id in times_run.keys() - known)
    return problems


# -- pxm-jobs ----------------------------------------------------------------------------------


def drain_pxm_jobs(workload: Workload) -> Drain:
    runs: list[Run] = []
    with fresh_engine("postgresql") as engine:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        store_ids = make_stores(engine, workload.stores)
        with running_workers("pxm-jobs", url, workload, runs) as processes:
            wait_for_count(
                url,
                "SELECT count(*) FROM workers",
                workload.workers,
                READY_TIMEOUT_SECONDS,
                processes,
            )
            time.sleep(SETTLE_SECONDS)
            start = utc_now()
            with write_transaction(engine) as connection:
                for n in range(workload.jobs):
                    new = NewJob(
                        store_id=store_ids[n % workload.stores], type=NOOP_JOB, input={}, meta={}
                    )
                    # Distinct creation times, so the order the check expects is the order queued.
                    enqueue_job(connection, new, start + timedelta(microseconds=n))
            queued_at = time.time()
            wait_for_count(
                url,
                "SELECT count(*) FROM jobs WHERE status = 'success'",
                workload.jobs,
                DRAIN_TIMEOUT_SECONDS,
                processes,
            )
        with psycopg.connect(url) as connection:
            order = connection.execute(
                "SELECT id, store_id FROM jobs ORDER BY created_at, seq"
            ).fetchall()
    return drain_of(queued_at, runs, find_rule_breaks(order, runs))


# -- Procrastinate -----------------------------------------------------------------------------


@contextmanager
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"pxm_jobs_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_database_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def defer_all(app: App, workload: Workload) -> None:
    """Defer every job in one INSERT, so workers see them all at once, as on the other side."""
    noop = app.tasks[NOOP_JOB]
    batch = [noop.configure(lock=f"store-{n % workload.stores}").job for n in range(workload.jobs)]
    app.job_manager.batch_defer_jobs(batch)


def drain_procrastinate(workload: Workload) -> Drain:
    runs: list[Run] = []
    with fresh_database() as url:
        app = make_procrastinate_app(url)
        with app.open():
            app.schema_manager.apply_schema()
            with running_workers("procrastinate", url, workload, runs) as processes:
                wait_for_count(
                    url,
                    "SELECT count(*) FROM procrastinate_workers",
                    workload.workers,
                    READY_TIMEOUT_SECONDS,
                    processes,
                )
                time.sleep(SETTLE_SECONDS)
                defer_all(app, workload)
                queued_at = time.time()
                wait_for_count(
                    url,
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'",
                    workload.jobs,
                    DRAIN_TIMEOUT_SECONDS,
                    processes,
                )
        with psycopg.connect(url) as connection:
            rows = connection.execute("SELECT id, lock FROM procrastinate_jobs ORDER BY id")
            order = [(str(job_id), lock) for job_id, lock in rows]
    return drain_of(queued_at, runs, find_rule_breaks(order, runs))


# -- report ------------------------------------------------------------------------------------


def describe(workload: Workload, ours: Drain, theirs: Drain) -> str:
    label = (
        f"throughput postgresql {workload.jobs:,} jobs / {workload.stores} stores / "
        f"{workload.workers} worker processes x {workload.concurrency} slots"
    )
    broken = [
        f"{side} BROKE the one-at-a-time rule {len(drain.problems)} times, first: "
        + "; ".join(drain.problems[:SHOWN_PROBLEMS])
        for side, drain in (("pxm-jobs", ours), ("procrastinate", theirs))
        if drain.problems
    ]
    if broken:
        return f"{label}: no speed reported: " + " | ".join(broken)
    ours_rate = ours.jobs_per_second(workload.jobs)
    theirs_rate = theirs.jobs_per_second(workload.jobs)
    ratio = ours_rate / theirs_rate
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    return (
        f"{label}: pxm-jobs {ours_rate:,.0f} jobs/s ({ours.seconds:.2f} s), "
        f"procrastinate {theirs_rate:,.0f} jobs/s ({theirs.seconds:.2f} s, "
        f"{workload.procrastinate_poll_seconds:g} s poll), ratio {ratio:.1f}x "
        f"({verdict} the {TARGET_RATIO:.0f}x target)"
    )


def run(workload: Workload, rounds: int) -> bool:
    """Print a line per round, and the median ratio of several; False if any rule was broken."""
    ratios: list[float] = []
    clean = True
    for round_number in range(rounds):
        if round_number % 2 == 0:
            ours, theirs = drain_pxm_jobs(workload), drain_procrastinate(workload)
        else:
            theirs, ours = drain_procrastinate(workload), drain_pxm_jobs(workload)
        print(describe(workload, ours, theirs), flush=True)
        if ours.problems or theirs.problems:
            clean = False
        else:
            ratios.append(theirs.seconds / ours.seconds)
    if len(ratios) > 1:
        median = statistics.median(ratios)
        verdict = "meets" if median >= TARGET_RATIO else "MISSES"
        print(
            f"throughput postgresql: median ratio {median:.1f}x over {len(ratios)} clean rounds "
            f"(min {min(ratios):.1f}x, max {max(ratios):.1f}x; {verdict} the "
            f"{TARGET_RATIO:.0f}x target)",
            flush=True,
        )
    return clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--procrastinate-poll", type=float, default=DEFAULT_PROCRASTINATE_POLL_SECONDS
    )
    args = parser.parse_args()
    workload = Workload(
        jobs=args.jobs,
        stores=args.stores,
        workers=args.workers,
        concurrency=args.concurrency,
        procrastinate_poll_seconds=args.procrastinate_poll,
    )
    if not run(workload, args.rounds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
