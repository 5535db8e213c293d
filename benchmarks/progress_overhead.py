"""What reporting progress costs an import: the same 50,000-row import with and without it.

    python -m benchmarks.progress_overhead [--rows 49999] [--rounds 3] [--database D]

"Tracked" runs the import as the worker does: every report goes to the in-memory board, and on
PostgreSQL at most once a second to the job row, in a transaction of its own. "Silent" drops
every report. Each round runs both, into new stores, in alternating order; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from sqlalchemy import Engine

from benchmarks.harness import DATABASES, fresh_engine
from benchmarks.import_speed import generate_csv
from pxm_jobs.catalog.products.csv_import import import_products
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.lifecycle import NewJob, claim_job, enqueue_job, record_progress
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.progress import ProgressTracker
from pxm_jobs.store.engine import write_transaction
from tests.factories import make_stores

Reporter = Callable[[int, int | None], None]


def started_job(engine: Engine, store_id: str) -> Job:
    with write_transaction(engine) as connection:
        enqueue_job(connection, NewJob(store_id, "product-import", {}, {}), utc_now())
    with write_transaction(engine) as connection:
        job = claim_job(connection, "bench", utc_now())
    assert job is not None
    return job


def tracker_for(engine: Engine, job: Job) -> Reporter:
    if engine.dialect.name != "postgresql":
        return ProgressTracker(job.id, None)

    def publish(progress: tuple[int, int | None]) -> None:
        with write_transaction(engine) as connection:
            record_progress(connection, job, progress)

    return ProgressTracker(job.id, publish)


def timed_import(engine: Engine, content: bytes, tracked: bool) -> float:
    [store_id] = make_stores(engine, 1)
    job = started_job(engine, store_id)
    report: Reporter = tracker_for(engine, job) if tracked else (lambda processed, total: None)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    began = time.perf_counter()
    with write_transaction(engine) as connection:
        result = import_products(
            connection,
            store_id=store_id,
            chunks=[content],
            settings=settings,
            dry_run=False,
            report_progress=report,
            total_rows=content.count(b"\n") - 1,
        )
    elapsed = time.perf_counter() - began
    assert result.created > 0
    return elapsed


def run(database: str, rows: int, rounds: int) -> str:
    content = generate_csv(rows)
    with fresh_engine(database) as engine:
        timed_import(engine, content, tracked=False)  # warm caches and the file system
        silent, tracked = [], []
        for round_ in range(rounds):
            # The table grows with every import: alternate who goes first, so neither always
            # runs on the bigger table.
            for is_tracked in (False, True) if round_ % 2 == 0 else (True, False):
                times = tracked if is_tracked else silent
                times.append(timed_import(engine, content, tracked=is_tracked))
    quiet, reported = statistics.median(silent), statistics.median(tracked)
    return (
        f"{database}: {rows:,}-row import, median of {rounds}: silent {quiet:.2f} s, "
        f"with progress {reported:.2f} s ({(reported / quiet - 1) * 100:+.1f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=49_999)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=DATABASES, action="append")
    arguments = parser.parse_args()
    for database in arguments.database or DATABASES:
        print(run(database, arguments.rows, arguments.rounds), flush=True)


if __name__ == "__main__":
    main()
