"""Price book import end to end (upload → `success`) against a floor measured in the same run.

    python -m benchmarks.pricebook_import [--prices 50000] [--megabytes 50] [--database D]

The service runs as a real `pxm-jobs serve` process and imports a file of price books and
prices, each price in three currencies with a tier. The floor reads the same file whole with
the `json` module and bulk-inserts the prices into a table indexed as the service's is, in one
transaction: executemany on SQLite, COPY on PostgreSQL. A second run imports a file of about
`--megabytes` (its prices padded with admin attributes) and reports how far the server's peak
memory (VmHWM) rose over what it was once serving.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

from sqlalchemy import Engine, text

from benchmarks.harness import DATABASES, fresh_engine
from benchmarks.import_speed import peak_memory_mb, serving
from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import write_transaction
from tests.acceptance.service import Client
from tests.pricebook_files import bench_objects, lines_file

TARGET_RATIO = 2.5
MEMORY_TARGET_MB = 100
BOOKS = 5

FLOOR_COLUMNS = [
    "id",
    "store_id",
    "pricebook",
    "sku",
    "external_ref",
    "currencies",
    "created_at",
    "updated_at",
]
# Indexed as the service's prices table is: the same work for the database to do.
FLOOR_TABLE = """
CREATE TABLE floor_prices (
    id VARCHAR(36) PRIMARY KEY, store_id VARCHAR(36) NOT NULL, pricebook VARCHAR(2048) NOT NULL,
    sku VARCHAR(255) NOT NULL, external_ref VARCHAR(2048), currencies {json} NOT NULL,
    created_at {timestamp} NOT NULL, updated_at {timestamp} NOT NULL
);
CREATE UNIQUE INDEX floor_sku ON floor_prices (pricebook, sku);
CREATE UNIQUE INDEX floor_ref ON floor_prices (pricebook, external_ref);
CREATE INDEX floor_book_created ON floor_prices (pricebook, created_at, id);
CREATE INDEX floor_store_created ON floor_prices (store_id, created_at, id);
CREATE INDEX floor_store_sku ON floor_prices (store_id, sku)
"""


def generate_file(prices: int, padding: int = 0, amount: int = 1000) -> bytes:
    """Prices only (the books are made first), so that 50,000 prices fit the object limit."""
    return lines_file(
        item
        for item in bench_objects(prices, BOOKS, padding, amount)
        if item["data"]["type"] == "product-price"
    )


def create_books(client: Client) -> None:
    for item in bench_objects(0, BOOKS):
        response = client.http.post("/pcm/pricebooks", json=item)
        assert response.status_code == 201, response.text


def padding_for(megabytes: float, prices: int) -> int:
    """Admin-attribute characters per price that make the file about `megabytes` long."""
    plain = len(generate_file(100)) / 100
    return max(0, int(megabytes * 1_000_000 / prices - plain))


def measure_floor(engine: Engine, content: bytes) -> float:
    postgres = engine.dialect.name == "postgresql"
    ddl = FLOOR_TABLE.format(
        json="JSONB" if postgres else "JSON", timestamp="TIMESTAMP" if postgres else "DATETIME"
    )
    with write_transaction(engine) as connection:
        for statement in ddl.split(";"):
            connection.exec_driver_sql(statement)
    began = time.perf_counter()
    decode = json.JSONDecoder().raw_decode
    whole = content.decode()
    now = utc_now().replace(tzinfo=None)
    store_id = str(uuid.uuid4())
    rows, position = [], 0
    while (position := _skip_space(whole, position)) < len(whole):
        item, position = decode(whole, position)
        data = item["data"]
        if data["type"] != "product-price":
            continue
        attributes = data["attributes"]
        rows.append(
            (
                str(uuid.uuid4()),
                store_id,
                data["pricebook_external_ref"],
                attributes["sku"],
                attributes["external_ref"],
                json.dumps(attributes["currencies"]),
                now,
                now,
            )
        )
    with write_transaction(engine) as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        names = ", ".join(FLOOR_COLUMNS)
        if postgres:
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY floor_prices ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in FLOOR_COLUMNS)
            # Column names are this module's constants, never input.
            driver.executemany(f"INSERT INTO floor_prices ({names}) VALUES ({marks})", rows)  # noqa: S608
    elapsed = time.perf_counter() - began
    with write_transaction(engine) as connection:
        connection.execute(text("DROP TABLE floor_prices"))
    return elapsed


def _skip_space(whole: str, position: int) -> int:
    while position < len(whole) and whole[position] in " \t\r\n":
        position += 1
    return position


def timed_import(client: Client, content: bytes) -> tuple[float, dict[str, object]]:
    began = time.perf_counter()
    response = client.http.post(
        "/pcm/pricebooks/import", files={"file": ("prices.jsonl", content)}, timeout=600
    )
    assert response.status_code == 201, response.text
    job = client.wait_for_job(response.json()["data"]["id"], timeout=600)
    elapsed = time.perf_counter() - began
    if job["attributes"]["status"] != "success":
        errors = client.http.get(f"/pcm/jobs/{job['id']}/errors").json()
        raise AssertionError(f"the import failed: {errors}")
    return elapsed, job["meta"]


def run(database: str, prices: int, megabytes: float) -> list[str]:
    content = generate_file(prices)
    with fresh_engine(database) as engine:
        floor = measure_floor(engine, content)
        with serving(engine) as (client, _pid):
            create_books(client)
            service, meta = timed_import(client, content)
            created = meta["rows"]["prices"]["created"]  # type: ignore[index]
            assert created == prices, meta
            second, _ = timed_import(client, generate_file(prices, amount=2000))
    ratio = service / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    lines = [
        f"pricebook import {database} {prices:,} prices x 3 currencies "
        f"({len(content) / 1e6:.1f} MB): service {service:.2f} s, floor {floor:.2f} s, "
        f"ratio {ratio:.2f}x "
        f"({verdict} the {TARGET_RATIO}x target); all updated again {second:.2f} s"
    ]
    big = generate_file(prices, padding_for(megabytes, prices))
    with fresh_engine(database) as engine, serving(engine) as (client, pid):
        create_books(client)  # and the routes warmed up: what idle means here
        baseline = peak_memory_mb(pid)
        elapsed, _ = timed_import(client, big)
        peak = peak_memory_mb(pid)
    rise = peak - baseline
    verdict = "meets" if rise <= MEMORY_TARGET_MB else "MISSES"
    lines.append(
        f"pricebook import {database} {len(big) / 1e6:.1f} MB file: {elapsed:.2f} s, server peak "
        f"RSS {peak:.0f} MB, {rise:+.0f} MB over idle ({verdict} the +{MEMORY_TARGET_MB} MB target)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prices", type=int, default=50_000)
    parser.add_argument("--megabytes", type=float, default=49.0)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        for line in run(database, args.prices, args.megabytes):
            print(line, flush=True)


if __name__ == "__main__":
    main()
