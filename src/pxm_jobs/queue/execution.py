"""Running one claimed job: its work and its `success` in one transaction, or why it stopped.

The job's effects and its move to `success` commit together; anything else rolls the effects
back, and what became of the job is then recorded in a transaction of its own:

    the job raised JobFailed          failed, with its errors (and its failure report)
    the job raised anything else      failed, with an internal error (the log has the trace)
    the job was asked to stop         cancelled (it noticed at a progress report)
    the worker is stopping            handed back: pending again, its run not counted (or
                                      cancelled, if it was also asked to stop)
    the database failed for a moment  requeued, once the database answers again (a broken
                                      connection, a lock not granted in time, a read-only
                                      moment)
    the job was taken back meanwhile  nothing: it belongs to another worker now
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.lifecycle import (
    LeaseLost,
    fail_job,
    finish_job,
    record_progress,
    requeue_job,
    stop_job,
)
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.progress import Progress, ProgressTracker, forget_progress
from pxm_jobs.queue.runner import (
    FailureReport,
    JobCancelled,
    JobContext,
    JobFailed,
    JobInterrupted,
    RunnerRegistry,
)
from pxm_jobs.queue.stop_requests import ask_to_stop, end_run, stop_requested, track_run
from pxm_jobs.store.engine import is_sqlite, read_transaction, write_transaction
from pxm_jobs.store.faults import DATABASE_ERRORS, is_transient

logger = logging.getLogger(__name__)

# What SQLite answers a transaction that read before it writes, when it may not write: another
# connection holds the write lock (SQLITE_BUSY, at once: waiting could deadlock), or committed
# since this one began reading (SQLITE_BUSY_SNAPSHOT).
SQLITE_REFUSED_UPGRADE = frozenset({5, 517})


@dataclass(frozen=True)
class JobRun:
    """What a worker needs to run jobs: where, with which runners, and when to stop."""

    engine: Engine
    settings: Settings
    runners: RunnerRegistry
    stopping: threading.Event

    def run(self, job: Job) -> str:
        """Run a claimed job to its end; how it ended, for the metrics."""
        tracker = ProgressTracker(job.id, self._progress_writer(job), self.stopping)
        track_run(job.id)
        if job.cancel_requested_at is not None:
            ask_to_stop([job.id])  # asked before this run began: it stops at its first report
        try:
            self._succeed(job, tracker)
            return "success"
        except JobCancelled:
            self._stop(job, tracker.latest)
            return "cancelled"
        except JobInterrupted:
            if stop_requested(job.id):
                self._stop(job, tracker.latest)
                return "cancelled"
            self._requeue(job, handed_back=True)
            return "handed_back"
        except LeaseLost:
            logger.warning(
                "job %s: taken back from this worker; its effects were rolled back", job.id
            )
            return "lease_lost"
        except JobFailed as failed:
            self._fail(job, failed.errors, failed.meta, tracker.latest, failed.write_report)
            return "failed"
        except DATABASE_ERRORS as error:
            if not is_transient(error):
                return self._crashed(job, error, tracker.latest)
            logger.warning(
                "job %s: database fault (%s); requeueing it", job.id, getattr(error, "orig", error)
            )
            self._requeue(job, handed_back=False)
            return "requeued"
        except Exception as error:
            return self._crashed(job, error, tracker.latest)
        finally:
            forget_progress(job.id)
            end_run(job.id)

    def _succeed(self, job: Job, tracker: ProgressTracker) -> None:
        """The job's work and its `success`, committed together.

        On SQLite the job first runs without the write lock, which it takes at its first write,
        so that while it reads (an export, the checks of an import) the service's other writes
        go on. If another writer committed meanwhile, SQLite refuses that first write; the job
        then runs again from the start, with the write lock taken first.
        """
        if is_sqlite(self.engine):
            try:
                self._succeed_once(job, tracker, lock_first=False)
                return
            except (OperationalError, sqlite3.OperationalError) as error:
                if not _refused_upgrade(error):
                    raise
            logger.info("job %s: another write came first; running it again locked", job.id)
        self._succeed_once(job, tracker, lock_first=True)

    def _succeed_once(self, job: Job, tracker: ProgressTracker, *, lock_first: bool) -> None:
        with write_transaction(self.engine, lock_first=lock_first) as connection:
            # A SQLite transaction that took the write lock at its start leaves none to others.
            holds_write_lock = lock_first and is_sqlite(self.engine)
            meta = self._work(connection, job, tracker, write_separately=not holds_write_lock)
            finish_job(connection, job, meta, tracker.latest, utc_now())

    def _work(
        self, connection: Connection, job: Job, tracker: ProgressTracker, *, write_separately: bool
    ) -> Mapping[str, Any]:
        runner = self.runners.get(job.type)
        if runner is None:
            message = f"this service cannot run jobs of type {job.type!r}"
            raise JobFailed([JobErrorDetail(message=message, code="unsupported_job_type")])
        return runner(
            JobContext(
                job=job,
                settings=self.settings,
                report_progress=tracker,
                read_separately=(
                    (lambda: read_transaction(self.engine)) if is_sqlite(self.engine) else None
                ),
                write_separately=(
                    (lambda: write_transaction(self.engine)) if write_separately else None
                ),
            ),
            connection,
        )

    def _progress_writer(self, job: Job) -> Callable[[Progress], None] | None:
        """Where a job's progress goes besides memory: its row, for other processes."""
        if is_sqlite(self.engine):
            return None  # every reader is in this process, and the row may be behind a lock

        def write(progress: Progress) -> None:
            with write_transaction(self.engine) as connection:
                record_progress(connection, job, progress)

        return write

    def _crashed(self, job: Job, error: Exception, progress: Progress | None) -> str:
        logger.error("job %s (%s) crashed", job.id, job.type, exc_info=error)
        message = "the job stopped on an unexpected internal error; the server log has details"
        self._fail(job, [JobErrorDetail(message=message, code="internal_error")], {}, progress)
        return "failed"

    def _fail(
        self,
        job: Job,
        errors: list[JobErrorDetail],
        meta: Mapping[str, Any],
        progress: Progress | None,
        write_report: FailureReport | None = None,
    ) -> None:
        def record(connection: Connection) -> None:
            reported = _write_failure_report(connection, job, write_report)
            if fail_job(connection, job, errors, {**meta, **reported}, progress, utc_now()) is None:
                # Roll the report back with the rest: the job belongs to another worker now.
                raise LeaseLost(job.id)

        try:
            self._record(job, record)
        except LeaseLost:
            logger.warning("job %s: taken back before its failure could be recorded", job.id)

    def give_back(self, job: Job) -> None:
        """Requeue a job whose run ended in a way `run` did not foresee."""
        try:
            self._requeue(job, handed_back=False)
        except Exception:
            logger.exception("job %s: could not be requeued; it waits for recovery", job.id)

    def _stop(self, job: Job, progress: Progress | None) -> None:
        """End a job that was asked to stop, its work rolled back."""
        self._record(job, lambda connection: stop_job(connection, job, progress, utc_now()))

    def _requeue(self, job: Job, *, handed_back: bool) -> None:
        """Put the job back in its line."""
        self._record(
            job, lambda connection: requeue_job(connection, job, utc_now(), handed_back=handed_back)
        )

    def _record(self, job: Job, record: Callable[[Connection], object]) -> None:
        """Record what became of a job, trying until the database answers or the worker stops.

        While this worker's heartbeat goes on nobody else takes the job back, so giving up
        while the database is briefly away (a restart refuses new connections for a moment)
        would leave the job `started` for as long as the worker lives.
        """
        while True:
            try:
                with write_transaction(self.engine) as connection:
                    record(connection)
                return
            except DATABASE_ERRORS as error:
                if not is_transient(error) or self.stopping.wait(self.settings.worker_poll_seconds):
                    # Once this worker is gone, others take the job back after its silence.
                    logger.warning("job %s: could not be requeued (%s)", job.id, error)
                    return
                logger.warning("job %s: database unavailable (%s); trying again", job.id, error)


def _refused_upgrade(error: Exception) -> bool:
    """SQLite refused a reading transaction's first write (raised through SQLAlchemy or not)."""
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    return getattr(driver_error, "sqlite_errorcode", None) in SQLITE_REFUSED_UPGRADE


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
