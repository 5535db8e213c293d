"""The queue-alone benchmark's harness, run small for pxm-jobs alone: its rule check holds.

`make bench` runs the same harness at full size against the peers; here only pxm-jobs drains,
so the suite needs none of them. Nothing here is timed.
"""

from __future__ import annotations

from benchmarks.drains import PXM_JOBS, Workload, drain

WORKLOAD = Workload(jobs=60, stores=5, workers=2, concurrency=2)


def test_two_worker_processes_drain_every_store_one_job_at_a_time_in_order(
    database_url: str,
) -> None:
    result = drain(PXM_JOBS, database_url, WORKLOAD)

    assert result.problems == []
    runs = [run for worker_runs in result.runs_per_worker for run in worker_runs]
    assert len(runs) == WORKLOAD.jobs
    assert len({store for _, store, _, _ in runs}) == WORKLOAD.stores
    assert result.jobs_without_start_up <= WORKLOAD.jobs
