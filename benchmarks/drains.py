"""One drain of no-op jobs by one queue system, timed and checked from the jobs' own notes.

A drain queues `jobs` no-op jobs dealt round-robin over `stores` stores on an idle system, then
starts `workers` worker processes with `concurrency` slots each and waits until the system
counts no job left. Every job notes its run (`benchmarks/run_notes.py`); from the notes come
both rates and the check of the one-at-a-time rule:

- with start-up: every job, from the moment the first worker process was started until the last
  job ended;
- without start-up: the jobs that began once every worker process had begun its first job, over
  the time from then until the last job ended.

The system's own database work after the last job (recording its success) is not timed, and
neither is the time the benchmark takes to see the queue empty (it looks every
DONE_POLL_SECONDS).

pxm-jobs is the system here (`PXM_JOBS`); the peers are in `benchmarks/peer_systems.py`, so
this module needs none of them installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import text

from benchmarks.cpu import backend_pids, children_cpu_seconds, database_cpu_seconds, is_postgres
from benchmarks.noop_worker import NOOP_JOB
from benchmarks.run_notes import Run, find_rule_breaks, read_run_log
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.store.engine import make_engine, write_transaction
from tests.databases import fresh_postgres_database
from tests.factories import make_stores

ROOT = Path(__file__).resolve().parents[1]
DRAIN_TIMEOUT_SECONDS = 900.0
# How often the benchmark looks for the last job. It only decides when to stop the workers: the
# drain's length comes from the jobs' own notes, whatever this is.
DONE_POLL_SECONDS = 0.02
STOP_TIMEOUT_SECONDS = 30.0

# (job id, store) for every job, earliest created first.
CreationOrder = list[tuple[str, str]]


@dataclass(frozen=True)
class Workload:
    jobs: int
    stores: int
    workers: int
    concurrency: int


class QueueSystem(Protocol):
    """What a drain needs of a queue system; `settings` says how it is set up, for the output."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> str: ...

    def fresh_database(self) -> AbstractContextManager[str]:
        """A database ready for the system and empty, dropped afterwards; yields its URL."""
        ...

    def queue_jobs(self, database_url: str, workload: Workload) -> CreationOrder:
        """Queue the workload's jobs, none of them running yet."""
        ...

    def worker_command(self, database_url: str, run_log: Path, workload: Workload) -> list[str]:
        """The command of one worker process, which writes its run notes to `run_log`."""
        ...

    def count_left(self, database_url: str) -> AbstractContextManager[Callable[[], int]]:
        """A counter of the jobs not yet recorded as done, on a connection of its own."""
        ...


@dataclass(frozen=True)
class Drain:
    """How one system drained its queue, and every way it broke the per-store rule."""

    jobs: int
    spawned: float  # when the first worker process was started (time.monotonic())
    runs_per_worker: list[list[Run]]
    problems: list[str]
    worker_cpu_seconds: float  # the worker processes', start-up and stop included
    database_cpu_seconds: float | None  # the server's for the workers' connections, if known

    @property
    def last_end(self) -> float:
        return max(ended for runs in self.runs_per_worker for _, _, _, ended in runs)

    @property
    def seconds_with_start_up(self) -> float:
        return self.last_end - self.spawned

    @property
    def all_running_at(self) -> float:
        """When the last worker process to begin a job began its first one."""
        return max(min(began for _, _, began, _ in runs) for runs in self.runs_per_worker if runs)

    @property
    def jobs_without_start_up(self) -> int:
        start = self.all_running_at
        return sum(began >= start for runs in self.runs_per_worker for _, _, began, _ in runs)

    @property
    def seconds_without_start_up(self) -> float:
        return self.last_end - self.all_running_at

    @property
    def idle_workers(self) -> int:
        return sum(not runs for runs in self.runs_per_worker)

    def rate_with_start_up(self) -> float:
        return self.jobs / self.seconds_with_start_up

    def rate_without_start_up(self) -> float:
        return self.jobs_without_start_up / self.seconds_without_start_up


def drain(system: QueueSystem, database_url: str, workload: Workload) -> Drain:
    """Queue the workload on `database_url`, drain it with fresh worker processes, check it."""
    order = system.queue_jobs(database_url, workload)
    postgres = is_postgres(database_url)
    with system.count_left(database_url) as count_left, tempfile.TemporaryDirectory() as folder:
        logs = [Path(folder) / f"worker-{n}.json" for n in range(workload.workers)]
        # Connected before the workers: the benchmark's own, whose CPU is not the drain's.
        ours = backend_pids(database_url) if postgres else set()
        cpu_before = children_cpu_seconds()
        spawned = time.monotonic()
        processes = [
            subprocess.Popen(
                system.worker_command(database_url, log, workload),
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
            )
            for log in logs
        ]
        try:
            wait_for_empty(system.name, count_left, processes)
            database_cpu = database_cpu_seconds(database_url, ours) if postgres else None
        finally:
            stop_all(processes)
        worker_cpu = children_cpu_seconds() - cpu_before
        runs = [
            read_log(system.name, log, process)
            for log, process in zip(logs, processes, strict=True)
        ]
    problems = find_rule_breaks(order, [run for worker_runs in runs for run in worker_runs])
    return Drain(workload.jobs, spawned, runs, problems, worker_cpu, database_cpu)


def wait_for_empty(
    name: str, count_left: Callable[[], int], processes: Sequence[subprocess.Popen[bytes]]
) -> None:
    """Return once no job is left, while every worker process lives."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while left := count_left():
        if any(process.poll() is not None for process in processes):
            raise SystemExit(f"a {name} worker process died with {left} jobs left")
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: gave up after {DRAIN_TIMEOUT_SECONDS:.0f} s, {left} left")
        time.sleep(DONE_POLL_SECONDS)


def stop_all(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def read_log(name: str, log: Path, process: subprocess.Popen[bytes]) -> list[Run]:
    if log.exists():
        return read_run_log(log)
    # Every worker sets its SIGTERM handler before it can take a job, so one that SIGTERM ended
    # without a log was stopped, still starting, before it ran any.
    if process.returncode == -signal.SIGTERM:
        return []
    raise SystemExit(f"a {name} worker exited with {process.returncode}, no run log")


# -- pxm-jobs ------------------------------------------------------------------------------


class PxmJobs:
    """pxm-jobs' plain worker, its default of one job at a time per store."""

    name = "pxm-jobs"
    settings = "one job at a time per store"

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        with fresh_postgres_database() as url:
            yield url

    def queue_jobs(self, database_url: str, workload: Workload) -> CreationOrder:
        engine = make_engine(Settings(database_url=database_url))
        try:
            store_ids = make_stores(engine, workload.stores)
            start = utc_now()
            with write_transaction(engine) as connection:
                for n in range(workload.jobs):
                    new = NewJob(
                        store_id=store_ids[n % workload.stores], type=NOOP_JOB, input={}, meta={}
                    )
                    # Distinct creation times, so the order the check expects is the order queued.
                    enqueue_job(connection, new, start + timedelta(microseconds=n))
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT id, store_id FROM jobs ORDER BY created_at, seq")
                ).all()
        finally:
            engine.dispose()
        return [(str(job_id), str(store_id)) for job_id, store_id in rows]

    def worker_command(self, database_url: str, run_log: Path, workload: Workload) -> list[str]:
        return [
            sys.executable,
            "-m",
            "benchmarks.noop_worker",
            database_url,
            str(run_log),
            "--concurrency",
            str(workload.concurrency),
        ]

    @contextmanager
    def count_left(self, database_url: str) -> Iterator[Callable[[], int]]:
        engine = make_engine(Settings(database_url=database_url))
        query = text("SELECT count(*) FROM jobs WHERE status <> 'success'")
        try:
            with engine.connect() as connection:

                def count() -> int:
                    left = int(connection.execute(query).scalar_one())
                    connection.rollback()  # the next count sees a fresh snapshot, on SQLite too
                    return left

                yield count
        finally:
            engine.dispose()


PXM_JOBS = PxmJobs()
