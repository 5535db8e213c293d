"""The worker processes the throughput benchmark drains its queues with.

    python -m benchmarks.noop_worker pxm-jobs DATABASE_URL RUN_LOG [--concurrency N]
    python -m benchmarks.noop_worker procrastinate DATABASE_URL RUN_LOG [--concurrency N]
        [--poll SECONDS]

Either way the job does nothing but note when it began and ended. The notes stay in memory and
are written to RUN_LOG (JSON) when the process is stopped with SIGTERM, so checking the
one-at-a-time rule costs neither queue a database write while it is being timed.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from sqlalchemy import Connection

from pxm_jobs.config import Settings
from pxm_jobs.queue import runner
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import make_engine

NOOP_JOB = "noop"
# The default of pxm-jobs workers on PostgreSQL; both queues get as many slots per process.
DEFAULT_CONCURRENCY = 4
# pxm-jobs workers fall back to polling once a second; Procrastinate's default is 5 s.
DEFAULT_PROCRASTINATE_POLL_SECONDS = 1.0

# (job id, store or lock, began, ended) for every run in this process.
Run = tuple[str, str, float, float]
_runs: list[Run] = []
_runs_lock = threading.Lock()


def note_run(job_id: str, store: str, began: float) -> None:
    ended = time.time()
    with _runs_lock:
        _runs.append((job_id, store, began, ended))


def write_run_log(path: Path) -> None:
    with _runs_lock:
        path.write_text(json.dumps(_runs))


def read_run_log(path: Path) -> list[Run]:
    return [
        (str(job), str(store), float(a), float(b))
        for job, store, a, b in json.loads(path.read_text())
    ]


# -- pxm-jobs ------------------------------------------------------------------------------


def run_noop(context: runner.JobContext, connection: Connection) -> Mapping[str, Any]:
    # Noted before the success commits; the next job of the store can only be claimed after
    # that commit, so its `began` is later than this `ended` whenever the rule holds.
    note_run(context.job.id, context.job.store_id, time.time())
    return {}


def serve_pxm_jobs(database_url: str, run_log: Path, concurrency: int) -> None:
    settings = Settings(database_url=database_url, signing_secret="unused")
    # As `pxm-jobs worker` makes it.
    engine = make_engine(settings, ping_on_checkout=False)
    worker = Worker(engine, settings, {NOOP_JOB: run_noop}, concurrency=concurrency)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    stop.wait()
    worker.stop(grace_seconds=5)
    write_run_log(run_log)


# -- Procrastinate -------------------------------------------------------------------------


def make_procrastinate_app(database_url: str, concurrency: int = DEFAULT_CONCURRENCY) -> App:
    """The Procrastinate app of the benchmark, with its one task registered as `noop`."""
    # A connection per slot plus one for the heartbeat; LISTEN has a connection of its own.
    size = concurrency + 1
    app = App(connector=PsycopgConnector(conninfo=database_url, min_size=size, max_size=size))

    # Async, Procrastinate's fast path: a sync task would be sent to a thread.
    @app.task(name=NOOP_JOB, pass_context=True)
    async def noop(context: JobContext) -> None:
        job = context.job
        note_run(str(job.id), str(job.lock), time.time())

    return app


def serve_procrastinate(
    database_url: str, run_log: Path, concurrency: int, poll_seconds: float
) -> None:
    app = make_procrastinate_app(database_url, concurrency)
    # Procrastinate's own handlers turn SIGTERM into a graceful stop, and run_worker returns.
    app.run_worker(concurrency=concurrency, fetch_job_polling_interval=poll_seconds)
    write_run_log(run_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queue", choices=("pxm-jobs", "procrastinate"))
    parser.add_argument("database_url")
    parser.add_argument("run_log", type=Path)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--poll", type=float, default=DEFAULT_PROCRASTINATE_POLL_SECONDS)
    args = parser.parse_args()
    if args.queue == "pxm-jobs":
        serve_pxm_jobs(args.database_url, args.run_log, args.concurrency)
    else:
        serve_procrastinate(args.database_url, args.run_log, args.concurrency, args.poll)


if __name__ == "__main__":
    # Run as the importable module, not as __main__: Procrastinate warns about an App made in
    # __main__, whose tasks would be named after it.
    from benchmarks.noop_worker import main as main_of_module

    main_of_module()
