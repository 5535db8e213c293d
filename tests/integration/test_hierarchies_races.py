"""Tree rules hold when requests race: the hierarchy's lock makes them take turns.

Each test opens a write transaction, changes the tree in it and keeps it open; racers start
and are seen waiting on it (in `pg_locks` on PostgreSQL; SQLite queues every writer at BEGIN)
before it commits. Without the lock, PostgreSQL racers would check the old tree, then fail on
a unique index (a 500) or, for moves, commit a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import Connection, Engine, select

from pxm_jobs.catalog.hierarchies.errors import NodeCycle, SiblingConflict
from pxm_jobs.catalog.hierarchies.nodes import Node, create_node, find_lineage, move_node
from pxm_jobs.catalog.hierarchies.queries import create_hierarchy
from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import nodes
from tests.databases import BLOCKED_TIMEOUT_SECONDS, wait_until_blocked
from tests.factories import add_store

RACERS = 4

T = TypeVar("T")


def outcomes(racers: list[Future[T]]) -> list[type[BaseException] | None]:
    return [
        type(error) if (error := racer.exception(BLOCKED_TIMEOUT_SECONDS)) else None
        for racer in racers
    ]


def race_behind(
    engine: Engine,
    first: Callable[[Connection], object],
    racer: Callable[[], T],
    count: int = RACERS,
) -> list[Future[T]]:
    """Run `first` in an open write transaction; start `count` racers; commit once they wait."""
    with ThreadPoolExecutor(count) as pool:
        with write_transaction(engine) as connection:
            first(connection)
            racers = [pool.submit(racer) for _ in range(count)]
            wait_until_blocked(engine, count)
            assert not any(future.done() for future in racers)
        for future in racers:
            future.exception(BLOCKED_TIMEOUT_SECONDS)
    return racers


@pytest.fixture
def store_and_hierarchy(engine: Engine) -> tuple[str, str]:
    with write_transaction(engine) as connection:
        store_id = add_store(connection)
        return store_id, create_hierarchy(connection, store_id, {"name": "Race"}, utc_now()).id


def test_siblings_created_at_once_never_share_a_name(
    engine: Engine, store_and_hierarchy: tuple[str, str]
) -> None:
    store_id, hierarchy_id = store_and_hierarchy

    def create_shoes(connection: Connection) -> Node:
        return create_node(connection, store_id, hierarchy_id, {"name": "Shoes"}, utc_now())

    def create_shoes_too() -> Node:
        with write_transaction(engine) as connection:
            return create_shoes(connection)

    racers = race_behind(engine, create_shoes, create_shoes_too)
    assert outcomes(racers) == [SiblingConflict] * RACERS
    with read_transaction(engine) as connection:
        named = connection.execute(select(nodes.c.id).where(nodes.c.name == "Shoes")).all()
    assert len(named) == 1


def test_two_nodes_moved_under_each_other_at_once_make_no_cycle(
    engine: Engine, store_and_hierarchy: tuple[str, str]
) -> None:
    store_id, hierarchy_id = store_and_hierarchy
    with write_transaction(engine) as connection:
        a = create_node(connection, store_id, hierarchy_id, {"name": "A"}, utc_now()).id
        b = create_node(connection, store_id, hierarchy_id, {"name": "B"}, utc_now()).id

    def move_b_under_a() -> Node:
        with write_transaction(engine) as connection:
            return move_node(connection, store_id, hierarchy_id, b, a, utc_now())

    racers = race_behind(
        engine,
        lambda connection: move_node(connection, store_id, hierarchy_id, a, b, utc_now()),
        move_b_under_a,
        count=1,
    )
    assert outcomes(racers) == [NodeCycle]
    with read_transaction(engine) as connection:
        assert find_lineage(connection, a) == {a, b}
        assert find_lineage(connection, b) == {b}
