"""Doing one job's work, and recording why it stopped when it did not succeed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.progress import Progress, ProgressTracker
from pxm_jobs.queue.runner import FailureReport, JobContext, JobFailed, RunnerRegistry
from pxm_jobs.queue.transitions import LeaseLost, fail_job, record_progress
from pxm_jobs.store.engine import write_transaction

logger = logging.getLogger(__name__)


def do_work(
    connection: Connection,
    job: Job,
    runners: RunnerRegistry,
    settings: Settings,
    tracker: ProgressTracker,
) -> Mapping[str, Any]:
    """Do the job's work on `connection`; the meta to finish it with."""
    runner = runners.get(job.type)
    if runner is None:
        message = f"this service cannot run jobs of type {job.type!r}"
        raise JobFailed([JobErrorDetail(message=message, code="unsupported_job_type")])
    context = JobContext(job=job, settings=settings, report_progress=tracker)
    meta = runner(context, connection)
    if tracker.latest is not None:
        record_progress(connection, job, *tracker.latest)
    return meta


def record_stop(engine: Engine, job: Job, error: Exception, tracker: ProgressTracker) -> str:
    """Record why a job's run stopped short of success; the outcome, for the metrics."""
    if isinstance(error, JobFailed):
        _fail(
            engine,
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
    _fail(engine, job, [JobErrorDetail(message=message, code="internal_error")], {})
    return "failed"


def progress_writer(engine: Engine, job: Job) -> Callable[[int, int | None], None] | None:
    """Where a job's progress goes besides memory: its row, for other processes (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        return None

    def write(processed: int, total: int | None) -> None:
        with write_transaction(engine) as connection:
            record_progress(connection, job, processed, total)

    return write


def _fail(
    engine: Engine,
    job: Job,
    errors: list[JobErrorDetail],
    meta: Mapping[str, Any],
    *,
    write_report: FailureReport | None = None,
    progress: Progress | None = None,
) -> None:
    try:
        with write_transaction(engine) as connection:
            reported = _write_failure_report(connection, job, write_report)
            if progress is not None:
                record_progress(connection, job, *progress)
            if fail_job(connection, job, errors, {**meta, **reported}, utc_now()) is None:
                # Roll the report back with the rest: the job belongs to another worker now.
                raise LeaseLost(job.id)
    except LeaseLost:
        logger.warning("job %s: lease lost before its failure could be recorded", job.id)


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
