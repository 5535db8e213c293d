"""The worker: job threads that each claim one job, run it, and loop; and a housekeeping thread.

A job thread claims one job (one statement), runs it in a transaction that ends with that job's
fenced `success`, commits, and claims again; a job never shares a transaction with another.
Between jobs an idle thread sleeps until woken (NOTIFY on PostgreSQL, an in-process event on
SQLite) or until the poll interval is up. The housekeeping thread keeps the worker's heartbeat,
which is what keeps its jobs its own, and takes back the jobs of workers gone silent.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.execution import JobRun
from pxm_jobs.queue.housekeeping import Housekeeper
from pxm_jobs.queue.lifecycle import claim_job
from pxm_jobs.queue.metrics import record_pickup, record_run
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.runner import RunnerRegistry
from pxm_jobs.queue.wakeup import WorkSignal
from pxm_jobs.queue.workers import forget_worker, new_worker_id, register_worker
from pxm_jobs.store.engine import one_statement, retrying_stale_connection
from pxm_jobs.store.faults import DATABASE_ERRORS

logger = logging.getLogger(__name__)

# After the grace period, how long jobs still running get to notice they must stop and hand
# themselves back (a job looks at each progress report it makes).
HAND_BACK_SECONDS = 5.0


class Worker:
    """Runs jobs in `concurrency` threads, plus one thread for heartbeats and recovery."""

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
        self.id = worker_id or new_worker_id()
        self.concurrency = concurrency or settings.worker_concurrency_for(engine.dialect.name)
        self.signal = WorkSignal(engine)
        self._stopping = threading.Event()  # no new claims
        self._interrupting = threading.Event()  # running jobs stop at their next report
        self._threads: list[threading.Thread] = []
        self.job_run = JobRun(engine, settings, runners, self._interrupting)
        self.housekeeper = Housekeeper(engine, settings, self.id, self.signal, self._stopping)

    def start(self) -> None:
        register_worker(self.engine, self.id)
        self.signal.start()
        self._threads = [
            threading.Thread(target=self._run_jobs, name=f"pxm-jobs-run-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        housekeeping = threading.Thread(
            target=self.housekeeper.keep_house, name="pxm-jobs-housekeeping", daemon=True
        )
        for thread in [*self._threads, housekeeping]:
            thread.start()
        logger.info("worker %s started with %d job threads", self.id, self.concurrency)

    def stop(self, grace_seconds: float | None = None) -> bool:
        """Stop claiming and let running jobs finish within `grace_seconds`; True if all did.

        Jobs still running then are interrupted and hand themselves back (pending again, the
        run not counted); the worker's row is removed, so that any job that did not manage to
        is taken back by another worker at once instead of after the lease.
        """
        grace = (
            self.settings.worker_shutdown_grace_seconds if grace_seconds is None else grace_seconds
        )
        self._stopping.set()
        self.signal.stop()
        finished = _join_all(self._threads, grace)
        if not finished:
            logger.warning(
                "worker %s: jobs still running after %.0f s; handing them back", self.id, grace
            )
            self._interrupting.set()
            _join_all(self._threads, HAND_BACK_SECONDS)
        try:
            forget_worker(self.engine, self.id)
        except DBAPIError as error:
            logger.warning("worker %s: could not sign off (%s)", self.id, error.orig)
        return finished

    def claim(self) -> Job | None:
        """Claim one job, in a statement of its own; None if no store has one ready."""
        try:
            with one_statement(self.engine) as connection:
                job = claim_job(connection, self.id, utc_now())
        except IntegrityError:
            # The database refused a second started job in a store: a line was re-pointed by
            # a process of an earlier release. Nothing was claimed; the next claim goes on.
            logger.warning("claim refused by the one-started-job-per-store rule; retrying")
            return None
        if job is not None and job.attempts == 1 and job.started_at is not None:
            # A rerun's wait includes its earlier runs: only first starts measure the queue.
            record_pickup(job.type, (job.started_at - job.created_at).total_seconds())
        return job

    def run(self, job: Job) -> str:
        """Run a claimed job to its end; how it ended."""
        began = time.monotonic()
        outcome = self.job_run.run(job)
        record_run(job.type, outcome, time.monotonic() - began)
        return outcome

    def _run_jobs(self) -> None:
        while not self._stopping.is_set():
            # Forget past signals first, so that none arriving during the claim is lost.
            self.signal.clear()
            try:
                job = retrying_stale_connection(self.claim)
            except DATABASE_ERRORS as error:
                logger.warning("claim failed: database unavailable (%s); retrying", error)
                self._stopping.wait(self.settings.worker_poll_seconds)
                continue
            if job is None:
                self.signal.wait(self.settings.worker_poll_seconds)
                continue
            try:
                self.run(job)
            except Exception:
                # A job's failures are recorded by `run`; this is the worker's own bug. Put the
                # job back rather than leave it started for as long as this worker lives.
                logger.exception(
                    "worker %s: job %s could not be run; requeueing it", self.id, job.id
                )
                self.job_run.give_back(job)


def _join_all(threads: list[threading.Thread], seconds: float) -> bool:
    """Wait up to `seconds` in all for `threads` to end; True if every one did."""
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)
