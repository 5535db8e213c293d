"""A worker process for tests: runs `record` jobs that log their run in the job's transaction.

    python -m tests.workload DATABASE_URL [--lease SECONDS] [--webhooks]

Because the log row commits with the job's `success`, the log holds exactly the runs that took
effect; tests read it to prove that no two runs of a store overlapped and that order held. A
job whose input says `fail` fails instead; one whose input gives `sleep` runs that long,
reporting progress as it goes, so a request to stop it lands mid-run. With `--webhooks` the
process also delivers job events, as `pxm-jobs worker` does, to receivers on loopback, retried
quickly.
"""

from __future__ import annotations

import argparse
import random
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from pxm_jobs.api.integrations.payloads import job_payload_renderer
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import make_engine, write_transaction
from pxm_jobs.webhooks.courier import Courier

RECORD_JOB = "record"
# Logs its run like `record`, then, on its first attempt only, says so in a file and holds its
# transaction open (and its row lock) for `hold_seconds`: a worker to pause mid-write.
HOLD_JOB = "hold"


def create_run_log(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS test_run_log ("
                " job_id VARCHAR(36) PRIMARY KEY, store_id VARCHAR(36) NOT NULL,"
                " worker_id VARCHAR(128) NOT NULL, began DOUBLE PRECISION NOT NULL,"
                " ended DOUBLE PRECISION NOT NULL)"
            )
        )


# A job reports progress this often while it sleeps: where a request to stop it is noticed.
PROGRESS_STEP_SECONDS = 0.02


def record_run(context: JobContext, connection: Connection) -> Mapping[str, Any]:
    began = time.time()
    asked = context.job.input.get("sleep")
    duration = (
        float(asked)
        if asked is not None
        else random.uniform(0.001, float(context.job.input.get("max_sleep", 0.01)))
    )
    steps = max(1, round(duration / PROGRESS_STEP_SECONDS))
    for step in range(steps):
        time.sleep(duration / steps)
        context.report_progress(step + 1, steps)
    if context.job.input.get("fail"):
        raise JobFailed([JobErrorDetail(message="asked to fail", code="asked")])
    connection.execute(
        text(
            "INSERT INTO test_run_log (job_id, store_id, worker_id, began, ended)"
            " VALUES (:job_id, :store_id, :worker_id, :began, :ended)"
        ),
        {
            "job_id": context.job.id,
            "store_id": context.job.store_id,
            "worker_id": context.job.worker_id,
            "began": began,
            "ended": time.time(),
        },
    )
    return {"ran_on": context.job.worker_id}


def hold_then_record(context: JobContext, connection: Connection) -> Mapping[str, Any]:
    meta = record_run(context, connection)
    if context.job.attempts == 1:
        Path(str(context.job.input["ready_file"])).write_text(context.job.worker_id or "")
        time.sleep(float(context.job.input["hold_seconds"]))
    return meta


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("--lease", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--webhooks", action="store_true")
    args = parser.parse_args()
    settings = Settings(
        database_url=args.database_url,
        job_lease_seconds=args.lease,
        worker_poll_seconds=0.2,
        signing_secret="unused",
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=0.5,
        webhook_retry_base_seconds=0.02,
        webhook_retry_max_seconds=0.2,
        webhook_max_attempts=100,
        webhook_poll_seconds=0.1,
        cancel_started_jobs=True,
    )
    engine = make_engine(settings)
    worker = Worker(
        engine,
        settings,
        {RECORD_JOB: record_run, HOLD_JOB: hold_then_record},
        concurrency=args.concurrency,
    )
    courier = None
    if args.webhooks:
        courier = Courier(engine, settings, job_payload_renderer(settings, b"unused", engine))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    if courier is not None:
        courier.start()
    stop.wait()
    worker.stop(grace_seconds=5)
    if courier is not None:
        courier.stop()


if __name__ == "__main__":
    main()
