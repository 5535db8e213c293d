"""What a job type declares in one place: how it runs, how it is retried, what it shows.

Each module of this package defines one `JobKind` and the function that turns a checked
request into the job to queue. The queue runs a kind's `run`; the Jobs API asks the kind for a
retry's job and for the meta the job shows on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import Connection

from pxm_jobs.queue.idempotency import fingerprint_request
from pxm_jobs.queue.lifecycle import NewJob
from pxm_jobs.queue.models import Job, JobType
from pxm_jobs.queue.runner import JobRunner


class FileLinks(Protocol):
    """Mints a download link for a file a job stored (the API's signed links)."""

    def url_for(self, file_id: str, name: str) -> str: ...


class JobRequestRejected(Exception):
    """A job cannot be queued as asked; `detail` says why, in words a person can act on."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class JobRequest:
    """A checked request: the job to queue, and what was asked (an Idempotency-Key's digest)."""

    new: NewJob
    asked: Mapping[str, Any]

    def keyed(self, key: str | None) -> NewJob:
        """The job to queue, carrying the caller's Idempotency-Key and the request's digest."""
        if key is None:
            return self.new
        fingerprint = fingerprint_request(self.new.type, dict(self.asked))
        return replace(self.new, idempotency_key=key, fingerprint=fingerprint)


@dataclass(frozen=True)
class JobKind:
    type: JobType
    # The work, in the transaction that also marks the job done.
    run: JobRunner
    # The job that does again what a failed or cancelled one was asked to do, from its stored
    # input; raises JobRequestRejected when that is no longer possible.
    retry: Callable[[Connection, Job], NewJob]
    # The job's own keys of `meta` on the wire, with fresh download links when `links` is given.
    wire_meta: Callable[[Job, FileLinks | None], dict[str, Any]]


def as_retry(job: Job, job_input: Mapping[str, Any], meta: Mapping[str, Any]) -> NewJob:
    """A new job of `job`'s store and type, with the given input and meta."""
    return NewJob(
        store_id=job.store_id,
        type=job.type,
        input=dict(job_input),
        meta=dict(meta),
        file_id=job.file_id,
    )
