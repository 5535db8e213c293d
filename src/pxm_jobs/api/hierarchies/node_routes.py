"""Nodes of a hierarchy: create, read, change, move and delete them, list their children."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import not_found
from pxm_jobs.api.hierarchies.errors import catalog_errors_as_http
from pxm_jobs.api.hierarchies.hierarchy_routes import find_hierarchy, refuse_other_id
from pxm_jobs.api.hierarchies.rendering import render_node
from pxm_jobs.api.hierarchies.schemas import (
    NodeChildren,
    NodeCreate,
    NodeDocument,
    NodeListDocument,
    NodeUpdate,
    ParentUpdate,
)
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.catalog.hierarchies.nodes import (
    KEEP_SORT_ORDER,
    PARENT,
    adopt_children,
    create_node,
    delete_node,
    get_node,
    list_children,
    list_nodes,
    move_node,
    require_node,
    update_node,
)
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["nodes"])

NODE_PATH = "/{hierarchy_id}/nodes/{node_id}"


def require_node_ids(hierarchy_id: str, node_id: str) -> tuple[str, str]:
    """Both path ids in canonical form; one that is no UUID is a 404 like an unknown one."""
    return require_uuid(hierarchy_id, "hierarchy"), require_uuid(node_id, "node")


@router.get(
    "/{hierarchy_id}/nodes", response_model=NodeListDocument, responses=error_responses(400, 404)
)
def list_hierarchy_nodes(
    request: Request,
    hierarchy_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    hierarchy = find_hierarchy(connection, store_id, hierarchy_id)
    found, total = list_nodes(
        connection, store_id, hierarchy.id, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_node(node) for node in found], total, page)


@router.post(
    "/{hierarchy_id}/nodes",
    status_code=201,
    response_model=NodeDocument,
    responses=error_responses(400, 404, 422),
)
def create_hierarchy_node(
    hierarchy_id: str, body: NodeCreate, store_id: StoreIdDep, connection: WriteConnectionDep
) -> dict[str, Any]:
    data = body.data
    parent = data.relationships.parent
    values = data.attributes.given() | data.meta.given()
    with catalog_errors_as_http():
        node = create_node(
            connection,
            store_id,
            require_uuid(hierarchy_id, "hierarchy"),
            values,
            utc_now(),
            parent_id=parent.data.id if parent is not None and parent.data is not None else None,
        )
    return {"data": render_node(node)}


@router.get(NODE_PATH, response_model=NodeDocument, responses=error_responses(404))
def show_node(
    hierarchy_id: str, node_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    node = get_node(connection, store_id, *require_node_ids(hierarchy_id, node_id))
    if node is None:
        raise not_found("node")
    return {"data": render_node(node)}


@router.put(NODE_PATH, response_model=NodeDocument, responses=error_responses(400, 404, 422))
def update_hierarchy_node(
    hierarchy_id: str,
    node_id: str,
    body: NodeUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    hierarchy_id, node_id = require_node_ids(hierarchy_id, node_id)
    data = body.data
    refuse_other_id(data.id, node_id)
    changes = data.attributes.given() | data.meta.given()
    parent = data.relationships.parent
    if parent is not None:
        changes[PARENT] = parent.data.id if parent.data is not None else None
    with catalog_errors_as_http():
        node = update_node(connection, store_id, hierarchy_id, node_id, changes, utc_now())
    return {"data": render_node(node)}


@router.delete(NODE_PATH, status_code=204, response_class=Response, responses=error_responses(404))
def delete_hierarchy_node(
    hierarchy_id: str, node_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    with catalog_errors_as_http():
        delete_node(connection, store_id, *require_node_ids(hierarchy_id, node_id))
    return Response(status_code=204)


@router.get(
    NODE_PATH + "/children", response_model=NodeListDocument, responses=error_responses(400, 404)
)
def list_node_children(
    request: Request,
    hierarchy_id: str,
    node_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    hierarchy_id, node_id = require_node_ids(hierarchy_id, node_id)
    if get_node(connection, store_id, hierarchy_id, node_id) is None:
        raise not_found("node")
    found, total = list_children(
        connection, store_id, hierarchy_id, node_id, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_node(node) for node in found], total, page)


@router.post(
    NODE_PATH + "/relationships/children",
    response_model=NodeDocument,
    responses=error_responses(400, 404, 422),
)
def adopt_node_children(
    hierarchy_id: str,
    node_id: str,
    body: NodeChildren,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    """Make the nodes named children of this one, with the sort orders given; answers the node."""
    hierarchy_id, node_id = require_node_ids(hierarchy_id, node_id)
    children = [
        (
            child.id,
            child.meta.sort_order
            if child.meta is not None and "sort_order" in child.meta.model_fields_set
            else KEEP_SORT_ORDER,
        )
        for child in body.data
    ]
    with catalog_errors_as_http():
        node = adopt_children(connection, store_id, hierarchy_id, node_id, children, utc_now())
        return {"data": render_node(require_node(connection, store_id, hierarchy_id, node.id))}


@router.put(
    NODE_PATH + "/relationships/parent",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 404, 422),
)
def change_node_parent(
    hierarchy_id: str,
    node_id: str,
    body: ParentUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    with catalog_errors_as_http():
        move_node(
            connection, store_id, *require_node_ids(hierarchy_id, node_id), body.data.id, utc_now()
        )
    return Response(status_code=204)


@router.delete(
    NODE_PATH + "/relationships/parent",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def remove_node_parent(
    hierarchy_id: str, node_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    """Make the node a top-level node of its hierarchy."""
    with catalog_errors_as_http():
        move_node(connection, store_id, *require_node_ids(hierarchy_id, node_id), None, utc_now())
    return Response(status_code=204)
