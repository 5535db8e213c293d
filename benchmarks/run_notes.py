"""The notes each no-op job makes of its run, and the one-at-a-time rule checked from them.

Every system's job notes when it began and ended on the machine's monotonic clock (Python's
`time.monotonic()`; the Node peers read the same clock), so notes from every process compare.
The notes stay in memory and are written as JSON when the worker process is stopped, so
checking the rule costs no queue a database write while it is being timed.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

# (job id, store, began, ended) for one run of a job.
Run = tuple[str, str, float, float]

_runs: list[Run] = []
_runs_lock = threading.Lock()


def note_run(job_id: str, store: str, began: float) -> None:
    """Note a run that began at `began` and ends now."""
    keep_run(job_id, store, began, time.monotonic())


def keep_run(job_id: str, store: str, began: float, ended: float) -> None:
    with _runs_lock:
        _runs.append((job_id, store, began, ended))


def write_run_log(path: Path) -> None:
    with _runs_lock:
        path.write_text(json.dumps(_runs))


def read_run_log(path: Path) -> list[Run]:
    return [
        (str(job), str(store), float(began), float(ended))
        for job, store, began, ended in json.loads(path.read_text())
    ]


def find_rule_breaks(creation_order: Sequence[tuple[str, str]], runs: Sequence[Run]) -> list[str]:
    """Every job that did not run exactly once, or began before its store's previous job ended.

    `creation_order` is (job id, store) for every job, earliest created first. A job that began
    before the previous job of its store ended either overlapped it or overtook it.
    """
    problems: list[str] = []
    times_run = Counter(job_id for job_id, _, _, _ in runs)
    times = {job_id: (began, ended) for job_id, _, began, ended in runs}
    previous: dict[str, str] = {}
    for job_id, store in creation_order:
        if times_run[job_id] != 1:
            problems.append(f"job {job_id} ran {times_run[job_id]} times")
            continue
        before = previous.get(store)
        if before is not None and times[job_id][0] < times[before][1]:
            gap_ms = (times[before][1] - times[job_id][0]) * 1000
            problems.append(
                f"store {store}: job {job_id} began {gap_ms:.1f} ms before the end of {before}, "
                "created before it"
            )
        previous[store] = job_id
    known = {job_id for job_id, _ in creation_order}
    problems.extend(f"job {job_id} ran but was never queued" for job_id in times_run.keys() - known)
    return problems
