"""A Procrastinate worker process whose one task does nothing but note its run.

    python -m benchmarks.procrastinate_worker DATABASE_URL RUN_LOG [--concurrency N]
        [--poll SECONDS]

On SIGTERM Procrastinate stops gracefully and the run notes go to RUN_LOG.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from procrastinate import App, JobContext, PsycopgConnector

from benchmarks.noop_worker import DEFAULT_CONCURRENCY, NOOP_JOB
from benchmarks.run_notes import note_run, write_run_log


def make_app(database_url: str, concurrency: int = DEFAULT_CONCURRENCY) -> App:
    """The Procrastinate app of the benchmark, with its one task registered as `noop`."""
    # A connection per slot plus one for the heartbeat; LISTEN has a connection of its own.
    size = concurrency + 1
    app = App(connector=PsycopgConnector(conninfo=database_url, min_size=size, max_size=size))

    # Async, Procrastinate's fast path: a sync task would be sent to a thread.
    @app.task(name=NOOP_JOB, pass_context=True)
    async def noop(context: JobContext) -> None:
        job = context.job
        note_run(str(job.id), str(job.lock), time.monotonic())

    return app


def serve(database_url: str, run_log: Path, concurrency: int, poll_seconds: float) -> None:
    app = make_app(database_url, concurrency)
    # Procrastinate's own handlers turn SIGTERM into a graceful stop, and run_worker returns.
    app.run_worker(concurrency=concurrency, fetch_job_polling_interval=poll_seconds)
    write_run_log(run_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("run_log", type=Path)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args()
    serve(args.database_url, args.run_log, args.concurrency, args.poll)


if __name__ == "__main__":
    # Run as the importable module, not as __main__: Procrastinate warns about an App made in
    # __main__, whose tasks would be named after it.
    from benchmarks.procrastinate_worker import main as main_of_module

    main_of_module()
