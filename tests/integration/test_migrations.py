"""The schema that migrations build is exactly the one the code declares, on both databases."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.migrate import alembic_config, upgrade_database
from pxm_jobs.store.tables import metadata
from tests.factories import make_stores, queue_jobs
from tests.queue_steps import claim


def test_upgrade_head_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrading_again_changes_nothing(engine: Engine) -> None:
    before = sorted(inspect(engine).get_table_names())
    upgrade_database(engine)
    assert sorted(inspect(engine).get_table_names()) == before
    assert set(metadata.tables) <= set(before)


def test_the_one_started_job_rule_is_a_unique_partial_index(engine: Engine) -> None:
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("jobs")}
    rule = indexes["uq_jobs_one_started_per_store"]
    assert rule["unique"] and rule["column_names"] == ["store_id"]


def test_the_plain_worker_migration_steps_down_and_up_again_with_jobs_in_flight(
    engine: Engine,
) -> None:
    on_postgresql = engine.dialect.name == "postgresql"
    [store] = make_stores(engine, 1)
    running, waiting = queue_jobs(engine, store, 2)
    assert claim(engine) is not None
    _migrate(engine, command.downgrade, "0005")
    chained = {"pxm_jobs_round", "pxm_jobs_chain_step", "pxm_jobs_record_successes"}
    assert _queue_functions(engine) == (chained if on_postgresql else set())
    assert _line_head(engine, store) == waiting.seq, "0005's lines point at the earliest pending"
    _migrate(engine, command.upgrade, "head")
    assert _queue_functions(engine) == set()
    assert _line_head(engine, store) == running.seq, "lines point at the started job"
    assert claim(engine, "w2") is None, "the store is still busy with its started job"


def _line_head(engine: Engine, store_id: str) -> int | None:
    with engine.connect() as connection:
        head: int | None = connection.execute(
            text("SELECT head_seq FROM job_lines WHERE store_id = :store"), {"store": store_id}
        ).scalar_one()
    return head


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _queue_functions(engine: Engine) -> set[str]:
    """The queue's database functions: none on SQLite, whose workers send statements."""
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT proname FROM pg_proc WHERE proname LIKE 'pxm_jobs%'")
        ).scalars()
        return set(names)
