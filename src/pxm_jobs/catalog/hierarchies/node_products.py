"""Which products a node holds and which nodes a product is in; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, exists, func, insert, not_, select, true

from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.hierarchies.errors import UnknownProducts
from pxm_jobs.catalog.hierarchies.nodes import Node, require_node, select_nodes
from pxm_jobs.catalog.hierarchies.queries import lock_hierarchy
from pxm_jobs.catalog.products.product_filter import filter_conditions
from pxm_jobs.catalog.products.queries import Product
from pxm_jobs.catalog.text_rules import is_storable
from pxm_jobs.store.tables import node_products, nodes, products

# Ids per IN list: well under SQLite's limit on bound variables.
ID_BATCH = 500


def _batches(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), ID_BATCH):
        yield ids[start : start + ID_BATCH]


def _distinct(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _searchable(ids: Sequence[str]) -> list[str]:
    """The ids a database can compare against; no product has any of the others."""
    return [product_id for product_id in ids if is_storable(product_id)]


def link_products(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    node_id: str,
    product_ids: Sequence[str],
) -> int:
    """Link the node to these products of the store; how many links are new.

    Every id must name a product of the store, or nothing is linked and UnknownProducts names
    the missing ones. Linking a product already linked is not an error.
    """
    lock_hierarchy(connection, store_id, hierarchy_id)
    require_node(connection, store_id, hierarchy_id, node_id)
    wanted = _distinct(product_ids)
    found: set[str] = set()
    linked: set[str] = set()
    for batch in _batches(_searchable(wanted)):
        found.update(
            connection.execute(
                select(products.c.id).where(
                    products.c.store_id == store_id, products.c.id.in_(batch)
                )
            ).scalars()
        )
        linked.update(
            connection.execute(
                select(node_products.c.product_id).where(
                    node_products.c.node_id == node_id, node_products.c.product_id.in_(batch)
                )
            ).scalars()
        )
    missing = [product_id for product_id in wanted if product_id not in found]
    if missing:
        raise UnknownProducts(missing)
    new = [product_id for product_id in wanted if product_id not in linked]
    if new:
        connection.execute(
            insert(node_products),
            [{"node_id": node_id, "product_id": product_id} for product_id in new],
        )
    return len(new)


def unlink_products(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    node_id: str,
    product_ids: Sequence[str],
) -> int:
    """Remove the node's links to these products; ids it is not linked to are ignored."""
    lock_hierarchy(connection, store_id, hierarchy_id)
    require_node(connection, store_id, hierarchy_id, node_id)
    removed = 0
    for batch in _batches(_searchable(_distinct(product_ids))):
        result = connection.execute(
            delete(node_products).where(
                node_products.c.node_id == node_id, node_products.c.product_id.in_(batch)
            )
        )
        removed += result.rowcount
    return removed


def list_product_ids(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    node_id: str,
    *,
    limit: int,
    offset: int,
) -> tuple[list[str], int]:
    """One page of the ids of the node's products, in product id order, and how many."""
    require_node(connection, store_id, hierarchy_id, node_id)
    condition = node_products.c.node_id == node_id
    page = connection.execute(
        select(node_products.c.product_id)
        .where(condition)
        .order_by(node_products.c.product_id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    found = list(page)
    total = connection.execute(
        select(func.count()).select_from(node_products).where(condition)
    ).scalar_one()
    return found, total


def list_node_products(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    node_id: str,
    *,
    limit: int,
    offset: int,
) -> tuple[list[Product], int]:
    """One page of the node's products, most recently updated first, and how many."""
    require_node(connection, store_id, hierarchy_id, node_id)
    linked = select(node_products.c.product_id).where(node_products.c.node_id == node_id)
    conditions = [products.c.store_id == store_id, products.c.id.in_(linked)]
    page = connection.execute(
        select(products)
        .where(*conditions)
        .order_by(products.c.updated_at.desc(), products.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    found = [Product.from_row(row) for row in page]
    total = connection.execute(
        select(func.count()).select_from(products).where(*conditions)
    ).scalar_one()
    return found, total


@dataclass(frozen=True)
class NodesChanged:
    """What `attach_nodes` or `detach_nodes` did: the nodes found, and the ids of the others."""

    nodes: int
    not_found: list[str]


def list_product_nodes(
    connection: Connection, store_id: str, product_id: str, *, limit: int, offset: int
) -> tuple[list[Node], int]:
    """One page of the nodes the product is linked to, in any hierarchy, oldest first."""
    linked = select(node_products.c.node_id).where(node_products.c.product_id == product_id)
    conditions = [nodes.c.store_id == store_id, nodes.c.id.in_(linked)]
    page = connection.execute(
        select_nodes()
        .where(*conditions)
        .order_by(nodes.c.created_at, nodes.c.id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    found = [Node.from_row(row) for row in page]
    total = connection.execute(
        select(func.count()).select_from(nodes).where(*conditions)
    ).scalar_one()
    return found, total


def attach_nodes(
    connection: Connection, store_id: str, filters: Sequence[FilterTerm], node_ids: Sequence[str]
) -> NodesChanged:
    """Link every product the filter matches to every node named, in one statement per few
    hundred nodes however many products match; links already there are left as they are.
    """
    found = _lock_nodes(connection, store_id, node_ids)
    matching = filter_conditions(store_id, filters, connection.dialect.name)
    for batch in _batches(found):
        already = exists().where(
            node_products.c.node_id == nodes.c.id, node_products.c.product_id == products.c.id
        )
        pairs = (
            select(nodes.c.id, products.c.id)
            .select_from(nodes.join(products, true()))
            .where(nodes.c.id.in_(batch), *matching, not_(already))
        )
        connection.execute(insert(node_products).from_select(["node_id", "product_id"], pairs))
    return NodesChanged(len(found), [node_id for node_id in node_ids if node_id not in found])


def detach_nodes(
    connection: Connection, store_id: str, filters: Sequence[FilterTerm], node_ids: Sequence[str]
) -> NodesChanged:
    """Remove the links of every product the filter matches to every node named."""
    found = _lock_nodes(connection, store_id, node_ids)
    matching = select(products.c.id).where(
        *filter_conditions(store_id, filters, connection.dialect.name)
    )
    for batch in _batches(found):
        connection.execute(
            delete(node_products).where(
                node_products.c.node_id.in_(batch), node_products.c.product_id.in_(matching)
            )
        )
    return NodesChanged(len(found), [node_id for node_id in node_ids if node_id not in found])


def _lock_nodes(connection: Connection, store_id: str, node_ids: Sequence[str]) -> list[str]:
    """The store's nodes among `node_ids`, their hierarchies locked (in id order, so two
    requests never wait on each other crosswise) as every change of links does.
    """
    found: dict[str, str] = {}
    for batch in _batches(_searchable(_distinct(node_ids))):
        rows = connection.execute(
            select(nodes.c.id, nodes.c.hierarchy_id).where(
                nodes.c.store_id == store_id, nodes.c.id.in_(batch)
            )
        )
        found.update((node_id, hierarchy_id) for node_id, hierarchy_id in rows)
    for hierarchy_id in sorted(set(found.values())):
        lock_hierarchy(connection, store_id, hierarchy_id)
    return [node_id for node_id in _distinct(node_ids) if node_id in found]
