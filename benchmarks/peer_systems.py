"""The peers pxm-jobs drains against, each keeping one job at a time per store its own way.

- Procrastinate: a `lock` per store.
- graphile-worker: a named queue (`queueName`) per store, `concurrency` jobs per process.
- pg-boss: the `key_strict_fifo` queue policy with the store as the key, one `send` per job.

The Node peers live in `benchmarks/peers/` (package.json and its lock), with the Node 22 they
need installed there as a package; `make bench` runs `npm ci` in that folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import LiteralString

import psycopg

from benchmarks.drains import CreationOrder, Workload
from benchmarks.noop_worker import NOOP_JOB
from tests.databases import POSTGRES_ADMIN_URL, postgres_database_url

PEERS = Path(__file__).resolve().parent / "peers"
NODE = PEERS / "node_modules" / ".bin" / "node"
# pxm-jobs workers fall back to polling once a second; the peers get the same fallback.
DEFAULT_POLL_SECONDS = 1.0


@contextmanager
def empty_database() -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"pxm_jobs_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_database_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def counting(database_url: str, query: LiteralString) -> Iterator[Callable[[], int]]:
    with psycopg.connect(database_url, autocommit=True) as connection:

        def count() -> int:
            row = connection.execute(query).fetchone()
            return int(row[0]) if row is not None else 0

        yield count


def node_script(script: str, *arguments: str) -> list[str]:
    if not NODE.exists():
        raise SystemExit(f"no Node in {PEERS}: run `npm ci` there (`make bench` does)")
    return [str(NODE), str(PEERS / script), *arguments]


def queue_with_node(script: str, database_url: str, workload: Workload) -> CreationOrder:
    """Run the script's `queue` step, which writes the jobs' creation order to a file."""
    with tempfile.TemporaryDirectory() as folder:
        order_file = Path(folder) / "order.json"
        arguments = (str(workload.jobs), str(workload.stores), str(order_file))
        subprocess.run(node_script(script, "queue", database_url, *arguments), check=True)
        return [(str(job_id), str(store)) for job_id, store in json.loads(order_file.read_text())]


# -- Procrastinate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Procrastinate:
    poll_seconds: float = DEFAULT_POLL_SECONDS
    name: str = "procrastinate"

    @property
    def settings(self) -> str:
        return f"lock per store, {self.poll_seconds:g} s poll"

    def fresh_database(self) -> AbstractContextManager[str]:
        return empty_database()

    def queue_jobs(self, database_url: str, workload: Workload) -> CreationOrder:
        from benchmarks.procrastinate_worker import make_app

        app = make_app(database_url)
        with app.open():
            app.schema_manager.apply_schema()
            noop = app.tasks[NOOP_JOB]
            # One INSERT; ids are serial, and jobs of a lock run in id order.
            batch = [
                noop.configure(lock=f"store-{n % workload.stores}").job
                for n in range(workload.jobs)
            ]
            app.job_manager.batch_defer_jobs(batch)
        with psycopg.connect(database_url) as connection:
            rows = connection.execute("SELECT id, lock FROM procrastinate_jobs ORDER BY id")
            return [(str(job_id), str(lock)) for job_id, lock in rows]

    def worker_command(self, database_url: str, run_log: Path, workload: Workload) -> list[str]:
        return [
            sys.executable,
            "-m",
            "benchmarks.procrastinate_worker",
            database_url,
            str(run_log),
            "--concurrency",
            str(workload.concurrency),
            "--poll",
            str(self.poll_seconds),
        ]

    def count_left(self, database_url: str) -> AbstractContextManager[Callable[[], int]]:
        return counting(
            database_url, "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'"
        )


# -- graphile-worker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphileWorker:
    poll_seconds: float = DEFAULT_POLL_SECONDS
    # Its default, -1, is off; a size above 1 has the pool fetch and lock that many jobs at once.
    # Before 0.18 a batch could hold two jobs of one named queue and run them side by side.
    local_queue_size: int = -1
    name: str = "graphile-worker"

    @property
    def settings(self) -> str:
        local_queue = (
            "local queue off (its default; --graphile-local-queue N turns it on)"
            if self.local_queue_size < 2
            else f"local queue of {self.local_queue_size}"
        )
        return f"queueName per store, {local_queue}, {self.poll_seconds:g} s poll"

    def fresh_database(self) -> AbstractContextManager[str]:
        return empty_database()

    def queue_jobs(self, database_url: str, workload: Workload) -> CreationOrder:
        return queue_with_node("graphile_worker.mjs", database_url, workload)

    def worker_command(self, database_url: str, run_log: Path, workload: Workload) -> list[str]:
        return node_script(
            "graphile_worker.mjs",
            "work",
            database_url,
            str(run_log),
            str(workload.concurrency),
            str(self.poll_seconds),
            str(self.local_queue_size),
        )

    def count_left(self, database_url: str) -> AbstractContextManager[Callable[[], int]]:
        # graphile-worker deletes a job once it has succeeded.
        return counting(database_url, "SELECT count(*) FROM graphile_worker._private_jobs")


# -- pg-boss -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgBoss:
    poll_seconds: float = DEFAULT_POLL_SECONDS
    batch_size: int = 2
    name: str = "pg-boss"

    @property
    def settings(self) -> str:
        return (
            f"key_strict_fifo with the store as key, batchSize {self.batch_size} with burst mode "
            f"(its default waits out the poll after every fetch), {self.poll_seconds:g} s poll"
        )

    def fresh_database(self) -> AbstractContextManager[str]:
        return empty_database()

    def queue_jobs(self, database_url: str, workload: Workload) -> CreationOrder:
        return queue_with_node("pg_boss.mjs", database_url, workload)

    def worker_command(self, database_url: str, run_log: Path, workload: Workload) -> list[str]:
        # As many jobs in hand per process as the other systems have slots.
        fetchers = max(1, workload.concurrency // self.batch_size)
        return node_script(
            "pg_boss.mjs",
            "work",
            database_url,
            str(run_log),
            str(fetchers),
            str(self.batch_size),
            str(self.poll_seconds),
        )

    def count_left(self, database_url: str) -> AbstractContextManager[Callable[[], int]]:
        return counting(database_url, "SELECT count(*) FROM pgboss.job WHERE state <> 'completed'")
