"""A store's hierarchies, with SQLAlchemy Core; the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, null, select, update
from sqlalchemy.engine import RowMapping

from pxm_jobs.catalog.hierarchies.errors import HierarchyNotFound
from pxm_jobs.catalog.hierarchies.node_cascade import cut_deep_levels
from pxm_jobs.catalog.hierarchies.rules import HIERARCHY_FIELDS, check_fields, check_name
from pxm_jobs.catalog.paging import newest_first_page
from pxm_jobs.store.tables import hierarchies, nodes


@dataclass(frozen=True)
class Hierarchy:
    id: str
    store_id: str
    name: str
    description: str | None
    slug: str | None
    locales: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Hierarchy:
        return cls(**{name: row[name] for name in HIERARCHY_COLUMNS})


HIERARCHY_COLUMNS = tuple(field.name for field in fields(Hierarchy))


def get_hierarchy(connection: Connection, store_id: str, hierarchy_id: str) -> Hierarchy | None:
    row = (
        connection.execute(
            select(hierarchies).where(
                hierarchies.c.store_id == store_id, hierarchies.c.id == hierarchy_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Hierarchy.from_row(row)


def lock_hierarchy(
    connection: Connection, store_id: str, hierarchy_id: str, *, shared: bool = False
) -> Hierarchy:
    """The hierarchy, its row locked until the transaction ends; HierarchyNotFound if absent.

    Every change to a hierarchy's tree or links takes this lock first, so that on PostgreSQL
    two requests cannot together make a cycle or a pair of same-named siblings, and a copy
    (which takes it `shared`) sees one consistent tree. SQLite writers are serialized anyway.
    """
    row = (
        connection.execute(
            select(hierarchies)
            .where(hierarchies.c.store_id == store_id, hierarchies.c.id == hierarchy_id)
            .with_for_update(read=shared)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise HierarchyNotFound()
    return Hierarchy.from_row(row)


def list_hierarchies(
    connection: Connection, store_id: str, *, limit: int, offset: int
) -> tuple[list[Hierarchy], int]:
    """One page of the store's hierarchies, newest first, and how many there are."""
    rows, total = newest_first_page(
        connection, hierarchies, [hierarchies.c.store_id == store_id], limit=limit, offset=offset
    )
    return [Hierarchy.from_row(row) for row in rows], total


def storable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values for INSERT or UPDATE: empty `locales` is SQL NULL, not the JSON text `null`."""
    return {
        field: null() if field == "locales" and value is None else value
        for field, value in values.items()
    }


def check_hierarchy_fields(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields checked; a new hierarchy must have a name."""
    checked = check_fields(values, HIERARCHY_FIELDS)
    if creating and "name" not in checked:
        check_name(None)
    return checked


def create_hierarchy(
    connection: Connection,
    store_id: str,
    values: Mapping[str, Any],
    now: datetime,
    *,
    hierarchy_id: str | None = None,
) -> Hierarchy:
    """A new hierarchy from `values` (`name` required; `description`, `slug`, `locales`)."""
    checked = check_hierarchy_fields(values, creating=True)
    row = (
        connection.execute(
            insert(hierarchies)
            .values(
                id=hierarchy_id or str(uuid.uuid4()),
                store_id=store_id,
                created_at=now,
                updated_at=now,
                **storable(checked),
            )
            .returning(*hierarchies.c)
        )
        .mappings()
        .one()
    )
    return Hierarchy.from_row(row)


def update_hierarchy(
    connection: Connection,
    store_id: str,
    hierarchy_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> Hierarchy:
    """Change the given fields only; HierarchyNotFound if the store has no such hierarchy."""
    checked = check_hierarchy_fields(changes, creating=False)
    row = (
        connection.execute(
            update(hierarchies)
            .where(hierarchies.c.store_id == store_id, hierarchies.c.id == hierarchy_id)
            .values(updated_at=now, **storable(checked))
            .returning(*hierarchies.c)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise HierarchyNotFound()
    return Hierarchy.from_row(row)


def delete_hierarchy(connection: Connection, store_id: str, hierarchy_id: str) -> None:
    """Delete the hierarchy; the database cascades to its nodes and their product links."""
    lock_hierarchy(connection, store_id, hierarchy_id)
    top_level = (nodes.c.hierarchy_id == hierarchy_id) & nodes.c.parent_id.is_(None)
    cut_deep_levels(connection, top_level)
    connection.execute(delete(hierarchies).where(hierarchies.c.id == hierarchy_id))
