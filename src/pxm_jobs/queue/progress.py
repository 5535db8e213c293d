"""How far running jobs have got.

Progress lives in memory first: the API of the same process reads it from here, and on SQLite
a job's own transaction may hold the write lock, so it could not be written until the job ends.
On PostgreSQL it is also written to the job's row for other processes to see, at most once a
second and not at all in a job's first second: most jobs end sooner, and their last progress is
written with their end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pxm_jobs.queue.runner import JobCancelled, JobInterrupted
from pxm_jobs.queue.stop_requests import stop_requested

PROGRESS_WRITE_INTERVAL_SECONDS = 1.0

Progress = tuple[int, int | None]

_board: dict[str, Progress] = {}
_board_lock = threading.Lock()


def read_live_progress(job_id: str) -> Progress | None:
    with _board_lock:
        return _board.get(job_id)


def forget_progress(job_id: str) -> None:
    with _board_lock:
        _board.pop(job_id, None)


class ProgressTracker:
    """Takes every report of a job, keeps the newest and publishes it at a bounded rate.

    A report is also where the job learns that it must stop: its worker is stopping
    (`interrupted`), or someone cancelled it while it ran (`stop_requests`).
    """

    def __init__(
        self,
        job_id: str,
        publish: Callable[[Progress], None] | None,
        interrupted: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._job_id = job_id
        self._publish = publish
        self._interrupted = interrupted
        self._clock = clock
        self._published_at = clock()
        self.latest: Progress | None = None

    def __call__(self, processed: int, total: int | None) -> None:
        if self._interrupted is not None and self._interrupted.is_set():
            raise JobInterrupted(self._job_id)
        if stop_requested(self._job_id):
            raise JobCancelled(self._job_id)
        self.latest = (processed, total)
        with _board_lock:
            _board[self._job_id] = self.latest
        now = self._clock()
        if (
            self._publish is not None
            and now - self._published_at >= PROGRESS_WRITE_INTERVAL_SECONDS
        ):
            self._published_at = now
            self._publish(self.latest)
