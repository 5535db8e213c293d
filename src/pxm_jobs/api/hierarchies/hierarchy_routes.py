"""Hierarchies: create, read, change and delete them, list their top nodes, queue copies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.hierarchies.errors import catalog_errors_as_http
from pxm_jobs.api.hierarchies.rendering import render_hierarchy, render_node
from pxm_jobs.api.hierarchies.schemas import (
    HierarchyCreate,
    HierarchyDocument,
    HierarchyDuplicate,
    HierarchyListDocument,
    HierarchyUpdate,
    NodeListDocument,
)
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.jobs.queueing import IdempotencyKeyDep, queue_job
from pxm_jobs.api.jobs.routes import job_document
from pxm_jobs.api.jobs.schemas import JobDocument
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.request_id import request_id_of
from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import EQ, IN, parse_filter
from pxm_jobs.catalog.hierarchies.nodes import find_nodes_by_ids, find_top_node_ids, list_children
from pxm_jobs.catalog.hierarchies.queries import (
    Hierarchy,
    create_hierarchy,
    delete_hierarchy,
    get_hierarchy,
    list_hierarchies,
    update_hierarchy,
)
from pxm_jobs.clock import utc_now
from pxm_jobs.jobs.hierarchy_duplicate import request_duplicate

router = APIRouter(tags=["hierarchies"])


def find_hierarchy(connection: Connection, store_id: str, hierarchy_id: str) -> Hierarchy:
    """The store's hierarchy named in the path, or the 404 an unknown or foreign id gets."""
    hierarchy = get_hierarchy(connection, store_id, require_uuid(hierarchy_id, "hierarchy"))
    if hierarchy is None:
        raise not_found("hierarchy")
    return hierarchy


def render_hierarchies(connection: Connection, found: Sequence[Hierarchy]) -> list[dict[str, Any]]:
    top_nodes = find_top_node_ids(connection, [hierarchy.id for hierarchy in found])
    return [render_hierarchy(hierarchy, top_nodes[hierarchy.id]) for hierarchy in found]


def refuse_other_id(body_id: str | None, path_id: str) -> None:
    if body_id is not None and body_id != path_id:
        raise ApiError(
            422,
            f"data.id {body_id!r} does not match the id in the path; leave it out or make "
            "them equal",
            title="Failed Validation",
            meta={"field": "data.id"},
        )


@router.get("", response_model=HierarchyListDocument, responses=error_responses(400))
def list_store_hierarchies(
    request: Request, store_id: StoreIdDep, connection: ReadConnectionDep, page: PageDep
) -> dict[str, Any]:
    found, total = list_hierarchies(connection, store_id, limit=page.limit, offset=page.offset)
    return list_document(request, render_hierarchies(connection, found), total, page)


@router.get("/nodes", response_model=NodeListDocument, responses=error_responses(400))
def list_nodes_by_id(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: Annotated[
        str | None,
        Query(description="`in(id,<node id>,...)` or `eq(id,<node id>)`: nodes of any hierarchy."),
    ] = None,
) -> dict[str, Any]:
    """The store's nodes with the ids a filter names, across hierarchies."""
    try:
        terms = parse_filter(filter or "", attributes={"id": "id"}, operators=(EQ, IN))
    except InvalidFilter as error:
        raise ApiError(400, error.detail, meta={"parameter": "filter"}) from None
    wanted = [value for term in terms for value in term.values]
    if len(terms) > 1:
        wanted = list(set.intersection(*(set(term.values) for term in terms)))
    found, total = find_nodes_by_ids(
        connection, store_id, wanted, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_node(node) for node in found], total, page)


@router.post(
    "", status_code=201, response_model=HierarchyDocument, responses=error_responses(400, 422)
)
def create_store_hierarchy(
    body: HierarchyCreate, store_id: StoreIdDep, connection: WriteConnectionDep
) -> dict[str, Any]:
    with catalog_errors_as_http():
        hierarchy = create_hierarchy(connection, store_id, body.data.attributes.given(), utc_now())
    return {"data": render_hierarchies(connection, [hierarchy])[0]}


@router.get("/{hierarchy_id}", response_model=HierarchyDocument, responses=error_responses(404))
def show_hierarchy(
    hierarchy_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    hierarchy = find_hierarchy(connection, store_id, hierarchy_id)
    return {"data": render_hierarchies(connection, [hierarchy])[0]}


@router.put(
    "/{hierarchy_id}", response_model=HierarchyDocument, responses=error_responses(400, 404, 422)
)
def update_store_hierarchy(
    hierarchy_id: str,
    body: HierarchyUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    path_id = require_uuid(hierarchy_id, "hierarchy")
    refuse_other_id(body.data.id, path_id)
    with catalog_errors_as_http():
        hierarchy = update_hierarchy(
            connection, store_id, path_id, body.data.attributes.given(), utc_now()
        )
    return {"data": render_hierarchies(connection, [hierarchy])[0]}


@router.delete(
    "/{hierarchy_id}", status_code=204, response_class=Response, responses=error_responses(404)
)
def delete_store_hierarchy(
    hierarchy_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    with catalog_errors_as_http():
        delete_hierarchy(connection, store_id, require_uuid(hierarchy_id, "hierarchy"))
    return Response(status_code=204)


@router.get(
    "/{hierarchy_id}/children",
    response_model=NodeListDocument,
    responses=error_responses(400, 404),
)
def list_top_level_nodes(
    request: Request,
    hierarchy_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    hierarchy = find_hierarchy(connection, store_id, hierarchy_id)
    found, total = list_children(
        connection, store_id, hierarchy.id, None, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_node(node) for node in found], total, page)


@router.post(
    "/{hierarchy_id}/duplicate_job",
    status_code=201,
    response_model=JobDocument,
    responses=error_responses(400, 404, 422),
)
def duplicate_store_hierarchy(
    request: Request,
    response: Response,
    hierarchy_id: str,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    idempotency_key: IdempotencyKeyDep,
    body: HierarchyDuplicate | None = None,
) -> dict[str, Any]:
    """Queue a `hierarchy-duplicate` job; the new hierarchy's id is chosen now and shown."""
    source = find_hierarchy(connection, store_id, hierarchy_id)
    attributes = body.data.attributes.given() if body is not None else {}
    with catalog_errors_as_http():
        asked = request_duplicate(store_id, source.id, attributes, request_id_of(request))
    job = queue_job(connection, asked.keyed(idempotency_key), response, utc_now())
    return {"data": job_document(connection, job)}
