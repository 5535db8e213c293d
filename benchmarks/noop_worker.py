"""A pxm-jobs worker process whose one job type does nothing but note its run.

    python -m benchmarks.noop_worker DATABASE_URL RUN_LOG [--concurrency N]

It is the plain worker `pxm-jobs worker` runs, with the no-op job registered. On SIGTERM it
stops as `pxm-jobs worker` does and writes the notes of the runs that took effect to RUN_LOG
(`benchmarks/run_notes.py`).
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from benchmarks.run_notes import keep_run, write_run_log
from pxm_jobs.config import Settings
from pxm_jobs.queue import runner
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import call_after_commit, make_engine

NOOP_JOB = "noop"
# The default of pxm-jobs workers on PostgreSQL; every system gets as many slots per process.
DEFAULT_CONCURRENCY = 4


def run_noop(context: runner.JobContext, connection: Connection) -> Mapping[str, Any]:
    job_id, store_id = context.job.id, context.job.store_id
    # The end is read before the success commits; the next job of the store can only be claimed
    # after that commit, so its `began` is later than this `ended` whenever the rule holds.
    began = ended = time.monotonic()
    # Kept once the success has committed: only that run took effect. (On SQLite a job whose
    # first write lost to another writer runs again, with the write lock taken first.)
    call_after_commit(connection, lambda: keep_run(job_id, store_id, began, ended))
    return {}


def serve(database_url: str, run_log: Path, concurrency: int) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("run_log", type=Path)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    serve(args.database_url, args.run_log, args.concurrency)


if __name__ == "__main__":
    main()
