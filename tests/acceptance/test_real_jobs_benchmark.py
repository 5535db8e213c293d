"""The real-jobs benchmark, small: its HTTP-created jobs all drain and none fails.

No speed is asserted (the machine may be busy); the benchmark itself prints the speed.
"""

from __future__ import annotations

import pytest

from benchmarks.real_jobs import WORKLOADS, drain_once


@pytest.mark.slow
@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_benchmark_drains_every_job_it_creates(postgres_url: str, workload: str) -> None:
    # `postgres_url` only makes sure a server answers; the benchmark makes its own databases.
    drain = drain_once(workload, jobs=24, stores=4, workers=2)
    assert drain.failed == 0
    assert drain.draining_seconds > 0
    assert drain.worker_cpu_ms_per_job > 0
