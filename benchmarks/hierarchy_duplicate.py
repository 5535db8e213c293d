"""Hierarchy duplicate jobs against a floor measured in the same run.

    python -m benchmarks.hierarchy_duplicate [--nodes 10000] [--links 50000] [--database D]

A tree of `--nodes` nodes, six levels deep, with `--links` product links, is duplicated by the
real worker code path (claim, run the `hierarchy-duplicate` job, commit with `success`), with
and without products. The floor copies the same rows with plain INSERT ... SELECT statements
into the same tables (same indexes, same foreign keys), the new ids computed in SQL, so it
measures what the database must do anyway: read the rows and write them again. Each time is
the median of `--repeats` runs, floor and job alternating; every copy is deleted before the
next run.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, text

from benchmarks.harness import DATABASES, fresh_engine
from pxm_jobs.catalog.hierarchies.duplicate import CopyRequest
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.reads import get_job
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import hierarchies, node_products, nodes, products, stores

TARGET_RATIO = 3.0
DEPTH = 6
LINKS_PER_PRODUCT = 5

# The floor's new ids are computed in SQL: the source id with its first character swapped for
# one no UUID has, so they never collide with real ids.
FLOOR_NODES = """
INSERT INTO nodes (id, store_id, hierarchy_id, parent_id, name, description, slug, locales,
                   sort_order, created_at, updated_at)
SELECT 'z' || substr(id, 2), store_id, :floor_id, 'z' || substr(parent_id, 2), name,
       description, slug, locales, sort_order, created_at, updated_at
FROM nodes WHERE hierarchy_id = :source_id
"""
FLOOR_LINKS = """
INSERT INTO node_products (node_id, product_id)
SELECT 'z' || substr(np.node_id, 2), np.product_id
FROM node_products np JOIN nodes n ON n.id = np.node_id WHERE n.hierarchy_id = :source_id
"""


def level_sizes(total: int, depth: int) -> list[int]:
    """Nodes per level, growing by a constant factor, `total` in all over `depth` levels."""
    factor = 1.0
    while sum(round(factor**level) for level in range(1, depth + 1)) < total:
        factor += 0.01
    sizes = [max(1, round(factor**level)) for level in range(1, depth + 1)]
    sizes[-1] -= sum(sizes) - total
    return sizes


def build_source(engine: Engine, node_count: int, link_count: int) -> tuple[str, str]:
    """A store with products and one hierarchy of `node_count` nodes; (store id, hierarchy id)."""
    now = utc_now()
    store_id, hierarchy_id = str(uuid.uuid4()), str(uuid.uuid4())
    product_ids = [str(uuid.uuid4()) for _ in range(max(1, link_count // LINKS_PER_PRODUCT))]
    with write_transaction(engine) as connection:
        connection.execute(insert(stores).values(id=store_id, name="bench", created_at=now))
        connection.execute(
            insert(products),
            [
                {
                    "id": product_id,
                    "store_id": store_id,
                    "name": f"Product {n}",
                    "slug": f"product-{n}",
                    "sku": f"sku-{n}",
                    "status": "live",
                    "commodity_type": "physical",
                    "created_at": now,
                    "updated_at": now,
                }
                for n, product_id in enumerate(product_ids)
            ],
        )
        connection.execute(
            insert(hierarchies).values(
                id=hierarchy_id,
                store_id=store_id,
                name="Source",
                slug="source",
                created_at=now,
                updated_at=now,
            )
        )
        node_ids = _insert_tree(connection, store_id, hierarchy_id, node_count)
        # Every node gets its share of links, each to a different product.
        per_node = -(-link_count // len(node_ids))
        links = [
            {
                "node_id": node_ids[n % len(node_ids)],
                "product_id": product_ids[
                    (n % len(node_ids) * per_node + n // len(node_ids)) % len(product_ids)
                ],
            }
            for n in range(link_count)
        ]
        connection.execute(insert(node_products), links)
    return store_id, hierarchy_id


def _insert_tree(connection: Connection, store_id: str, hierarchy_id: str, count: int) -> list[str]:
    now = utc_now()
    parents: Sequence[str | None] = [None]
    node_ids: list[str] = []
    for level, size in enumerate(level_sizes(count, DEPTH)):
        rows: list[dict[str, Any]] = []
        for n in range(size):
            number = len(node_ids) + n
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "store_id": store_id,
                    "hierarchy_id": hierarchy_id,
                    "parent_id": parents[n % len(parents)],
                    "name": f"Node {number}",
                    "description": f"Level {level + 1} node number {number}",
                    "slug": f"node-{number}",
                    "locales": {"fr-FR": {"name": f"Nœud {number}"}} if number % 4 == 0 else None,
                    "sort_order": number % 7 if number % 3 == 0 else None,
                    "created_at": now,
                    "updated_at": now + timedelta(milliseconds=number),
                }
            )
        # Level by level: on SQLite each executemany row is its own statement, parents first.
        connection.execute(insert(nodes), rows)
        level_ids = [str(row["id"]) for row in rows]
        node_ids.extend(level_ids)
        parents = level_ids
    return node_ids


def measure_floor(engine: Engine, store_id: str, source_id: str, include_products: bool) -> float:
    floor_id = str(uuid.uuid4())
    now = utc_now()
    began = time.perf_counter()
    with write_transaction(engine) as connection:
        connection.execute(
            insert(hierarchies).values(
                id=floor_id, store_id=store_id, name="Floor", created_at=now, updated_at=now
            )
        )
        statements = [FLOOR_NODES, FLOOR_LINKS] if include_products else [FLOOR_NODES]
        for statement in statements:
            connection.execute(text(statement), {"floor_id": floor_id, "source_id": source_id})
    elapsed = time.perf_counter() - began
    _delete_hierarchy(engine, floor_id)
    return elapsed


def measure_job(
    engine: Engine, worker: Worker, store_id: str, source_id: str, include_products: bool
) -> float:
    copy = CopyRequest(source_id, str(uuid.uuid4()), {"name": "Copy"}, include_products)
    with write_transaction(engine) as connection:
        job = enqueue_job(
            connection,
            NewJob(
                store_id=store_id,
                type=JobType.HIERARCHY_DUPLICATE,
                input=copy.to_job_input(),
                meta={"copied_from": source_id, "hierarchy_id": copy.new_id},
            ),
            utc_now(),
        )
    claimed = worker.claim()
    assert claimed is not None and claimed.id == job.id
    began = time.perf_counter()
    worker.run(claimed)
    elapsed = time.perf_counter() - began
    with read_transaction(engine) as connection:
        done = get_job(connection, store_id, job.id)
    assert done is not None and done.status is JobStatus.SUCCESS, done
    _delete_hierarchy(engine, copy.new_id)
    return elapsed


def _delete_hierarchy(engine: Engine, hierarchy_id: str) -> None:
    with write_transaction(engine) as connection:
        connection.execute(delete(hierarchies).where(hierarchies.c.id == hierarchy_id))


def run(database: str, node_count: int, link_count: int, repeats: int) -> list[str]:
    with fresh_engine(database) as engine:
        store_id, source_id = build_source(engine, node_count, link_count)
        if database == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        worker = Worker(engine, Settings(), RUNNERS, concurrency=1)
        lines = []
        for include_products in (True, False):
            # Alternated, so that a machine busy for a while slows both sides alike.
            floors, jobs = [], []
            for _ in range(repeats):
                floors.append(measure_floor(engine, store_id, source_id, include_products))
                jobs.append(measure_job(engine, worker, store_id, source_id, include_products))
            floor, elapsed = statistics.median(floors), statistics.median(jobs)
            ratio = elapsed / floor
            verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
            label = "with products" if include_products else "without products"
            lines.append(
                f"duplicate {database} {node_count:,} nodes depth {DEPTH}, {link_count:,} links, "
                f"{label}: {elapsed:.2f} s, floor {floor:.2f} s, ratio {ratio:.1f}x "
                f"({verdict} the {TARGET_RATIO:g}x target)"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        for line in run(database, args.nodes, args.links, args.repeats):
            print(line, flush=True)


if __name__ == "__main__":
    main()
