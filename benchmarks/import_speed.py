"""Product import end to end (upload → `success`) against a floor measured in the same run.

    python -m benchmarks.import_speed [--rows 49999] [--database D]

The service runs as a real `pxm-jobs serve` process. The floor parses the same file with the
`csv` module and bulk-inserts it into an equally indexed table in one transaction: executemany
on SQLite, COPY on PostgreSQL. A second run imports a file of about 50 MB and reports the peak
memory (VmHWM) of the server process.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from benchmarks.harness import DATABASES, fresh_engine
from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import use_bulk_write_cache, write_transaction
from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)
from tests.product_files import products_csv

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.5
MEMORY_TARGET_MB = 300

FLOOR_COLUMNS = [
    "id",
    "store_id",
    "external_ref",
    "name",
    "sku",
    "slug",
    "commodity_type",
    "description",
    "status",
    "mpn",
    "upc_ean",
    "created_at",
    "updated_at",
]
FLOOR_TABLE = """
CREATE TABLE floor_products (
    id VARCHAR(36) PRIMARY KEY, store_id VARCHAR(36) NOT NULL, external_ref VARCHAR(2048),
    name TEXT NOT NULL, sku VARCHAR(255), slug VARCHAR(255) NOT NULL,
    commodity_type VARCHAR(16) NOT NULL, description TEXT, status VARCHAR(16) NOT NULL,
    mpn VARCHAR(255), upc_ean VARCHAR(255), created_at {timestamp} NOT NULL,
    updated_at {timestamp} NOT NULL
);
CREATE UNIQUE INDEX floor_sku ON floor_products (store_id, sku);
CREATE UNIQUE INDEX floor_slug ON floor_products (store_id, slug);
CREATE UNIQUE INDEX floor_ref ON floor_products (store_id, external_ref);
CREATE INDEX floor_created ON floor_products (store_id, created_at, id)
"""


def generate_csv(rows: int, padding: int = 0) -> bytes:
    """A valid import file; `padding` lengthens every description."""
    output = products_csv(rows, "bench")
    if not padding:
        return output
    reader = csv.reader(io.StringIO(output.decode()))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = next(reader)
    description = header.index("description")
    writer.writerow(header)
    for row in reader:
        row[description] += " " + "x" * padding
        writer.writerow(row)
    return buffer.getvalue().encode()


def measure_floor(engine: Engine, content: bytes) -> float:
    timestamp = "TIMESTAMP" if engine.dialect.name == "postgresql" else "DATETIME"
    with write_transaction(engine) as connection:
        for statement in FLOOR_TABLE.format(timestamp=timestamp).split(";"):
            connection.exec_driver_sql(statement)
    store_id = str(uuid.uuid4())
    began = time.perf_counter()
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    now = utc_now().replace(tzinfo=None)
    rows = [
        (str(uuid.uuid4()), store_id, *(record[name] for name in FLOOR_COLUMNS[2:11]), now, now)
        for record in reader
    ]
    with write_transaction(engine) as connection:
        use_bulk_write_cache(connection)  # as the import's own writes get
        if engine.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            assert driver is not None
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY floor_products ({', '.join(FLOOR_COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in FLOOR_COLUMNS)
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.executemany(
                # Column names are this module's constants, never input.
                f"INSERT INTO floor_products ({', '.join(FLOOR_COLUMNS)}) "  # noqa: S608
                f"VALUES ({placeholders})",
                rows,
            )
    elapsed = time.perf_counter() - began
    with write_transaction(engine) as connection:
        connection.execute(text("DROP TABLE floor_products"))
    return elapsed


@contextmanager
def serving(engine: Engine) -> Iterator[tuple[Client, int]]:
    port = free_port()
    url = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    environment = bootstrapped_environment(url, port, PXM_WORKER_POLL_SECONDS="0.05")
    with (
        tempfile.TemporaryDirectory() as directory,
        running(["serve"], environment, Path(directory)) as process,
    ):
        base_url = f"http://127.0.0.1:{port}"
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        try:
            yield client, process.pid
        finally:
            client.close()


def timed_import(client: Client, content: bytes) -> float:
    began = time.perf_counter()
    response = client.import_csv(content)
    assert response.status_code == 201, response.text
    job = client.wait_for_job(response.json()["data"]["id"], timeout=600)
    elapsed = time.perf_counter() - began
    assert job["attributes"]["status"] == "success", job
    return elapsed


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM for the server process")


def run(database: str, rows: int) -> list[str]:
    content = generate_csv(rows)
    with fresh_engine(database) as engine:
        floor = measure_floor(engine, content)
        with serving(engine) as (client, _pid):
            service = timed_import(client, content)
    ratio = service / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    lines = [
        f"import {database} {rows + 1:,} lines: service {service:.2f} s, floor {floor:.2f} s, "
        f"ratio {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)"
    ]
    big = generate_csv(rows, padding=850)
    with fresh_engine(database) as engine, serving(engine) as (client, pid):
        baseline = peak_memory_mb(pid)
        elapsed = timed_import(client, big)
        peak = peak_memory_mb(pid)
    lines.append(
        f"import {database} {len(big) / 1e6:.1f} MB file: {elapsed:.2f} s, server peak RSS "
        f"{peak:.0f} MB (at start {baseline:.0f} MB; target under {MEMORY_TARGET_MB} MB)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=49_999)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        for line in run(database, args.rows):
            print(line, flush=True)


if __name__ == "__main__":
    main()
