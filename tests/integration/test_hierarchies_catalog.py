"""Hierarchies, nodes and node-product links in the catalog, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine, Table, delete, func, insert, select

from pxm_jobs.catalog.hierarchies.errors import (
    HierarchyNotFound,
    InvalidCatalogField,
    NodeCycle,
    NodeNotFound,
    ParentNotFound,
    SiblingConflict,
    UnknownProducts,
)
from pxm_jobs.catalog.hierarchies.node_products import (
    link_products,
    list_node_products,
    list_product_ids,
    unlink_products,
)
from pxm_jobs.catalog.hierarchies.nodes import (
    Node,
    create_node,
    delete_node,
    get_node,
    list_children,
    list_nodes,
    move_node,
    update_node,
)
from pxm_jobs.catalog.hierarchies.queries import (
    Hierarchy,
    create_hierarchy,
    delete_hierarchy,
    get_hierarchy,
    list_hierarchies,
    update_hierarchy,
)
from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import hierarchies, node_products, nodes, products
from tests.factories import add_store
from tests.hierarchy_trees import SampleTree, add_products, build_sample_tree


@pytest.fixture
def store_id(engine: Engine) -> str:
    with write_transaction(engine) as connection:
        return add_store(connection)


@pytest.fixture
def tree(engine: Engine, store_id: str) -> SampleTree:
    with write_transaction(engine) as connection:
        return build_sample_tree(connection, store_id)


def names(found: Sequence[Hierarchy | Node]) -> list[str]:
    return [item.name for item in found]


def count_rows(engine: Engine, table: Table) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_hierarchy_is_created_listed_changed_and_deleted(engine: Engine, store_id: str) -> None:
    now = utc_now()
    with write_transaction(engine) as connection:
        first = create_hierarchy(connection, store_id, {"name": "First"}, now)
        second = create_hierarchy(
            connection,
            store_id,
            {"name": "Second", "slug": "second", "locales": {"fr-FR": {"name": "Deux"}}},
            now + timedelta(seconds=1),
        )
    with read_transaction(engine) as connection:
        found, total = list_hierarchies(connection, store_id, limit=10, offset=0)
        assert total == 2 and names(found) == ["Second", "First"], "newest first"
        assert get_hierarchy(connection, store_id, second.id) == second
        assert second.locales == {"fr-FR": {"name": "Deux"}} and first.locales is None
    with write_transaction(engine) as connection:
        changed = update_hierarchy(
            connection, store_id, first.id, {"description": "now described"}, utc_now()
        )
    assert changed.name == "First" and changed.description == "now described"
    assert changed.updated_at >= changed.created_at
    with write_transaction(engine) as connection:
        delete_hierarchy(connection, store_id, first.id)
    with read_transaction(engine) as connection:
        assert get_hierarchy(connection, store_id, first.id) is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "slug": "has space"}, "slug"),
        ({"name": "ok", "colour": "red"}, "colour"),
    ],
)
def test_a_hierarchy_with_bad_fields_is_refused(
    engine: Engine, store_id: str, values: dict[str, object], field: str
) -> None:
    with write_transaction(engine) as connection, pytest.raises(InvalidCatalogField) as refused:
        create_hierarchy(connection, store_id, values, utc_now())
    assert refused.value.field == field
    assert count_rows(engine, hierarchies) == 0


def test_another_stores_hierarchy_is_not_there(engine: Engine, tree: SampleTree) -> None:
    with write_transaction(engine) as connection:
        other = add_store(connection, "other")
    with read_transaction(engine) as connection:
        assert get_hierarchy(connection, other, tree.hierarchy_id) is None
        assert get_node(connection, other, tree.hierarchy_id, tree.node_ids["Shoes"]) is None
        assert list_nodes(connection, other, tree.hierarchy_id, limit=10, offset=0)[1] == 0
    with write_transaction(engine) as connection, pytest.raises(HierarchyNotFound):
        update_hierarchy(connection, other, tree.hierarchy_id, {"name": "Mine"}, utc_now())
    with write_transaction(engine) as connection, pytest.raises(HierarchyNotFound):
        delete_hierarchy(connection, other, tree.hierarchy_id)
    with write_transaction(engine) as connection, pytest.raises(HierarchyNotFound):
        create_node(connection, other, tree.hierarchy_id, {"name": "Sneaky"}, utc_now())


def test_children_come_highest_sort_order_first_then_most_recently_updated(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    with read_transaction(engine) as connection:
        top, total = (
            list_children(connection, "", tree.hierarchy_id, None, limit=10, offset=0)
            if False
            else (None, None)
        )
    with read_transaction(engine) as connection:
        top, total = list_children(
            connection, store_id, tree.hierarchy_id, None, limit=10, offset=0
        )
        assert names(top) == ["Hats", "Shoes", "Bags"] and total == 3
        running = tree.node_ids["Running"]
        below, _ = list_children(
            connection, store_id, tree.hierarchy_id, running, limit=10, offset=0
        )
        assert names(below) == ["Trail", "Road"]
        assert [node.parent_id for node in below] == [running, running]
    with write_transaction(engine) as connection:
        update_node(connection, store_id, tree.hierarchy_id, tree.node_ids["Formal"], {}, utc_now())
    with read_transaction(engine) as connection:
        shoes = tree.node_ids["Shoes"]
        below, _ = list_children(connection, store_id, tree.hierarchy_id, shoes, limit=10, offset=0)
        assert names(below) == ["Formal", "Running"], "the node updated last comes first"
        everything, total = list_nodes(connection, store_id, tree.hierarchy_id, limit=3, offset=0)
        assert total == 7 and names(everything) == ["Shoes", "Bags", "Hats"]


def test_names_and_slugs_are_unique_among_siblings_only(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    shoes = tree.node_ids["Shoes"]
    cases = [
        ({"name": "Bags"}, None, "name"),
        ({"name": "Other", "slug": "bags"}, None, "slug"),
        ({"name": "Running"}, shoes, "name"),
        ({"name": "Other", "slug": "formal"}, shoes, "slug"),
    ]
    for values, parent, field in cases:
        with write_transaction(engine) as connection, pytest.raises(SiblingConflict) as refused:
            create_node(
                connection, store_id, tree.hierarchy_id, values, utc_now(), parent_id=parent
            )
        assert refused.value.field == field
    with write_transaction(engine) as connection:
        # The same name one level down, or in another hierarchy, is fine; so are nodes without
        # a slug side by side.
        create_node(
            connection, store_id, tree.hierarchy_id, {"name": "Bags"}, utc_now(), parent_id=shoes
        )
        create_node(connection, store_id, tree.hierarchy_id, {"name": "No slug"}, utc_now())
        create_node(connection, store_id, tree.hierarchy_id, {"name": "No slug 2"}, utc_now())
        other = create_hierarchy(connection, store_id, {"name": "Other"}, utc_now())
        create_node(connection, store_id, other.id, {"name": "Shoes", "slug": "shoes"}, utc_now())
    with write_transaction(engine) as connection, pytest.raises(SiblingConflict):
        update_node(
            connection,
            store_id,
            tree.hierarchy_id,
            tree.node_ids["Road"],
            {"slug": "trail"},
            utc_now(),
        )
    with write_transaction(engine) as connection, pytest.raises(SiblingConflict):
        # The second Bags, moved to the top, would meet the first.
        move_node(
            connection,
            store_id,
            tree.hierarchy_id,
            _node_named(engine, "Bags", shoes),
            None,
            utc_now(),
        )


def _node_named(engine: Engine, name: str, parent_id: str) -> str:
    with read_transaction(engine) as connection:
        return str(
            connection.execute(
                select(nodes.c.id).where(nodes.c.name == name, nodes.c.parent_id == parent_id)
            ).scalar_one()
        )


def test_a_node_can_never_become_its_own_ancestor(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    shoes, trail = tree.node_ids["Shoes"], tree.node_ids["Trail"]
    for parent in (shoes, trail, tree.node_ids["Running"]):
        with write_transaction(engine) as connection, pytest.raises(NodeCycle):
            move_node(connection, store_id, tree.hierarchy_id, shoes, parent, utc_now())
    with write_transaction(engine) as connection:
        moved = move_node(connection, store_id, tree.hierarchy_id, trail, shoes, utc_now())
        assert moved.parent_id == shoes
        top = move_node(connection, store_id, tree.hierarchy_id, trail, None, utc_now())
        assert top.parent_id is None


def test_a_parent_must_be_a_node_of_the_same_hierarchy(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    with write_transaction(engine) as connection:
        other = create_hierarchy(connection, store_id, {"name": "Other"}, utc_now())
        stranger = create_node(connection, store_id, other.id, {"name": "Stranger"}, utc_now())
    for parent in (stranger.id, str(uuid.uuid4()), "not-a-uuid"):
        with write_transaction(engine) as connection, pytest.raises(ParentNotFound):
            create_node(
                connection,
                store_id,
                tree.hierarchy_id,
                {"name": "Lost"},
                utc_now(),
                parent_id=parent,
            )
        with write_transaction(engine) as connection, pytest.raises(ParentNotFound):
            move_node(
                connection, store_id, tree.hierarchy_id, tree.node_ids["Bags"], parent, utc_now()
            )


def test_deleting_a_node_deletes_its_subtree_and_their_links(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    links_before = count_rows(engine, node_products)
    with write_transaction(engine) as connection:
        delete_node(connection, store_id, tree.hierarchy_id, tree.node_ids["Running"])
    with read_transaction(engine) as connection:
        left = set(
            connection.execute(
                select(nodes.c.name).where(nodes.c.hierarchy_id == tree.hierarchy_id)
            ).scalars()
        )
    assert left == {"Shoes", "Formal", "Bags", "Hats"}
    assert count_rows(engine, node_products) == links_before - 4, "Trail's 3 and Road's 1"
    with write_transaction(engine) as connection, pytest.raises(NodeNotFound):
        delete_node(connection, store_id, tree.hierarchy_id, tree.node_ids["Running"])


def test_deleting_a_hierarchy_deletes_its_nodes_and_links(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    with write_transaction(engine) as connection:
        delete_hierarchy(connection, store_id, tree.hierarchy_id)
    assert count_rows(engine, nodes) == 0
    assert count_rows(engine, node_products) == 0
    assert count_rows(engine, products) == len(tree.product_ids), "products stay"


def test_products_are_linked_all_or_none_and_listed(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    bags = tree.node_ids["Bags"]
    wanted = tree.product_ids[:3]
    unknown = [str(uuid.uuid4()), "not-a-uuid"]
    with write_transaction(engine) as connection, pytest.raises(UnknownProducts) as refused:
        link_products(connection, store_id, tree.hierarchy_id, bags, [*wanted, *unknown])
    assert refused.value.product_ids == unknown
    with read_transaction(engine) as connection:
        assert list_product_ids(
            connection, store_id, tree.hierarchy_id, bags, limit=10, offset=0
        ) == (
            [tree.product_ids[5]],
            1,
        ), "nothing was linked"
    with write_transaction(engine) as connection:
        added = link_products(connection, store_id, tree.hierarchy_id, bags, [*wanted, wanted[0]])
        again = link_products(connection, store_id, tree.hierarchy_id, bags, wanted)
    assert (added, again) == (3, 0)
    with read_transaction(engine) as connection:
        ids, total = list_product_ids(
            connection, store_id, tree.hierarchy_id, bags, limit=2, offset=0
        )
        assert total == 4 and ids == sorted([*wanted, tree.product_ids[5]])[:2]
        found, total = list_node_products(
            connection, store_id, tree.hierarchy_id, bags, limit=10, offset=0
        )
        assert total == 4 and {product.id for product in found} == {*wanted, tree.product_ids[5]}
    with write_transaction(engine) as connection:
        removed = unlink_products(
            connection, store_id, tree.hierarchy_id, bags, [wanted[0], str(uuid.uuid4())]
        )
    assert removed == 1


def test_a_product_from_another_store_cannot_be_linked(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    with write_transaction(engine) as connection:
        other = add_store(connection, "other")
        foreign = add_products(connection, other, 1)
    with write_transaction(engine) as connection, pytest.raises(UnknownProducts):
        link_products(connection, store_id, tree.hierarchy_id, tree.node_ids["Bags"], foreign)


def test_deleting_a_product_removes_its_links(
    engine: Engine, store_id: str, tree: SampleTree
) -> None:
    shared = tree.product_ids[1]  # linked to Shoes and Trail
    with write_transaction(engine) as connection:
        connection.execute(delete(products).where(products.c.id == shared))
    with read_transaction(engine) as connection:
        for name in ("Shoes", "Trail"):
            ids, _ = list_product_ids(
                connection, store_id, tree.hierarchy_id, tree.node_ids[name], limit=10, offset=0
            )
            assert shared not in ids


def insert_chain(
    engine: Engine, store_id: str, hierarchy_id: str, depth: int, label: str = "Level"
) -> list[str]:
    """`depth` nodes, each the only child of the one before, written in one statement."""
    now = utc_now()
    chain = [str(uuid.uuid4()) for _ in range(depth)]
    rows = [
        {
            "id": node_id,
            "store_id": store_id,
            "hierarchy_id": hierarchy_id,
            "parent_id": chain[level - 1] if level else None,
            "name": f"{label} {level}",
            "created_at": now,
            "updated_at": now,
        }
        for level, node_id in enumerate(chain)
    ]
    with write_transaction(engine) as connection:
        connection.execute(insert(nodes), rows)
    return chain


def test_chains_deeper_than_sqlites_trigger_limit_are_checked_and_deleted(
    engine: Engine, store_id: str
) -> None:
    with write_transaction(engine) as connection:
        hierarchy = create_hierarchy(connection, store_id, {"name": "Deep"}, utc_now())
    # SQLite stops a cascade 1,000 levels down; these go past that.
    chain = insert_chain(engine, store_id, hierarchy.id, 1_200)
    with write_transaction(engine) as connection, pytest.raises(NodeCycle):
        move_node(connection, store_id, hierarchy.id, chain[0], chain[-1], utc_now())
    with write_transaction(engine) as connection:
        delete_node(connection, store_id, hierarchy.id, chain[100])
    assert count_rows(engine, nodes) == 100
    insert_chain(engine, store_id, hierarchy.id, 1_200, label="Again")
    with write_transaction(engine) as connection:
        delete_hierarchy(connection, store_id, hierarchy.id)
    assert count_rows(engine, nodes) == 0
