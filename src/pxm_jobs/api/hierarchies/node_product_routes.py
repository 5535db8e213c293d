"""A node's products: link and unlink them, list their ids or the products themselves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.hierarchies.errors import catalog_errors_as_http
from pxm_jobs.api.hierarchies.node_routes import NODE_PATH, require_node_ids
from pxm_jobs.api.hierarchies.rendering import render_node
from pxm_jobs.api.hierarchies.schemas import (
    NodeDocument,
    ProductReferenceListDocument,
    ProductReferences,
)
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.products.rendering import render_products
from pxm_jobs.api.products.schemas import ProductListDocument
from pxm_jobs.catalog.hierarchies.node_products import (
    link_products,
    list_node_products,
    list_product_ids,
    unlink_products,
)
from pxm_jobs.catalog.hierarchies.nodes import require_node

router = APIRouter(tags=["nodes"])

RELATIONSHIP_PATH = NODE_PATH + "/relationships/products"


def _node_document(
    connection: Connection, store_id: str, hierarchy_id: str, node_id: str
) -> dict[str, Any]:
    return {"data": render_node(require_node(connection, store_id, hierarchy_id, node_id))}


@router.post(
    RELATIONSHIP_PATH,
    status_code=201,
    response_model=NodeDocument,
    responses=error_responses(400, 404, 422),
)
def link_node_products(
    hierarchy_id: str,
    node_id: str,
    body: ProductReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    """Link every product named, or none if one is unknown; answers with the node."""
    ids = require_node_ids(hierarchy_id, node_id)
    with catalog_errors_as_http():
        link_products(connection, store_id, *ids, [item.id for item in body.data])
        return _node_document(connection, store_id, *ids)


@router.delete(
    RELATIONSHIP_PATH, response_model=NodeDocument, responses=error_responses(400, 404, 422)
)
def unlink_node_products(
    hierarchy_id: str,
    node_id: str,
    body: ProductReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    ids = require_node_ids(hierarchy_id, node_id)
    with catalog_errors_as_http():
        unlink_products(connection, store_id, *ids, [item.id for item in body.data])
        return _node_document(connection, store_id, *ids)


@router.get(
    RELATIONSHIP_PATH,
    response_model=ProductReferenceListDocument,
    responses=error_responses(400, 404),
)
def list_node_product_ids(
    request: Request,
    hierarchy_id: str,
    node_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    with catalog_errors_as_http():
        found, total = list_product_ids(
            connection,
            store_id,
            *require_node_ids(hierarchy_id, node_id),
            limit=page.limit,
            offset=page.offset,
        )
    data = [{"type": "product", "id": product_id} for product_id in found]
    return list_document(request, data, total, page)


@router.get(
    NODE_PATH + "/products", response_model=ProductListDocument, responses=error_responses(400, 404)
)
def list_products_of_node(
    request: Request,
    hierarchy_id: str,
    node_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    with catalog_errors_as_http():
        found, total = list_node_products(
            connection,
            store_id,
            *require_node_ids(hierarchy_id, node_id),
            limit=page.limit,
            offset=page.offset,
        )
    return list_document(request, render_products(connection, found), total, page)
