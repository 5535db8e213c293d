"""What workers measure while they run jobs, for Prometheus to scrape.

The instruments live in prometheus_client's default registry: the `/metrics` of `pxm-jobs serve`
shows those of its embedded worker, and `pxm-jobs worker` serves its own when
PXM_WORKER_METRICS_PORT is set. Labels are the job type and the outcome, never the store, so
the number of series stays bounded however many stores there are.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

_SECONDS_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    900,
    3600,
)
_RATE_BUCKETS = (100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000)

PICKUP_LATENCY = Histogram(
    "pxm_jobs_pickup_latency_seconds",
    "Time from a job's creation to its first start.",
    ["type"],
    buckets=_SECONDS_BUCKETS,
)
RUN_TIME = Histogram(
    "pxm_jobs_run_seconds",
    "Time a worker spent running a job, by how the run ended.",
    ["type", "outcome"],
    buckets=_SECONDS_BUCKETS,
)
RECOVERED = Counter(
    "pxm_jobs_recovered",
    "Jobs taken back from a worker that stopped renewing their lease, by what became of them.",
    ["outcome"],
)
IMPORT_ROWS = Counter("pxm_jobs_import_rows", "CSV rows processed by product imports.")
IMPORT_ROWS_PER_SECOND = Histogram(
    "pxm_jobs_import_rows_per_second",
    "Rows per second of each finished product import.",
    buckets=_RATE_BUCKETS,
)


def record_pickup(job_type: str, waited_seconds: float) -> None:
    PICKUP_LATENCY.labels(type=job_type).observe(max(0.0, waited_seconds))


def record_run(job_type: str, outcome: str, seconds: float) -> None:
    RUN_TIME.labels(type=job_type, outcome=outcome).observe(seconds)


def record_recovery(outcome: str) -> None:
    RECOVERED.labels(outcome=outcome).inc()


def record_import(rows: int, seconds: float) -> None:
    IMPORT_ROWS.inc(rows)
    if rows and seconds > 0:
        IMPORT_ROWS_PER_SECOND.observe(rows / seconds)
