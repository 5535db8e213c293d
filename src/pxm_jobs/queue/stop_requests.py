"""Started jobs this process runs and was told to stop, for their runs to notice at a report.

The request itself is in the job's row (`cancel_requested_at`); this is how a worker thread
learns of it without a query per report. Requests arrive from the cancel of a request in this
process (SQLite), from the NOTIFY of a cancel in any process (PostgreSQL), and from the
worker's heartbeat, which looks in the rows for any request a lost notification did not bring.
Only jobs running here are kept, so requests for other processes' jobs leave nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

_running: set[str] = set()
_requested: set[str] = set()
_lock = threading.Lock()


def track_run(job_id: str) -> None:
    """The job starts running in this process."""
    with _lock:
        _running.add(job_id)


def end_run(job_id: str) -> None:
    with _lock:
        _running.discard(job_id)
        _requested.discard(job_id)


def ask_to_stop(job_ids: Iterable[str]) -> None:
    with _lock:
        _requested.update(job_id for job_id in job_ids if job_id in _running)


def stop_requested(job_id: str) -> bool:
    with _lock:
        return job_id in _requested
