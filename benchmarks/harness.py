"""What every benchmark shares: fresh databases and how results are printed."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine
from pxm_jobs.store.migrate import upgrade_database
from tests.databases import fresh_postgres_database, postgres_answers

DATABASES = ("sqlite", "postgresql")


@contextmanager
def fresh_engine(database: str) -> Iterator[Engine]:
    """A migrated, empty database of the given kind, thrown away afterwards."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            engine = make_engine(Settings(database_url=url))
            upgrade_database(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    if not postgres_answers():
        raise SystemExit("PostgreSQL is not answering on 127.0.0.1:5432")
    with fresh_postgres_database() as url:
        engine = make_engine(Settings(database_url=url))
        try:
            yield engine
        finally:
            engine.dispose()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe_latencies(label: str, samples_ms: list[float], floor_ms: list[float]) -> str:
    p50, p99 = percentile(samples_ms, 0.5), percentile(samples_ms, 0.99)
    floor_p50 = statistics.median(floor_ms)
    return (
        f"{label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(samples_ms)} claims; "
        f"floor (one-row update) p50 {floor_p50:.2f} ms; p50 ratio {p50 / floor_p50:.1f}x"
    )
