"""Copying hierarchies, and the `hierarchy-duplicate` job around it, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, select

from pxm_jobs.catalog.hierarchies.duplicate import CopyRequest, copy_hierarchy
from pxm_jobs.catalog.hierarchies.errors import HierarchyNotFound
from pxm_jobs.catalog.hierarchies.queries import create_hierarchy, get_hierarchy
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.jobs.hierarchy_duplicate import run_hierarchy_duplicate
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.models import Job, JobStatus, JobType
from pxm_jobs.queue.reads import get_job, list_job_errors
from pxm_jobs.queue.runner import JobContext, RunnerRegistry
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import hierarchies, node_products, nodes
from tests.factories import add_store
from tests.hierarchy_trees import SampleTree, build_sample_tree, describe_tree, node_ids_of


@pytest.fixture
def store_id(engine: Engine) -> str:
    with write_transaction(engine) as connection:
        return add_store(connection)


@pytest.fixture
def tree(engine: Engine, store_id: str) -> SampleTree:
    with write_transaction(engine) as connection:
        return build_sample_tree(connection, store_id)


def without_products(description: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**node, "products": [], "children": without_products(node["children"])}
        for node in description
    ]


def count_rows(connection: Connection, table: Any, **where: str) -> int:
    condition = [table.c[name] == value for name, value in where.items()]
    return int(
        connection.execute(select(func.count()).select_from(table).where(*condition)).scalar_one()
    )


def test_a_copy_with_products_is_the_same_tree_under_new_ids(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    new_id = str(uuid.uuid4())
    with write_transaction(engine) as connection:
        copy = copy_hierarchy(
            connection, store_id, tree.hierarchy_id, new_id, {}, utc_now(), include_products=True
        )
    assert (copy.nodes, copy.product_links) == (7, 7)
    with read_transaction(engine) as connection:
        assert describe_tree(connection, new_id) == describe_tree(connection, tree.hierarchy_id)
        assert not node_ids_of(connection, new_id) & node_ids_of(connection, tree.hierarchy_id)
        source = get_hierarchy(connection, store_id, tree.hierarchy_id)
        copied = get_hierarchy(connection, store_id, new_id)
    assert source is not None and copied is not None
    assert (copied.name, copied.description, copied.slug, copied.locales) == (
        source.name,
        source.description,
        source.slug,
        source.locales,
    )
    assert copied.created_at > source.created_at, "the hierarchy itself is new"


def test_a_copy_without_products_has_no_links_and_a_new_name(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    new_id = str(uuid.uuid4())
    changes = {"name": "Catalog 2025", "description": None}
    with write_transaction(engine) as connection:
        copy = copy_hierarchy(connection, store_id, tree.hierarchy_id, new_id, changes, utc_now())
    assert (copy.nodes, copy.product_links) == (7, 0)
    assert copy.hierarchy.name == "Catalog 2025" and copy.hierarchy.description is None
    assert copy.hierarchy.slug == "catalog"
    with read_transaction(engine) as connection:
        original = describe_tree(connection, tree.hierarchy_id)
        assert describe_tree(connection, new_id) == without_products(original)


def test_a_copy_of_a_copy_is_still_the_same_tree(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with write_transaction(engine) as connection:
        copy_hierarchy(
            connection, store_id, tree.hierarchy_id, first, {}, utc_now(), include_products=True
        )
        copy_hierarchy(connection, store_id, first, second, {}, utc_now(), include_products=True)
    with read_transaction(engine) as connection:
        assert describe_tree(connection, second) == describe_tree(connection, tree.hierarchy_id)


def test_an_empty_hierarchy_copies_to_an_empty_one(engine: Engine, store_id: str) -> None:
    with write_transaction(engine) as connection:
        source = create_hierarchy(connection, store_id, {"name": "Empty"}, utc_now())
        copy = copy_hierarchy(connection, store_id, source.id, str(uuid.uuid4()), {}, utc_now())
    assert (copy.nodes, copy.product_links) == (0, 0)
    assert copy.hierarchy.name == "Empty"


def test_another_stores_hierarchy_cannot_be_copied(engine: Engine, tree: SampleTree) -> None:
    with write_transaction(engine) as connection:
        other = add_store(connection, "other")
    with write_transaction(engine) as connection, pytest.raises(HierarchyNotFound):
        copy_hierarchy(connection, other, tree.hierarchy_id, str(uuid.uuid4()), {}, utc_now())


# -- the job ------------------------------------------------------------------------------------


def queue_copy(engine: Engine, store_id: str, request: CopyRequest) -> Job:
    with write_transaction(engine) as connection:
        return enqueue_job(
            connection,
            NewJob(
                store_id=store_id,
                type=JobType.HIERARCHY_DUPLICATE,
                input=request.to_job_input(),
                meta={"copied_from": request.source_id, "hierarchy_id": request.new_id},
            ),
            utc_now(),
        )


def run_next_job(engine: Engine, settings: Settings, runners: RunnerRegistry = RUNNERS) -> Job:
    """Claim and run one job as the worker does; the job as it ended."""
    worker = Worker(engine, settings, runners, concurrency=1)
    claimed = worker.claim()
    assert claimed is not None
    worker.run(claimed)
    with read_transaction(engine) as connection:
        done = get_job(connection, claimed.store_id, claimed.id)
    assert done is not None
    return done


def test_the_job_copies_and_reports_what_it_copied(
    engine: Engine, settings: Settings, store_id: str, tree: SampleTree
) -> None:
    request = CopyRequest(tree.hierarchy_id, str(uuid.uuid4()), {"name": "Copy"}, True)
    queue_copy(engine, store_id, request)
    done = run_next_job(engine, settings)
    assert done.status is JobStatus.SUCCESS
    assert done.meta == {
        "copied_from": tree.hierarchy_id,
        "hierarchy_id": request.new_id,
        "copied": {"nodes": 7, "product_links": 7},
    }
    assert (done.progress_processed, done.progress_total) == (7, 7)
    with read_transaction(engine) as connection:
        copied = get_hierarchy(connection, store_id, request.new_id)
        assert copied is not None and copied.name == "Copy"
        assert describe_tree(connection, request.new_id) == describe_tree(
            connection, tree.hierarchy_id
        )


def test_a_source_deleted_before_the_job_runs_fails_it_clearly(
    engine: Engine, settings: Settings, store_id: str, tree: SampleTree
) -> None:
    request = CopyRequest(tree.hierarchy_id, str(uuid.uuid4()), {}, True)
    queue_copy(engine, store_id, request)
    with write_transaction(engine) as connection:
        connection.execute(delete(hierarchies).where(hierarchies.c.id == tree.hierarchy_id))
    done = run_next_job(engine, settings)
    assert done.status is JobStatus.FAILED
    with read_transaction(engine) as connection:
        errors, total = list_job_errors(connection, done, limit=10, offset=0)
        assert get_hierarchy(connection, store_id, request.new_id) is None
    assert total == 1 and errors[0].detail.code == "source_not_found"
    assert tree.hierarchy_id in errors[0].detail.message
    assert "deleted" in errors[0].detail.message


def test_a_job_that_fails_after_copying_leaves_no_trace(
    engine: Engine, settings: Settings, store_id: str, tree: SampleTree
) -> None:
    def copy_then_crash(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        copied = run_hierarchy_duplicate(context, connection)
        assert copied["copied"]["nodes"] == 7, "the copy itself went through"
        raise RuntimeError("the disk caught fire")

    failing = CopyRequest(tree.hierarchy_id, str(uuid.uuid4()), {}, True)
    queue_copy(engine, store_id, failing)
    done = run_next_job(engine, settings, {JobType.HIERARCHY_DUPLICATE: copy_then_crash})
    assert done.status is JobStatus.FAILED
    with read_transaction(engine) as connection:
        assert get_hierarchy(connection, store_id, failing.new_id) is None
        assert count_rows(connection, hierarchies) == 1
        assert count_rows(connection, nodes) == 7
        assert count_rows(connection, node_products) == 7
    # The rolled-back copy left nothing behind on the pooled connection either: the next runs.
    for _ in range(2):
        request = CopyRequest(tree.hierarchy_id, str(uuid.uuid4()), {}, True)
        queue_copy(engine, store_id, request)
        assert run_next_job(engine, settings).status is JobStatus.SUCCESS
    with read_transaction(engine) as connection:
        assert count_rows(connection, nodes) == 21
