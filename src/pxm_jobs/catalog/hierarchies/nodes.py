"""The nodes of a hierarchy: a tree, with SQLAlchemy Core; the caller owns the transaction.

Every change takes the hierarchy's lock first (`lock_hierarchy`), then checks the tree rules
(a parent in the same hierarchy, no node its own ancestor, unique names and slugs among
siblings) against a tree nobody else can change until the transaction ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.hierarchies.errors import (
    ChildNotFound,
    NodeCycle,
    NodeNotFound,
    ParentNotFound,
    SiblingConflict,
)
from pxm_jobs.catalog.hierarchies.node_cascade import cut_deep_levels
from pxm_jobs.catalog.hierarchies.queries import lock_hierarchy, storable
from pxm_jobs.catalog.hierarchies.rules import NODE_FIELDS, check_fields, check_name
from pxm_jobs.catalog.text_rules import is_storable
from pxm_jobs.store.tables import nodes

# The key of `update_node` changes that moves a node; its value is the new parent or None.
PARENT = "parent_id"


@dataclass(frozen=True)
class Node:
    id: str
    store_id: str
    hierarchy_id: str
    parent_id: str | None
    name: str
    description: str | None
    slug: str | None
    locales: dict[str, Any] | None
    sort_order: int | None
    created_at: datetime
    updated_at: datetime
    # Shown as `meta.parent_name`; read with the node by a join on its parent.
    parent_name: str | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> Node:
        return cls(**{name: row[name] for name in NODE_COLUMNS if name in row})


NODE_COLUMNS = tuple(field.name for field in fields(Node))
_parent = nodes.alias("parent")


def select_nodes() -> Select[Any]:
    """Nodes with their parent's name beside them."""
    return select(nodes, _parent.c.name.label("parent_name")).outerjoin(
        _parent, _parent.c.id == nodes.c.parent_id
    )


# Siblings as PXM orders them: highest sort_order first, nodes without one after, most
# recently updated first; names are unique among siblings, so the order is total.
CHILD_ORDER = (
    nodes.c.sort_order.is_(None),
    nodes.c.sort_order.desc(),
    nodes.c.updated_at.desc(),
    nodes.c.name,
)


def _in_hierarchy(store_id: str, hierarchy_id: str) -> list[ColumnElement[bool]]:
    return [nodes.c.store_id == store_id, nodes.c.hierarchy_id == hierarchy_id]


def get_node(connection: Connection, store_id: str, hierarchy_id: str, node_id: str) -> Node | None:
    if not is_storable(node_id):  # a parent id from a request body; no node has such an id
        return None
    row = (
        connection.execute(
            select_nodes().where(*_in_hierarchy(store_id, hierarchy_id), nodes.c.id == node_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else Node.from_row(row)


def require_node(connection: Connection, store_id: str, hierarchy_id: str, node_id: str) -> Node:
    node = get_node(connection, store_id, hierarchy_id, node_id)
    if node is None:
        raise NodeNotFound()
    return node


def _page(
    connection: Connection,
    conditions: list[ColumnElement[bool]],
    order: tuple[Any, ...],
    limit: int,
    offset: int,
) -> tuple[list[Node], int]:
    rows = connection.execute(
        select_nodes().where(*conditions).order_by(*order).limit(limit).offset(offset)
    ).mappings()
    found = [Node.from_row(row) for row in rows]
    total = connection.execute(
        select(func.count()).select_from(nodes).where(*conditions)
    ).scalar_one()
    return found, total


def list_nodes(
    connection: Connection, store_id: str, hierarchy_id: str, *, limit: int, offset: int
) -> tuple[list[Node], int]:
    """One page of every node of the hierarchy, whatever its depth, oldest first."""
    order = (nodes.c.created_at, nodes.c.id)
    return _page(connection, _in_hierarchy(store_id, hierarchy_id), order, limit, offset)


def list_children(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    parent_id: str | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[Node], int]:
    """One page of a node's children (top-level nodes for None), in sibling order."""
    conditions = _in_hierarchy(store_id, hierarchy_id)
    conditions.append(
        nodes.c.parent_id.is_(None) if parent_id is None else nodes.c.parent_id == parent_id
    )
    return _page(connection, conditions, CHILD_ORDER, limit, offset)


def find_lineage(connection: Connection, node_id: str) -> set[str]:
    """The node and every node above it, in one recursive query."""
    lineage = (
        select(nodes.c.id, nodes.c.parent_id)
        .where(nodes.c.id == node_id)
        .cte("lineage", recursive=True)
    )
    # UNION, not UNION ALL: even a tree corrupted into a cycle ends the walk.
    lineage = lineage.union(
        select(nodes.c.id, nodes.c.parent_id).join(lineage, nodes.c.id == lineage.c.parent_id)
    )
    return set(connection.execute(select(lineage.c.id)).scalars())


def check_siblings(
    connection: Connection,
    hierarchy_id: str,
    parent_id: str | None,
    values: Mapping[str, str | None],
    *,
    exclude_id: str,
) -> None:
    """SiblingConflict if another child of `parent_id` already has one of these names or slugs."""
    siblings = [
        nodes.c.hierarchy_id == hierarchy_id,
        nodes.c.parent_id.is_(None) if parent_id is None else nodes.c.parent_id == parent_id,
        nodes.c.id != exclude_id,
    ]
    for field, value in values.items():
        if value is None:
            continue
        holder = connection.execute(
            select(nodes.c.id).where(*siblings, nodes.c[field] == value).limit(1)
        ).scalar()
        if holder is not None:
            raise SiblingConflict(field, value, holder)


def _check_parent(
    connection: Connection, store_id: str, hierarchy_id: str, node_id: str, parent_id: str
) -> None:
    if get_node(connection, store_id, hierarchy_id, parent_id) is None:
        raise ParentNotFound(parent_id)
    if node_id in find_lineage(connection, parent_id):
        raise NodeCycle(node_id, parent_id)


def create_node(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    values: Mapping[str, Any],
    now: datetime,
    *,
    parent_id: str | None = None,
) -> Node:
    """A new node (`name` required), top-level or under `parent_id` of the same hierarchy."""
    checked = check_fields(values, NODE_FIELDS)
    check_name(checked.get("name"))
    lock_hierarchy(connection, store_id, hierarchy_id)
    if parent_id is not None and get_node(connection, store_id, hierarchy_id, parent_id) is None:
        raise ParentNotFound(parent_id)
    node_id = str(uuid.uuid4())
    check_siblings(
        connection,
        hierarchy_id,
        parent_id,
        {"name": checked["name"], "slug": checked.get("slug")},
        exclude_id=node_id,
    )
    row = (
        connection.execute(
            insert(nodes)
            .values(
                id=node_id,
                store_id=store_id,
                hierarchy_id=hierarchy_id,
                parent_id=parent_id,
                created_at=now,
                updated_at=now,
                **storable(checked),
            )
            .returning(*nodes.c)
        )
        .mappings()
        .one()
    )
    return _with_parent_name(connection, Node.from_row(row))


def _with_parent_name(connection: Connection, node: Node) -> Node:
    if node.parent_id is None:
        return node
    name = connection.execute(select(nodes.c.name).where(nodes.c.id == node.parent_id)).scalar()
    return replace(node, parent_name=name)


def update_node(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    node_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> Node:
    """Change the given fields; with a `PARENT` key, also move the node (None: to the top)."""
    fields_changes = {field: value for field, value in changes.items() if field != PARENT}
    checked = check_fields(fields_changes, NODE_FIELDS)
    lock_hierarchy(connection, store_id, hierarchy_id)
    node = require_node(connection, store_id, hierarchy_id, node_id)
    parent_id = changes.get(PARENT, node.parent_id)
    if PARENT in changes and parent_id is not None:
        _check_parent(connection, store_id, hierarchy_id, node_id, parent_id)
    # Only what changes can clash: a node keeps its place beside siblings it already had.
    moved = parent_id != node.parent_id
    clashing = {
        field: checked.get(field, getattr(node, field))
        for field in ("name", "slug")
        if moved or (field in checked and checked[field] != getattr(node, field))
    }
    check_siblings(connection, hierarchy_id, parent_id, clashing, exclude_id=node_id)
    row = (
        connection.execute(
            update(nodes)
            .where(nodes.c.id == node_id)
            .values(parent_id=parent_id, updated_at=now, **storable(checked))
            .returning(*nodes.c)
        )
        .mappings()
        .one()
    )
    return _with_parent_name(connection, Node.from_row(row))


def move_node(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    node_id: str,
    parent_id: str | None,
    now: datetime,
) -> Node:
    """Put the node under `parent_id` of the same hierarchy, or at the top for None."""
    return update_node(connection, store_id, hierarchy_id, node_id, {PARENT: parent_id}, now)


def delete_node(connection: Connection, store_id: str, hierarchy_id: str, node_id: str) -> None:
    """Delete the node; the database cascades to its subtree and their product links."""
    lock_hierarchy(connection, store_id, hierarchy_id)
    require_node(connection, store_id, hierarchy_id, node_id)
    cut_deep_levels(connection, nodes.c.id == node_id)
    connection.execute(delete(nodes).where(nodes.c.id == node_id))


def find_top_node_ids(connection: Connection, hierarchy_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each hierarchy's top-level node ids, in sibling order, in one query."""
    found: dict[str, list[str]] = {hierarchy_id: [] for hierarchy_id in hierarchy_ids}
    if not hierarchy_ids:
        return found
    rows = connection.execute(
        select(nodes.c.hierarchy_id, nodes.c.id)
        .where(nodes.c.hierarchy_id.in_(hierarchy_ids), nodes.c.parent_id.is_(None))
        .order_by(nodes.c.hierarchy_id, *CHILD_ORDER)
    )
    for hierarchy_id, node_id in rows:
        found[hierarchy_id].append(node_id)
    return found


def find_nodes_by_ids(
    connection: Connection, store_id: str, node_ids: Sequence[str], *, limit: int, offset: int
) -> tuple[list[Node], int]:
    """One page of the store's nodes with these ids, in any hierarchy, oldest first."""
    searchable = [node_id for node_id in dict.fromkeys(node_ids) if is_storable(node_id)]
    conditions = [nodes.c.store_id == store_id, nodes.c.id.in_(searchable)]
    return _page(connection, conditions, (nodes.c.created_at, nodes.c.id), limit, offset)


# A child's sort order is left as it is when the request gives none.
KEEP_SORT_ORDER: Final = object()


def adopt_children(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    parent_id: str,
    children: Sequence[tuple[str, object]],
    now: datetime,
) -> Node:
    """Make these nodes children of `parent_id`, each with its sort order where one is given
    (`KEEP_SORT_ORDER` otherwise); all of them or, on the first refusal, none.
    """
    lock_hierarchy(connection, store_id, hierarchy_id)
    parent = require_node(connection, store_id, hierarchy_id, parent_id)
    for child_id, _ in children:
        if child_id == parent_id:
            raise NodeCycle(child_id, parent_id)
        if get_node(connection, store_id, hierarchy_id, child_id) is None:
            raise ChildNotFound(child_id)
    for child_id, sort_order in children:
        changes: dict[str, Any] = {PARENT: parent_id}
        if sort_order is not KEEP_SORT_ORDER:
            changes["sort_order"] = sort_order
        update_node(connection, store_id, hierarchy_id, child_id, changes, now)
    return parent
