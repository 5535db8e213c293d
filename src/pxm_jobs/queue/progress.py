"""How far running jobs have got.

Progress lives in memory first: a job's own transaction holds SQLite's write lock, so it cannot
be written there until the job ends; the API of the same process reads it from here. On
PostgreSQL it is also written to the job row, at most once a second, for other processes to see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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
    """Takes every report of a job, keeps the newest and publishes it at a bounded rate."""

    def __init__(self, job_id: str, publish: Callable[[int, int | None], None] | None) -> None:
        self._job_id = job_id
        self._publish = publish
        self._published_at = 0.0
        self.latest: Progress | None = None

    def __call__(self, processed: int, total: int | None) -> None:
        self.latest = (processed, total)
        with _board_lock:
            _board[self._job_id] = self.latest
        now = time.monotonic()
        if (
            self._publish is not None
            and now - self._published_at >= PROGRESS_WRITE_INTERVAL_SECONDS
        ):
            self._published_at = now
            self._publish(processed, total)
