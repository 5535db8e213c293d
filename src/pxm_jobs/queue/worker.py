"""The worker: claims jobs, runs them, keeps their leases alive, and takes back abandoned ones."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

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
    claim_jobs,
    extend_lease,
    fail_job,
    find_expired_jobs,
    finish_job,
    finish_jobs,
    record_progress,
    recover_expired_job,
)
from pxm_jobs.queue.wakeup import WorkSignal
from pxm_jobs.store.blobs import PURGE_BATCH, purge_expired_blobs
from pxm_jobs.store.engine import is_sqlite, read_transaction, write_transaction
from pxm_jobs.store.tables import workers

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# A round takes on more jobs only while each runs this quickly, so that a slow job rarely keeps
# jobs of other stores waiting behind it. Wall time: well above the 5 ms a thread may wait for
# Python's interpreter lock, so that a busy process does not pass for slow jobs.
QUICK_JOB_SECONDS = 0.02
# A round stops starting its claimed jobs once it has run this long; the rest open the next one.
ROUND_BUDGET_SECONDS = 0.05

# A gap between one round and the next on SQLite, for other writers to take the write lock in.
SQLITE_WRITER_GAP_SECONDS = 0.005

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
        # Held by the job thread that may run several jobs per round (see `_run_jobs`).
        self._lead = threading.Lock()
        self._lead_batches = False  # whether that thread does, so the others step back
        self._writers_poll = is_sqlite(engine)
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
    #
    # A job thread works in rounds: one transaction runs the jobs it claimed, records their
    # success and claims the next ones, so a job costs one commit, not two. One thread at a time,
    # the leading one, may take on several jobs (of different stores) per round, and only while
    # jobs prove quick; each job's effects still commit together with its `success`. While it
    # does, the other threads step back, so that quick jobs gather in its rounds instead of
    # spreading thin over every thread's. A round that cannot finish whole (a job failed, a
    # lease was lost) is rolled back and its jobs run one by one, each in its own transaction.

    def _run_jobs(self) -> None:
        claimed: list[Job] = []
        limit = 1
        leading = False
        step_back = False
        while not self._stopping.is_set():
            if not claimed:
                if leading:
                    leading = self._give_up_lead()
                limit = 1
                if step_back:
                    # The leading thread wakes this one when it finds more than it can take.
                    self.signal.wait(self.settings.worker_poll_seconds)
                    step_back = False
                claimed = self._claim_when_ready()
                if not claimed:
                    continue
            if not leading:
                leading = self._lead.acquire(blocking=False)
            hold = limit if leading else (0 if self._lead_batches else 1)
            try:
                claimed, quick = _reconnecting(self.run_round, claimed, hold)
            except Exception as error:
                # The outcomes could not be recorded; the leases will lapse and the jobs rerun.
                if isinstance(error, DBAPIError):
                    logger.warning("jobs not finished: database unavailable (%s)", error.orig)
                else:
                    logger.exception("jobs not finished: the worker itself failed")
                for job in claimed:
                    self._forget(job)
                claimed, quick = [], False
                self._stopping.wait(self.settings.worker_poll_seconds)
            if leading:
                limit = min(limit * 2, self.settings.worker_batch_size) if quick else 1
                self._lead_batches = limit > 1
            else:
                step_back = hold == 0
            if self._writers_poll:
                # SQLite has no queue of writers: one waiting for the lock retries now and then
                # and must find it free. Rounds back to back would leave it no gap to find.
                time.sleep(SQLITE_WRITER_GAP_SECONDS)
        if leading:
            self._give_up_lead()
        self._run_held_before_stopping(claimed)

    def _run_held_before_stopping(self, held: list[Job]) -> None:
        """Jobs this thread claimed but had not run yet get the shutdown grace period too."""
        try:
            while held:
                held, _ = self.run_round(held, 0)
        except DBAPIError as error:
            logger.warning("jobs could not be finished: database unavailable (%s)", error.orig)
            for job in held:
                self._forget(job)

    def _give_up_lead(self) -> bool:
        self._lead_batches = False
        self._lead.release()
        return False

    def _claim_when_ready(self) -> list[Job]:
        """One job claimed on its own, or nothing after waiting for a signal or a poll."""
        self.signal.clear()
        try:
            claimed = _reconnecting(self.claim_batch, 1)
        except IntegrityError:
            # Another claimer started this store's job first; the database refused ours.
            return []
        except Exception as error:
            if isinstance(error, DBAPIError):
                logger.warning("claim failed (%s); retrying", error.orig)
            else:
                logger.exception("claim failed; retrying")
            self._stopping.wait(self.settings.worker_poll_seconds)
            return []
        if not claimed:
            self.signal.wait(self.settings.worker_poll_seconds)
        return claimed

    def claim(self) -> Job | None:
        """Claim one job, in a transaction of its own; None if no store has one ready."""
        claimed = self.claim_batch(1)
        return claimed[0] if claimed else None

    def claim_batch(self, limit: int) -> list[Job]:
        """Claim up to `limit` jobs of as many stores, in a transaction of their own."""
        with write_transaction(self.engine) as connection:
            claimed = self._claim_on(connection, limit)
        self._note_claimed(claimed)
        return claimed

    def _claim_on(self, connection: Connection, limit: int) -> list[Job]:
        return claim_jobs(
            connection,
            worker_id=self.id,
            now=utc_now(),
            lease_seconds=self.settings.job_lease_seconds,
            limit=limit,
        )

    def _note_claimed(self, claimed: list[Job]) -> None:
        with self._running_lock:
            self._running.update((job.id, job) for job in claimed)
        for job in claimed:
            # A rerun's wait includes its earlier runs: only first starts measure the queue.
            if job.attempts == 1 and job.started_at is not None:
                record_pickup(job.type, (job.started_at - job.created_at).total_seconds())

    def run_round(self, batch: list[Job], hold: int) -> tuple[list[Job], bool]:
        """Run claimed jobs in one transaction that claims the next, up to `hold` held after it.

        Returns the jobs now held (those of the batch left over when the round ran out of time
        come first) and whether every job of the round was quick.
        """
        began = time.monotonic()
        finished: list[tuple[Job, Mapping[str, Any], float]] = []
        try:
            with write_transaction(self.engine) as connection:
                for job in batch:
                    if finished and time.monotonic() - began > ROUND_BUDGET_SECONDS:
                        break
                    job_began = time.monotonic()
                    meta = self._attempt(connection, job, len(finished))
                    finished.append((job, meta, time.monotonic() - job_began))
                finish_jobs(connection, [(job, meta) for job, meta, _ in finished], utc_now())
                left_over = batch[len(finished) :]
                room = 0 if self._stopping.is_set() else hold - len(left_over)
                claimed = self._claim_on(connection, room) if room > 0 else []
        except _RoundAbandoned as abandoned:
            self._run_one_by_one(batch, abandoned)
            return [], False
        except LeaseLost:
            self._run_one_by_one(batch, None)
            return [], False
        for job, _, seconds in finished:
            self._forget(job)
            record_run(job.type, "success", seconds)
        self._note_claimed(claimed)
        if room > 0 and len(claimed) == room:
            # This round took all it had room for: there may be more ready for an idle thread.
            self.signal.wake()
        quick = all(seconds < QUICK_JOB_SECONDS for _, _, seconds in finished)
        return left_over + claimed, quick

    def _attempt(self, connection: Connection, job: Job, index: int) -> Mapping[str, Any]:
        """The job's work in a round, where it is the `index`-th; its meta."""
        tracker = ProgressTracker(job.id, self._progress_writer(job))
        try:
            return self._work(connection, job, tracker)
        except DBAPIError:
            raise
        except Exception as error:
            raise _RoundAbandoned(index, error, tracker) from error
        finally:
            forget_progress(job.id)

    def _run_one_by_one(self, batch: list[Job], abandoned: _RoundAbandoned | None) -> None:
        """After a round was rolled back: each job again in its own transaction.

        The job that stopped the round is not run again: its failure is recorded as it stands.
        """
        for index, job in enumerate(batch):
            if abandoned is not None and index == abandoned.index:
                self._record_stop(job, abandoned.error, abandoned.tracker)
                self._forget(job)
            else:
                self.run(job)

    def run(self, job: Job) -> None:
        """Run a claimed job to `success` or `failed`, unless its lease is lost on the way."""
        with self._running_lock:
            self._running[job.id] = job
        tracker = ProgressTracker(job.id, self._progress_writer(job))
        started = time.monotonic()
        outcome = "failed"
        try:
            with write_transaction(self.engine) as connection:
                meta = self._work(connection, job, tracker)
                finish_job(connection, job, meta, utc_now())
            outcome = "success"
        except DBAPIError:
            raise
        except Exception as error:
            outcome = self._record_stop(job, error, tracker)
        finally:
            self._forget(job)
            record_run(job.type, outcome, time.monotonic() - started)
        # The store's next job may now be ready for any idle thread.
        self.signal.wake()

    def _work(
        self, connection: Connection, job: Job, tracker: ProgressTracker
    ) -> Mapping[str, Any]:
        """Do the job's work on `connection`; the meta to finish it with."""
        runner = self.runners.get(job.type)
        if runner is None:
            message = f"this service cannot run jobs of type {job.type!r}"
            raise JobFailed([JobErrorDetail(message=message, code="unsupported_job_type")])
        context = JobContext(job=job, settings=self.settings, report_progress=tracker)
        meta = runner(context, connection)
        if tracker.latest is not None:
            record_progress(connection, job, *tracker.latest)
        return meta

    def _record_stop(self, job: Job, error: Exception, tracker: ProgressTracker) -> str:
        """Record why a job's run stopped short of success; the outcome, for the metrics."""
        if isinstance(error, JobFailed):
            self._fail(
                job,
                error.errors,
                error.meta,
                write_report=error.write_report,
                progress=tracker.latest,
            )
            return "failed"
        if isinstance(error, LeaseLost):
            logger.warning("job %s: lease lost; its effects were rolled back", job.id)
            return "lease_lost"
        logger.error("job %s (%s) crashed", job.id, job.type, exc_info=error)
        message = "the job stopped on an unexpected internal error; the server log has details"
        self._fail(job, [JobErrorDetail(message=message, code="internal_error")], {})
        return "failed"

    def _forget(self, job: Job) -> None:
        with self._running_lock:
            self._running.pop(job.id, None)
        forget_progress(job.id)

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


def _reconnecting(work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`work`, done again once if the database dropped the pooled connection it was given.

    A connection goes stale when the database restarts; the pool then replaces all of them, so
    one retry suffices. The work is a transaction, rolled back when it failed: safe to redo.
    """
    try:
        return work(*args, **kwargs)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return work(*args, **kwargs)


class _RoundAbandoned(Exception):
    """A job of a round stopped short of success, so the round's transaction is rolled back."""

    def __init__(self, index: int, error: Exception, tracker: ProgressTracker) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error
        self.tracker = tracker


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
