"""Hierarchies and nodes as JSON:API resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pxm_jobs.catalog.hierarchies.nodes import Node
from pxm_jobs.catalog.hierarchies.queries import Hierarchy
from pxm_jobs.clock import format_timestamp

HIERARCHIES_PATH = "/pcm/hierarchies"


def _attributes(
    name: str, description: str | None, slug: str | None, locales: dict[str, Any] | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"name": name}
    if description is not None:
        attributes["description"] = description
    if slug is not None:
        attributes["slug"] = slug
    if locales:
        attributes["locales"] = locales
    return attributes


def render_hierarchy(hierarchy: Hierarchy, top_node_ids: Sequence[str] = ()) -> dict[str, Any]:
    path = f"{HIERARCHIES_PATH}/{hierarchy.id}"
    children = [{"type": "node", "id": node_id} for node_id in top_node_ids]
    return {
        "type": "hierarchy",
        "id": hierarchy.id,
        "attributes": _attributes(
            hierarchy.name, hierarchy.description, hierarchy.slug, hierarchy.locales
        ),
        "relationships": {"children": {"data": children, "links": {"related": f"{path}/children"}}},
        "meta": {
            "created_at": format_timestamp(hierarchy.created_at),
            "updated_at": format_timestamp(hierarchy.updated_at),
            "owner": "store",
        },
    }


def render_node(node: Node) -> dict[str, Any]:
    path = f"{HIERARCHIES_PATH}/{node.hierarchy_id}/nodes/{node.id}"
    relationships: dict[str, Any] = {
        "children": {"links": {"related": f"{path}/children"}},
        "products": {"links": {"related": f"{path}/products"}},
    }
    if node.parent_id is not None:
        relationships["parent"] = {"data": {"type": "node", "id": node.parent_id}}
    meta: dict[str, Any] = {
        "created_at": format_timestamp(node.created_at),
        "updated_at": format_timestamp(node.updated_at),
        "owner": "store",
        "hierarchy_id": node.hierarchy_id,
    }
    if node.sort_order is not None:
        meta["sort_order"] = node.sort_order
    if node.parent_name is not None:
        meta["parent_name"] = node.parent_name
    return {
        "type": "node",
        "id": node.id,
        "attributes": _attributes(node.name, node.description, node.slug, node.locales),
        "relationships": relationships,
        "meta": meta,
    }
