"""Progress reports: kept in memory at once, written for other processes at a bounded rate."""

from __future__ import annotations

import threading

import pytest

from pxm_jobs.queue.progress import (
    PROGRESS_WRITE_INTERVAL_SECONDS,
    Progress,
    ProgressTracker,
    forget_progress,
    read_live_progress,
)
from pxm_jobs.queue.runner import JobInterrupted


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_written_in_a_jobs_first_second_then_at_most_once_a_second() -> None:
    clock = Clock()
    written: list[Progress] = []
    tracker = ProgressTracker("job-1", written.append, clock=clock)
    try:
        tracker(1, 10)
        clock.now += PROGRESS_WRITE_INTERVAL_SECONDS / 2
        tracker(2, 10)
        assert written == [], "a job that ends within a second writes no progress row"
        assert read_live_progress("job-1") == (2, 10), "this process sees it at once"
        clock.now += PROGRESS_WRITE_INTERVAL_SECONDS / 2
        tracker(3, 10)
        tracker(4, 10)
        assert written == [(3, 10)]
        clock.now += PROGRESS_WRITE_INTERVAL_SECONDS
        tracker(5, 10)
        assert written == [(3, 10), (5, 10)]
        assert tracker.latest == (5, 10)
    finally:
        forget_progress("job-1")


def test_a_report_is_where_a_job_learns_it_must_stop() -> None:
    interrupted = threading.Event()
    tracker = ProgressTracker("job-2", None, interrupted)
    tracker(1, None)
    interrupted.set()
    with pytest.raises(JobInterrupted):
        tracker(2, None)
    assert tracker.latest == (1, None)
    forget_progress("job-2")
