"""Trees of nodes for tests: build one through the catalog, and describe one without its ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from pxm_jobs.catalog.hierarchies.node_products import link_products
from pxm_jobs.catalog.hierarchies.nodes import CHILD_ORDER, create_node
from pxm_jobs.catalog.hierarchies.queries import create_hierarchy
from pxm_jobs.clock import utc_now
from pxm_jobs.store.tables import node_products, nodes, products


def add_products(connection: Connection, store_id: str, count: int) -> list[str]:
    now = utc_now()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "store_id": store_id,
            "name": f"Product {n}",
            "slug": f"product-{uuid.uuid4().hex[:12]}",
            "sku": f"sku-{uuid.uuid4().hex[:12]}",
            "status": "live",
            "commodity_type": "physical",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    connection.execute(insert(products), rows)
    return [str(row["id"]) for row in rows]


@dataclass(frozen=True)
class SampleTree:
    hierarchy_id: str
    # Node ids by name; names are unique across this sample.
    node_ids: dict[str, str]
    product_ids: list[str]


def build_sample_tree(connection: Connection, store_id: str) -> SampleTree:
    """A hierarchy three levels deep with every field used, some sort orders and some links.

    ```
    Shoes ── Running ── Trail
          │          └─ Road
          └─ Formal
    Bags
    Hats (sort 5)
    ```
    """
    start = utc_now() - timedelta(days=1)
    hierarchy = create_hierarchy(
        connection,
        store_id,
        {
            "name": "Catalog",
            "description": "Everything we sell",
            "slug": "catalog",
            "locales": {"fr-FR": {"name": "Catalogue", "description": "Tout"}},
        },
        start,
    )
    product_ids = add_products(connection, store_id, 6)
    node_ids: dict[str, str] = {}
    plan: list[tuple[str, str | None, dict[str, Any]]] = [
        ("Shoes", None, {"slug": "shoes", "description": "On feet", "sort_order": 2}),
        ("Bags", None, {"slug": "bags"}),
        ("Hats", None, {"slug": "hats", "sort_order": 5, "locales": {"de-DE": {"name": "Hüte"}}}),
        ("Running", "Shoes", {"slug": "running"}),
        ("Formal", "Shoes", {"slug": "formal", "description": "Suits"}),
        ("Trail", "Running", {"slug": "trail", "sort_order": 1}),
        ("Road", "Running", {"slug": "road"}),
    ]
    for n, (name, parent, values) in enumerate(plan):
        node = create_node(
            connection,
            store_id,
            hierarchy.id,
            {"name": name, **values},
            start + timedelta(seconds=n),
            parent_id=node_ids[parent] if parent else None,
        )
        node_ids[name] = node.id
    links = {"Shoes": [0, 1], "Trail": [1, 2, 3], "Road": [4], "Bags": [5]}
    for name, numbers in links.items():
        link_products(
            connection,
            store_id,
            hierarchy.id,
            node_ids[name],
            [product_ids[number] for number in numbers],
        )
    return SampleTree(hierarchy.id, node_ids, product_ids)


def describe_tree(connection: Connection, hierarchy_id: str) -> list[dict[str, Any]]:
    """The hierarchy's nodes as nested data without ids, children in sibling order.

    Two hierarchies with equal descriptions have the same shape, the same content in every
    node, the same order among siblings and the same product links.
    """
    rows = connection.execute(
        select(nodes).where(nodes.c.hierarchy_id == hierarchy_id).order_by(*CHILD_ORDER)
    ).mappings()
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(dict(row))
    links: dict[str, list[str]] = {}
    for node_id, product_id in connection.execute(
        select(node_products.c.node_id, node_products.c.product_id)
        .join(nodes, nodes.c.id == node_products.c.node_id)
        .where(nodes.c.hierarchy_id == hierarchy_id)
    ):
        links.setdefault(node_id, []).append(product_id)

    def describe(parent_id: str | None) -> list[dict[str, Any]]:
        return [
            {
                **{
                    key: value
                    for key, value in row.items()
                    if key not in ("id", "parent_id", "hierarchy_id")
                },
                "products": sorted(links.get(row["id"], [])),
                "children": describe(row["id"]),
            }
            for row in children.get(parent_id, [])
        ]

    return describe(None)


def node_ids_of(connection: Connection, hierarchy_id: str) -> set[str]:
    return set(
        connection.execute(select(nodes.c.id).where(nodes.c.hierarchy_id == hierarchy_id)).scalars()
    )
