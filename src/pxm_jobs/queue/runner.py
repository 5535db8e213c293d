"""The contract between the queue and the code that does a job's work."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.queue.models import Job


class ProgressReporter(Protocol):
    """Called by a job as it goes: `processed` of `total` (None while not known yet).

    It is also where a job stops early: when the worker must stop, the call raises
    `JobInterrupted`, and the job's transaction is rolled back.
    """

    def __call__(self, processed: int, total: int | None) -> None: ...


@dataclass(frozen=True)
class JobContext:
    """What a running job may use besides its connection."""

    job: Job
    settings: Settings
    report_progress: ProgressReporter
    # A read-only transaction on a connection of its own, for a job that reads much before it
    # writes a little (an export): on SQLite the job's own transaction then takes the write
    # lock only for its writes, and other stores' writes go on while it reads. None: read on
    # the job's connection, as on PostgreSQL, where reading there holds up nobody.
    read_separately: Callable[[], AbstractContextManager[Connection]] | None = None
    # A short write transaction of its own, committed as the block ends, for what a job stores
    # before its end (an export's parts): on SQLite the write lock is then held a part at a
    # time, and other stores' writes go on between parts. What it commits stays if the job
    # then fails, so it must be harmless alone (files nobody links to, that expire soon).
    # None: write on the job's connection.
    write_separately: Callable[[], AbstractContextManager[Connection]] | None = None


class JobRunner(Protocol):
    """Does a job's work on `connection`, inside the transaction that will also mark it done.

    Returns meta keys to merge into the job on success, or raises `JobFailed`.
    The runner never commits: the queue commits its effects together with `success`.
    """

    def __call__(self, context: JobContext, connection: Connection) -> Mapping[str, Any]: ...


# Writes what helps a person fix a failed job (say, a file of its rejected rows) in the
# transaction that records the failure, after the job's own effects were rolled back; returns
# meta keys to add to the job.
FailureReport = Callable[[Connection], Mapping[str, Any]]


class JobFailed(Exception):
    """The job cannot succeed; its effects are rolled back and these errors recorded."""

    def __init__(
        self,
        errors: Sequence[JobErrorDetail],
        meta: Mapping[str, Any] | None = None,
        *,
        write_report: FailureReport | None = None,
    ):
        super().__init__(errors[0].message if errors else "job failed")
        self.errors = list(errors)
        self.meta = dict(meta or {})
        self.write_report = write_report


class JobInterrupted(Exception):
    """The worker is stopping: the job stops where it is, and its effects are rolled back."""


class JobCancelled(Exception):
    """The job was asked to stop: it stops where it is, and its effects are rolled back."""


RunnerRegistry = Mapping[str, JobRunner]
