"""Claim latency with deep backlogs: many stores, many pending jobs each.

    python -m benchmarks.claim_latency [--stores N --per-store M --claims K] [--database D]

Jobs are bulk-loaded straight into the tables (the way enqueue_job would leave them), then each
claim runs in its own transaction and finishes its job at once, so later claims walk past
stores whose heads moved. The floor is a one-row primary-key UPDATE in its own transaction.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import timedelta

from sqlalchemy import Engine, insert, select, text, update

from benchmarks.harness import DATABASES, describe_latencies, fresh_engine
from pxm_jobs.clock import utc_now
from pxm_jobs.queue.lifecycle import claim_job, finish_job
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.store.engine import one_statement, write_transaction
from pxm_jobs.store.tables import job_lines, jobs, stores

INSERT_BATCH = 20_000


def load_backlog(engine: Engine, store_count: int, per_store: int) -> None:
    """`per_store` pending jobs in each of `store_count` stores, interleaved by creation time."""
    now = utc_now()
    store_ids = [str(uuid.uuid4()) for _ in range(store_count)]
    with write_transaction(engine) as connection:
        connection.execute(
            insert(stores), [{"id": sid, "name": "bench", "created_at": now} for sid in store_ids]
        )
        batch: list[dict[str, object]] = []
        for position in range(per_store):
            for index, store_id in enumerate(store_ids):
                created = now + timedelta(microseconds=(position * store_count + index) * 1000)
                batch.append(
                    {
                        "id": str(uuid.uuid4()),
                        "store_id": store_id,
                        "type": "bench",
                        "status": JobStatus.PENDING,
                        "created_at": created,
                        "updated_at": created,
                        "input": {},
                        "meta": {},
                        "attempts": 0,
                    }
                )
                if len(batch) >= INSERT_BATCH:
                    connection.execute(insert(jobs), batch)
                    batch = []
        if batch:
            connection.execute(insert(jobs), batch)
        connection.execute(
            text(
                "INSERT INTO job_lines (store_id, head_created_at, head_seq)"
                " SELECT store_id, MIN(created_at), MIN(seq) FROM jobs"
                " WHERE status = 'pending' GROUP BY store_id"
            )
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM ANALYZE"))
            # Flush the bulk load now, so its writeback does not land inside the timed claims.
            autocommit.execute(text("CHECKPOINT"))
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")


def measure_claims(engine: Engine, claims: int) -> list[float]:
    samples: list[float] = []
    for _ in range(claims):
        began = time.perf_counter()
        with one_statement(engine) as connection:
            job = claim_job(connection, "bench", utc_now())
        samples.append((time.perf_counter() - began) * 1000)
        assert job is not None
        with write_transaction(engine) as connection:
            finish_job(connection, job, {}, None, utc_now())
    return samples


def measure_floor(engine: Engine, rounds: int) -> list[float]:
    with write_transaction(engine) as connection:
        store_id = connection.execute(select(job_lines.c.store_id).limit(1)).scalar_one()
    samples: list[float] = []
    for _ in range(rounds):
        began = time.perf_counter()
        with write_transaction(engine) as connection:
            connection.execute(
                update(job_lines)
                .where(job_lines.c.store_id == store_id)
                .values(head_seq=job_lines.c.head_seq)
                .returning(job_lines.c.store_id)
            ).all()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def run(database: str, store_count: int, per_store: int, claims: int) -> str:
    with fresh_engine(database) as engine:
        began = time.perf_counter()
        load_backlog(engine, store_count, per_store)
        loaded = time.perf_counter() - began
        samples = measure_claims(engine, claims)
        floor = measure_floor(engine, claims)
    label = (
        f"claim {database} {store_count:,} stores x {per_store:,} pending "
        f"({store_count * per_store:,} jobs, loaded in {loaded:.0f} s)"
    )
    return describe_latencies(label, samples, floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--per-store", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    for database in args.database or DATABASES:
        print(run(database, args.stores, args.per_store, args.claims), flush=True)


if __name__ == "__main__":
    main()
