"""The jobs a worker holds: claimed by it, running or about to, their leases its to renew."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from pxm_jobs.queue.models import Job


class HeldJobs:
    """Shared by a worker's job threads, which add and drop jobs, and its housekeeping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Job] = {}

    def add(self, jobs: Iterable[Job]) -> None:
        with self._lock:
            self._by_id.update((job.id, job) for job in jobs)

    def drop(self, job: Job) -> None:
        with self._lock:
            self._by_id.pop(job.id, None)

    def holds(self, job: Job) -> bool:
        with self._lock:
            return job.id in self._by_id

    def snapshot(self) -> list[Job]:
        with self._lock:
            return list(self._by_id.values())
