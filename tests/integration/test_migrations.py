"""The schema that migrations build is exactly the one the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from pxm_jobs.store.migrate import upgrade_database
from pxm_jobs.store.tables import metadata


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
