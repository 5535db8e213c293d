"""Building child products end to end (POST /build → `success`) against a floor of the same run.

    python -m benchmarks.child_products [--variations 4] [--options 10] [--database D]

The service runs as a real `pxm-jobs serve` process. A base product with `--variations`
variations of `--options` options each (every option with a SKU and a slug modifier) is built
over HTTP: 10,000 children by default. The floor writes as many product rows with one plain
executemany INSERT into the same `products` table (same indexes), in one transaction, so it
measures what the database must do anyway. Each time is the median of `--repeats` runs,
floor and build alternating, the children deleted between builds. Then two rebuilds: one with
nothing changed, and one after the base product was renamed, which rewrites every child in
place.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from benchmarks.harness import DATABASES, fresh_engine
from benchmarks.import_speed import serving
from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import products
from tests.acceptance.service import Client
from tests.variation_matrices import Modifiers, variations_for

TARGET_RATIO = 3.0


def measure_floor(engine: Engine, store_id: str, count: int) -> float:
    """Seconds to INSERT `count` product rows like the children, in one transaction."""
    now = utc_now()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "store_id": store_id,
            "name": f"Floor {n}",
            "slug": f"floor-{n}",
            "sku": f"FLOOR-{n}",
            "status": "draft",
            "commodity_type": "physical",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    began = time.perf_counter()
    with write_transaction(engine) as connection:
        connection.execute(insert(products), rows)
    elapsed = time.perf_counter() - began
    with write_transaction(engine) as connection:
        connection.execute(delete(products).where(products.c.name.like("Floor %")))
    return elapsed


def matrix(variation_count: int, option_count: int) -> dict[str, dict[str, Modifiers | None]]:
    return {
        f"V{v}": {
            f"O{v}-{o}": {"sku_append": f"-{v}{o}", "slug_append": f"-{v}{o}"}
            for o in range(option_count)
        }
        for v in range(variation_count)
    }


def timed_build(client: Client, product_id: str) -> tuple[float, dict[str, Any]]:
    began = time.perf_counter()
    response = client.http.post(f"/pcm/products/{product_id}/build")
    assert response.status_code == 201, response.text
    job = client.wait_for_job(response.json()["data"]["id"], timeout=600)
    elapsed = time.perf_counter() - began
    if job["attributes"]["status"] != "success":
        errors = client.http.get(f"/pcm/jobs/{job['id']}/errors").json()
        raise AssertionError(f"the build failed: {errors}")
    meta: dict[str, Any] = job["meta"]
    return elapsed, meta


def delete_children(engine: Engine, product_id: str) -> None:
    with write_transaction(engine) as connection:
        connection.execute(delete(products).where(products.c.parent_id == product_id))


def run(database: str, variation_count: int, option_count: int, repeats: int = 3) -> list[str]:
    children = option_count**variation_count
    with fresh_engine(database) as engine, serving(engine) as (client, _pid):
        document = {
            "data": {
                "type": "product",
                "attributes": {"name": "Shirt", "sku": "SHIRT", "commodity_type": "physical"},
            }
        }
        created = client.http.post("/pcm/products", json=document)
        assert created.status_code == 201, created.text
        product_id = created.json()["data"]["id"]
        with read_transaction(engine) as connection:
            store_id = connection.execute(
                select(products.c.store_id).where(products.c.id == product_id)
            ).scalar_one()
        variations_for(client.http, product_id, matrix(variation_count, option_count))
        floors, builds = [], []
        for repeat in range(repeats):
            # Alternated, so that a machine busy for a while slows both sides alike.
            if repeat:
                delete_children(engine, product_id)
            floors.append(measure_floor(engine, store_id, children))
            elapsed, meta = timed_build(client, product_id)
            assert meta["children"]["created"] == children, meta
            builds.append(elapsed)
        floor, first = statistics.median(floors), statistics.median(builds)
        listed = client.http.get(f"/pcm/products/{product_id}/children?page[limit]=1").json()
        assert listed["meta"]["results"]["total"] == children, listed["meta"]
        unchanged, meta = timed_build(client, product_id)
        assert meta["children"]["unchanged"] == children, meta
        rename = {"data": {"type": "product", "attributes": {"name": "Tee"}}}
        client.http.put(f"/pcm/products/{product_id}", json=rename).raise_for_status()
        renamed, meta = timed_build(client, product_id)
        assert meta["children"]["updated"] == children, meta
    ratio = first / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    return [
        f"child-products {database} {children:,} children ({variation_count} variations x "
        f"{option_count} options) over HTTP: {first:.2f} s, floor {floor:.2f} s (INSERT of "
        f"{children:,} product rows), ratio {ratio:.2f}x ({verdict} the {TARGET_RATIO:g}x "
        f"target); rebuilt unchanged {unchanged:.2f} s, rebuilt after a rename of the base "
        f"product {renamed:.2f} s"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--options", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        for line in run(database, args.variations, args.options, args.repeats):
            print(line, flush=True)


if __name__ == "__main__":
    main()
