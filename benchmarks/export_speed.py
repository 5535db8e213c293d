"""Product export jobs against a floor measured in the same run, and their memory at two sizes.

    python -m benchmarks.export_speed [--products 100000] [--database D] [--repeats 3]

A store of `--products` products (distinct creation times, descriptions with commas and quotes,
tags on a third of them) is exported by the real worker code path: claim the `product-export`
job, run it, commit its CSV parts with `success`. The floor selects the same columns of the same
rows in the same order straight through the driver (a server-side cursor on PostgreSQL) and
writes them with `csv.writer`, encoding as it goes, but stores nothing. Times are medians of
`--repeats` runs, floor and job alternating; each job's files are deleted before the next run.

Memory is the peak of Python allocations (tracemalloc) while the job runs, for a store of half
the products and for the full store: flat means the two are about the same.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import time
import tracemalloc
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert

from benchmarks.harness import DATABASES, fresh_engine
from pxm_jobs.catalog.products.product_ids import new_product_ids
from pxm_jobs.catalog.products.queries import PRODUCT_COLUMNS, insert_products
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.reads import get_job
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import blob_chunks, blobs, stores

TARGET_RATIO = 2.0
SEED_BATCH = 10_000
FLOOR_FETCH_ROWS = 2000
FLOOR_FLUSH_CHARS = 256 * 1024
MEGABYTE = 1024 * 1024
# What the export writes, in its order: the import's columns, then the two timestamps.
FLOOR_COLUMNS = (
    "id, external_ref, name, description, slug, status, commodity_type, sku, upc_ean, mpn, "
    "tags, main_image_id, created_at, updated_at"
)


def add_store(engine: Engine, name: str) -> str:
    store_id = str(uuid.uuid4())
    with write_transaction(engine) as connection:
        connection.execute(insert(stores).values(id=store_id, name=name, created_at=utc_now()))
    return store_id


def seed_products(engine: Engine, store_id: str, count: int) -> None:
    start = utc_now() - timedelta(days=30)
    for first in range(0, count, SEED_BATCH):
        numbers = range(first, min(count, first + SEED_BATCH))
        ids = new_product_ids(len(numbers))
        rows = [
            _product(store_id, product_id, n, start)
            for product_id, n in zip(ids, numbers, strict=True)
        ]
        with write_transaction(engine) as connection:
            insert_products(connection, rows)


def _product(store_id: str, product_id: str, n: int, start: Any) -> dict[str, Any]:
    moment = start + timedelta(milliseconds=n)
    values: dict[str, Any] = {name: None for name in PRODUCT_COLUMNS}
    values.update(
        id=product_id,
        store_id=store_id,
        name=f"Product {n} blue edition",
        description=f'A blue item, number {n}, the "blue" edition; soft, light and warm',
        slug=f"product-{n}",
        sku=f"SKU-{n:07d}",
        status="live" if n % 2 else "draft",
        commodity_type="physical",
        upc_ean=f"{n:012d}",
        mpn=f"MPN-{n:07d}",
        external_ref=f"ext-{n}",
        tags=["blue", f"batch-{n % 10}"] if n % 3 == 0 else None,
        created_at=moment,
        updated_at=moment,
    )
    return values


def export_floor(engine: Engine, store_id: str) -> float:
    """Seconds to select the export's rows through the driver and write them as CSV."""
    began = time.perf_counter()
    statement = (
        f"SELECT {FLOOR_COLUMNS} FROM products WHERE store_id = %s "  # noqa: S608
        "ORDER BY created_at, id"
    )
    with read_transaction(engine) as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        if engine.dialect.name == "postgresql":
            cursor = driver.cursor(name="floor")
            cursor.itersize = FLOOR_FETCH_ROWS
            cursor.execute(statement, (store_id,))
        else:
            cursor = driver.cursor()
            cursor.execute(statement.replace("%s", "?"), (store_id,))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in cursor:
            writer.writerow(row)
            if buffer.tell() >= FLOOR_FLUSH_CHARS:
                buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        buffer.getvalue().encode()
        cursor.close()
    return time.perf_counter() - began


def export_job(engine: Engine, worker: Worker, store_id: str) -> tuple[float, int]:
    """Seconds from claim to committed `success` of one export job, and its number of files."""
    with write_transaction(engine) as connection:
        queued = enqueue_job(
            connection,
            NewJob(store_id=store_id, type=JobType.PRODUCT_EXPORT, input={}, meta={}),
            utc_now(),
        )
    began = time.perf_counter()
    job = worker.claim()
    assert job is not None and job.id == queued.id
    worker.run(job)
    elapsed = time.perf_counter() - began
    with read_transaction(engine) as connection:
        done = get_job(connection, store_id, job.id)
    assert done is not None and done.status is JobStatus.SUCCESS, done
    return elapsed, len(done.meta["_files"])


def delete_files(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        connection.execute(delete(blob_chunks))
        connection.execute(delete(blobs))


def peak_job_memory(engine: Engine, worker: Worker, store_id: str) -> float:
    """Peak megabytes of Python allocations while one export job runs."""
    tracemalloc.start()
    try:
        export_job(engine, worker, store_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    delete_files(engine)
    return peak / MEGABYTE


def run(database: str, product_count: int, repeats: int) -> list[str]:
    with fresh_engine(database) as engine:
        url = engine.url.render_as_string(hide_password=False)
        worker = Worker(engine, Settings(database_url=url), RUNNERS, concurrency=1)
        half_store = add_store(engine, "half")
        full_store = add_store(engine, "full")
        seed_products(engine, half_store, product_count // 2)
        seed_products(engine, full_store, product_count)
        floors, jobs = [], []
        files = 0
        for _ in range(repeats):
            floors.append(export_floor(engine, full_store))
            elapsed, files = export_job(engine, worker, full_store)
            jobs.append(elapsed)
            delete_files(engine)
        half_peak = peak_job_memory(engine, worker, half_store)
        full_peak = peak_job_memory(engine, worker, full_store)
    floor, job = statistics.median(floors), statistics.median(jobs)
    ratio = job / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    return [
        f"export {database} {product_count:,} products ({files} files): {job:.2f} s, "
        f"floor {floor:.2f} s, ratio {ratio:.2f}x ({verdict} the {TARGET_RATIO:g}x target); "
        f"peak memory +{full_peak:.1f} MB ({product_count // 2:,} products: +{half_peak:.1f} MB)"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        for line in run(database, args.products, args.repeats):
            print(line, flush=True)


if __name__ == "__main__":
    main()
