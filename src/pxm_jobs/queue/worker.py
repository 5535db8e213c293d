"""The worker: claims jobs, runs them, keeps their leases alive, and takes back abandoned ones."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import DBAPIError, IntegrityError

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.metrics import record_pickup, record_recovery, record_run
from pxm_jobs.queue.models import Job, JobErrorDetail
from pxm_jobs.queue.progress import Progress, ProgressTracker, forget_progress
from pxm_jobs.queue.registry import touch_worker
from pxm_jobs.queue.retention import PRUNE_BATCH, prune_finished_jobs
from pxm_jobs.queue.runner import FailureReport, JobContext, JobFailed, RunnerRegistry
from pxm_jobs.queue.transitions import (
    LeaseLost,
    claim_next_job,
    extend_lease,
    fail_job,
    find_expired_jobs,
    finish_job,
    record_progress,
    recover_expired_job,
)
from pxm_jobs.queue.wakeup import WorkSignal
from pxm_jobs.store.blobs import PURGE_BATCH, purge_expired_blobs
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import workers

logger = logging.getLogger(__name__)

# Files and finished jobs expire by the day: looking for expired ones every few minutes is plenty.
PURGE_INTERVAL_SECONDS = 300


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs jobs in `concurrency` threads, plus one thread for leases and recovery."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        runners: RunnerRegistry,
        *,
        concurrency: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.runners = runners
        self.id = worker_id or new_worker_id()
        self.concurrency = concurrency or settings.worker_concurrency_for(engine.dialect.name)
        self.signal = WorkSignal(engine)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, Job] = {}
        self._running_lock = threading.Lock()
        self._next_purge_at = 0.0  # time.monotonic() of the next purge; the first comes at once
        self._next_prune_at = 0.0  # likewise, for finished jobs past their retention

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        touch_worker(self.engine, self.id, utc_now())
        self.signal.start()
        self._threads = [
            threading.Thread(target=self._run_jobs, name=f"pxm-jobs-run-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        self._threads.append(
            threading.Thread(target=self._keep_house, name="pxm-jobs-housekeeping", daemon=True)
        )
        for thread in self._threads:
            thread.start()
        logger.info("worker %s started with %d job threads", self.id, self.concurrency)

    def stop(self, grace_seconds: float | None = None) -> bool:
        """Stop claiming, give running jobs `grace_seconds` to finish; True if all did."""
        grace = (
            self.settings.worker_shutdown_grace_seconds if grace_seconds is None else grace_seconds
        )
        self._stopping.set()
        self.signal.stop()
        deadline = threading.Event()
        timer = threading.Timer(grace, deadline.set)
        timer.start()
        for thread in self._threads:
            while thread.is_alive() and not deadline.is_set():
                thread.join(timeout=0.05)
        timer.cancel()
        finished = not any(thread.is_alive() for thread in self._threads)
        if finished:
            with write_transaction(self.engine) as connection:
                connection.execute(delete(workers).where(workers.c.id == self.id))
        else:
            # Leases of the jobs still running will lapse and another worker will rerun them.
            logger.warning("worker %s stopped with jobs still running", self.id)
        return finished

    # -- job threads ------------------------------------------------------------------------

    def _run_jobs(self) -> None:
        while not self._stopping.is_set():
            self.signal.clear()
            try:
                job = self.claim()
            except IntegrityError:
                # Another claimer started this store's job first; the database refused ours.
                continue
            except DBAPIError as error:
                logger.warning("claim failed (%s); retrying", error.orig)
                self._stopping.wait(self.settings.worker_poll_seconds)
                continue
            if job is None:
                self.signal.wait(self.settings.worker_poll_seconds)
                continue
            try:
                self.run(job)
            except DBAPIError as error:
                # The outcome could not be recorded; the lease will lapse and the job rerun.
                logger.warning("job %s: database unavailable (%s)", job.id, error.orig)
                self._stopping.wait(self.settings.worker_poll_seconds)

    def claim(self) -> Job | None:
        with write_transaction(self.engine) as connection:
            job = claim_next_job(
                connection,
                worker_id=self.id,
                now=utc_now(),
                lease_seconds=self.settings.job_lease_seconds,
            )
        # A rerun's wait includes its earlier runs: only first starts measure the queue.
        if job is not None and job.attempts == 1 and job.started_at is not None:
            record_pickup(job.type, (job.started_at - job.created_at).total_seconds())
        return job

    def run(self, job: Job) -> None:
        """Run a claimed job to `success` or `failed`, unless its lease is lost on the way."""
        with self._running_lock:
            self._running[job.id] = job
        tracker = ProgressTracker(job.id, self._progress_writer(job))
        started = time.monotonic()
        outcome = "failed"
        try:
            self._run_and_finish(job, tracker)
            outcome = "success"
        except JobFailed as failure:
            self._fail(
                job,
                failure.errors,
                failure.meta,
                write_report=failure.write_report,
                progress=tracker.latest,
            )
        except LeaseLost:
            outcome = "lease_lost"
            logger.warning("job %s: lease lost; its effects were rolled back", job.id)
        except Exception:
            logger.exception("job %s (%s) crashed", job.id, job.type)
            message = "the job stopped on an unexpected internal error; the server log has details"
            self._fail(job, [JobErrorDetail(message=message, code="internal_error")], {})
        finally:
            with self._running_lock:
                self._running.pop(job.id, None)
            forget_progress(job.id)
            record_run(job.type, outcome, time.monotonic() - started)
        # The store's next job may now be ready for any idle thread.
        self.signal.wake()

    def _run_and_finish(self, job: Job, tracker: ProgressTracker) -> None:
        runner = self.runners.get(job.type)
        if runner is None:
            message = f"this service cannot run jobs of type {job.type!r}"
            raise JobFailed([JobErrorDetail(message=message, code="unsupported_job_type")])
        context = JobContext(job=job, settings=self.settings, report_progress=tracker)
        with write_transaction(self.engine) as connection:
            meta = runner(context, connection)
            if tracker.latest is not None:
                record_progress(connection, job, *tracker.latest)
            finish_job(connection, job, meta, utc_now())

    def _fail(
        self,
        job: Job,
        errors: list[JobErrorDetail],
        meta: Mapping[str, Any],
        *,
        write_report: FailureReport | None = None,
        progress: Progress | None = None,
    ) -> None:
        try:
            with write_transaction(self.engine) as connection:
                reported = _write_failure_report(connection, job, write_report)
                if progress is not None:
                    record_progress(connection, job, *progress)
                if fail_job(connection, job, errors, {**meta, **reported}, utc_now()) is None:
                    # Roll the report back with the rest: the job belongs to another worker now.
                    raise LeaseLost(job.id)
        except LeaseLost:
            logger.warning("job %s: lease lost before its failure could be recorded", job.id)

    def _progress_writer(self, job: Job) -> Any:
        if self.engine.dialect.name != "postgresql":
            return None

        def write(processed: int, total: int | None) -> None:
            with write_transaction(self.engine) as connection:
                record_progress(connection, job, processed, total)

        return write

    # -- housekeeping -----------------------------------------------------------------------

    def _keep_house(self) -> None:
        interval = self.settings.job_lease_seconds / 3
        while not self._stopping.wait(interval):
            try:
                self.renew_leases()
                touch_worker(self.engine, self.id, utc_now())
                self.recover_expired()
                self.prune_old_jobs()
                self.purge_expired_files()
            except DBAPIError as error:
                logger.warning("housekeeping failed (%s); retrying", error.orig)

    def prune_old_jobs(self) -> int:
        """Delete finished jobs past their retention, in short batches, every few minutes.

        Each batch is its own transaction, so claims never wait behind a long prune.
        """
        now = time.monotonic()
        if now < self._next_prune_at:
            return 0
        self._next_prune_at = now + PURGE_INTERVAL_SECONDS
        retention = timedelta(days=self.settings.job_retention_days)
        pruned = 0
        while not self._stopping.is_set():
            with write_transaction(self.engine) as connection:
                batch = prune_finished_jobs(connection, utc_now() - retention)
            pruned += batch
            if batch < PRUNE_BATCH:
                break
        if pruned:
            logger.info("deleted %d finished jobs past their retention", pruned)
        return pruned

    def purge_expired_files(self) -> int:
        """Delete stored files past their retention, at most once per PURGE_INTERVAL_SECONDS.

        Every worker does it: deleting is idempotent, and a deployment may have only one.
        """
        now = time.monotonic()
        if now < self._next_purge_at:
            return 0
        self._next_purge_at = now + PURGE_INTERVAL_SECONDS
        purged = 0
        while not self._stopping.is_set():
            with write_transaction(self.engine) as connection:
                batch = purge_expired_blobs(connection, utc_now())
            purged += batch
            if batch < PURGE_BATCH:
                break
        if purged:
            logger.info("deleted %d stored files past their retention", purged)
        return purged

    def renew_leases(self) -> None:
        with self._running_lock:
            running = list(self._running.values())
        for job in running:
            with write_transaction(self.engine) as connection:
                renewed = extend_lease(connection, job, utc_now(), self.settings.job_lease_seconds)
            with self._running_lock:
                # A job that finished since the snapshot has no lease to renew.
                still_running = job.id in self._running
            if not renewed and still_running:
                logger.warning("job %s: lease lost; it will not be allowed to finish", job.id)

    def recover_expired(self) -> int:
        """Requeue or fail jobs whose worker stopped renewing their lease; how many moved."""
        moved = 0
        with read_transaction(self.engine) as connection:
            expired = find_expired_jobs(connection, utc_now())
        for job in expired:
            with write_transaction(self.engine) as connection:
                outcome = recover_expired_job(
                    connection, job, utc_now(), self.settings.job_max_attempts
                )
            if outcome is not None:
                moved += 1
                record_recovery(outcome.value)
                logger.warning("job %s: worker %s lost it; now %s", job.id, job.worker_id, outcome)
        if moved:
            self.signal.wake()
        return moved


def _write_failure_report(
    connection: Connection, job: Job, write_report: FailureReport | None
) -> Mapping[str, Any]:
    """The failure report's meta; a report that cannot be written must not hide the failure."""
    if write_report is None:
        return {}
    try:
        with connection.begin_nested():
            return write_report(connection)
    except DBAPIError:
        raise
    except Exception:
        logger.exception("job %s: its failure report could not be written", job.id)
        return {}
