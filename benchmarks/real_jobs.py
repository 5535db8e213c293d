"""Real small jobs, created over HTTP and drained by `pxm-jobs worker` processes, on PostgreSQL.

    python -m benchmarks.real_jobs [--jobs 2000 --stores 20 --workers 2 --rounds 3]
        [--workload exports|imports|both]

What a user runs: a `pxm-jobs serve --no-worker` API, stores with their own keys, and jobs
created with the public API (`POST /pcm/products/export` of an empty store, or
`POST /pcm/products/import` of a three-row CSV), dealt round-robin over the stores. The jobs
are all created first, with no worker running; then `--workers` real `pxm-jobs worker`
processes start and drain them. Each round gets a fresh database.

Printed per workload, medians over the rounds:
- jobs/s while draining (first start to last completion, from the jobs' own rows) and with
  the workers' start-up (from launching them to the last completion);
- per job: the wall time a worker thread spends running it (the workers' own
  `pxm_jobs_run_seconds`), the time a job thread spends between jobs (claim, commit, wake-up),
  and CPU-ms of the worker processes and of the PostgreSQL backends serving them;
- the ratio of jobs/s while draining to TARGET_JOBS_PER_SECOND.
The creation rate over HTTP is printed too, as it is what a client sees when it queues.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine, write_transaction
from pxm_jobs.tenancy.stores import create_store
from tests.acceptance.service import free_port, service_environment, wait_until_serving
from tests.databases import fresh_postgres_database
from tests.product_files import products_csv

TARGET_JOBS_PER_SECOND = 500.0
CREATING_CLIENTS = 8
DRAIN_TIMEOUT_SECONDS = 600.0
METRICS_TIMEOUT_SECONDS = 120.0
# Only decides when to look at the result: the figures come from the jobs' own rows.
DONE_POLL_SECONDS = 0.1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WORKLOADS = ("exports", "imports")


@dataclass(frozen=True)
class Store:
    store_id: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Drain:
    jobs: int
    created_per_second: float
    draining_seconds: float
    with_startup_seconds: float
    run_ms_per_job: float
    between_jobs_ms_per_job: float
    worker_cpu_ms_per_job: float
    database_cpu_ms_per_job: float  # every backend of the database, the API's included
    api_cpu_ms_per_job: float  # the API process, while the jobs drain
    failed: int

    @property
    def draining_rate(self) -> float:
        return self.jobs / self.draining_seconds

    @property
    def with_startup_rate(self) -> float:
        return self.jobs / self.with_startup_seconds


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backend_pids(admin_url: str, database: str) -> list[int]:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def database_cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """CPU time of those backends still alive (backends of other databases are not counted)."""
    found: dict[int, float] = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def make_stores(database_url: str, count: int) -> list[Store]:
    engine = make_engine(Settings(database_url=database_url))
    stores = []
    with write_transaction(engine) as connection:
        for n in range(count):
            made = create_store(connection, f"bench-{n}")
            stores.append(Store(made.store_id, made.client_id, made.client_secret))
    engine.dispose()
    return stores


def sign_in(base_url: str, store: Store) -> httpx.Client:
    http = httpx.Client(base_url=base_url, timeout=60)
    answer = http.post(
        "/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": store.client_id,
            "client_secret": store.client_secret,
        },
    )
    answer.raise_for_status()
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return http


def create_job(http: httpx.Client, workload: str, n: int) -> None:
    if workload == "exports":
        answer = http.post("/pcm/products/export")
    else:
        content = products_csv(3, prefix=f"bench-{n}")
        answer = http.post("/pcm/products/import", files={"file": ("p.csv", content, "text/csv")})
    if answer.status_code != 201:
        raise RuntimeError(f"creating a job answered {answer.status_code}: {answer.text}")


def create_jobs(base_url: str, stores: Sequence[Store], workload: str, count: int) -> float:
    """Create `count` jobs over HTTP, round-robin over the stores; jobs created per second."""
    clients = [sign_in(base_url, store) for store in stores]
    began = time.monotonic()
    # Creation order within a store is kept: a store's jobs go to one client thread at a time.
    with ThreadPoolExecutor(CREATING_CLIENTS) as pool:
        list(
            pool.map(
                lambda n: create_job(clients[n % len(clients)], workload, n),
                range(count),
            )
        )
    elapsed = time.monotonic() - began
    for http in clients:
        http.close()
    return count / elapsed


@contextmanager
def process(
    arguments: Sequence[str], environment: dict[str, str], log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log = (log_dir / f"{arguments[0]}-{time.monotonic_ns()}.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "pxm_jobs", *arguments],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    child.log_path = log.name  # type: ignore[attr-defined]
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.close()


def metrics_of(metrics_port: int, worker: subprocess.Popen[bytes]) -> str:
    """A worker's metrics page, once it serves one.

    A worker that is still starting when the others have drained every job (a small drain on
    a busy machine) has no metrics server yet: it is waited for, not taken for a failure.
    """
    deadline = time.monotonic() + METRICS_TIMEOUT_SECONDS
    while True:
        if worker.poll() is not None:
            output = Path(worker.log_path).read_text()  # type: ignore[attr-defined]
            raise RuntimeError(f"a worker exited with {worker.returncode}:\n{output}")
        try:
            return httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(DONE_POLL_SECONDS)


def run_seconds_of(metrics_port: int, worker: subprocess.Popen[bytes]) -> float:
    """The sum of a worker's `pxm_jobs_run_seconds` over every job type and outcome."""
    text = metrics_of(metrics_port, worker)
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("pxm_jobs_run_seconds_sum")
    )


def job_times(database_url: str) -> tuple[int, int, float, float]:
    """(finished, failed, first start, last completion) of the database's jobs, in epoch s."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FILTER (WHERE status IN ('success', 'failed', 'cancelled')),"
            " count(*) FILTER (WHERE status = 'failed'),"
            " extract(epoch FROM min(started_at)), extract(epoch FROM max(completed_at))"
            " FROM jobs"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), float(row[2] or 0), float(row[3] or 0)


def wait_for_drain(database_url: str, jobs: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while job_times(database_url)[0] < jobs:
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not drain the queue in time")
        time.sleep(DONE_POLL_SECONDS)


def drain_once(workload: str, jobs: int, stores: int, workers: int) -> Drain:
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_database())
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = database_url.rsplit("/", 1)[1]
        admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
        made = make_stores(database_url, stores)
        port = free_port()
        environment = service_environment(database_url, PXM_PORT=str(port))
        api = stack.enter_context(process(["serve", "--no-worker"], environment, log_dir))
        base_url = f"http://127.0.0.1:{port}"
        wait_until_serving(base_url, api)  # type: ignore[arg-type]
        created_rate = create_jobs(base_url, made, workload, jobs)

        metrics_ports = [free_port() for _ in range(workers)]
        before_backends = set(backend_pids(admin_url, database))
        # The API's process and backends stay up: only what they spend while jobs drain counts.
        api_cpu_before = cpu_seconds(api.pid)
        api_backends_before = database_cpu_seconds(sorted(before_backends))
        launched = time.time()
        children = [
            stack.enter_context(
                process(
                    ["worker"],
                    {**environment, "PXM_WORKER_METRICS_PORT": str(metrics_port)},
                    log_dir,
                )
            )
            for metrics_port in metrics_ports
        ]
        wait_for_drain(database_url, jobs)
        worker_cpu = sum(cpu_seconds(child.pid) for child in children)
        api_cpu = cpu_seconds(api.pid) - api_cpu_before
        api_backends_after = database_cpu_seconds(sorted(api_backends_before))
        backends = [pid for pid in backend_pids(admin_url, database) if pid not in before_backends]
        database_cpu = sum(database_cpu_seconds(backends).values()) + sum(
            api_backends_after[pid] - api_backends_before[pid] for pid in api_backends_after
        )
        run_seconds = sum(
            run_seconds_of(port, child) for port, child in zip(metrics_ports, children, strict=True)
        )
        _, failed, first_start, last_completion = job_times(database_url)
        threads = workers * Settings().worker_concurrency_for("postgresql")
        draining = last_completion - first_start
    return Drain(
        jobs=jobs,
        created_per_second=created_rate,
        draining_seconds=draining,
        with_startup_seconds=last_completion - launched,
        run_ms_per_job=1000 * run_seconds / jobs,
        between_jobs_ms_per_job=1000 * (threads * draining - run_seconds) / jobs,
        worker_cpu_ms_per_job=1000 * worker_cpu / jobs,
        database_cpu_ms_per_job=1000 * database_cpu / jobs,
        api_cpu_ms_per_job=1000 * api_cpu / jobs,
        failed=failed,
    )


def describe(workload: str, drains: Sequence[Drain], stores: int, workers: int) -> str:
    def median(values: Iterator[float]) -> float:
        return statistics.median(list(values))

    draining = median(d.draining_rate for d in drains)
    with_startup = median(d.with_startup_rate for d in drains)
    failed = sum(d.failed for d in drains)
    return (
        f"real jobs, {workload} ({drains[0].jobs} over {stores} stores, {workers} workers, "
        f"median of {len(drains)}): {draining:.0f} jobs/s draining, "
        f"{with_startup:.0f} jobs/s with start-up; "
        f"per job {median(d.run_ms_per_job for d in drains):.2f} ms running + "
        f"{median(d.between_jobs_ms_per_job for d in drains):.2f} ms between jobs per thread, "
        f"CPU {median(d.worker_cpu_ms_per_job for d in drains):.2f} ms workers + "
        f"{median(d.database_cpu_ms_per_job for d in drains):.2f} ms PostgreSQL + "
        f"{median(d.api_cpu_ms_per_job for d in drains):.2f} ms API; "
        f"created over HTTP at {median(d.created_per_second for d in drains):.0f} jobs/s; "
        f"{failed} failed; ratio to the {TARGET_JOBS_PER_SECOND:.0f} jobs/s target "
        f"{draining / TARGET_JOBS_PER_SECOND:.2f}x"
    )


def run(workload: str, jobs: int, stores: int, workers: int, rounds: int) -> str:
    drains = [drain_once(workload, jobs, stores, workers) for _ in range(rounds)]
    return describe(workload, drains, stores, workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workload", choices=(*WORKLOADS, "both"), default="both")
    args = parser.parse_args()
    chosen = WORKLOADS if args.workload == "both" else (args.workload,)
    for workload in chosen:
        print(run(workload, args.jobs, args.stores, args.workers, args.rounds), flush=True)


if __name__ == "__main__":
    main()
