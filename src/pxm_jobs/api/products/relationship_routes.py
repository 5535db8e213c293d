"""What a product is related to: its nodes (and nodes attached by filter), its children, its
bundle's component products, and the files, main image and templates it names by id.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import PublicModel, error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.hierarchies.rendering import render_node
from pxm_jobs.api.hierarchies.schemas import NodeListDocument
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.products.rendering import render_products
from pxm_jobs.api.products.routes import catalog_errors_as_http, find_product, read_filter
from pxm_jobs.api.products.schemas import ProductListDocument, ReferenceListDocument
from pxm_jobs.catalog.hierarchies.node_products import (
    attach_nodes,
    detach_nodes,
    list_product_nodes,
)
from pxm_jobs.catalog.products.queries import list_products
from pxm_jobs.catalog.products.relations import FILE, TEMPLATE, Reference, list_references
from pxm_jobs.catalog.products.structured_rules import component_product_ids
from pxm_jobs.catalog.products.writes import change_main_image, change_references
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["products"])

PRODUCT_PATH = "/{product_id}"
RELATIONSHIPS = PRODUCT_PATH + "/relationships"


class NodesByFilter(BaseModel):
    filter: str = Field(description="The products to change, e.g. `eq(sku,book)`.")
    node_ids: list[str]


class NodesByFilterBody(BaseModel):
    data: NodesByFilter


class NodesAttachedMeta(PublicModel):
    nodes_attached: int
    nodes_not_found: list[str]


class NodesDetachedMeta(PublicModel):
    nodes_detached: int
    nodes_not_found: list[str]


class NodesAttachedDocument(PublicModel):
    meta: NodesAttachedMeta


class NodesDetachedDocument(PublicModel):
    meta: NodesDetachedMeta


class FileMeta(BaseModel):
    tags: list[str] = Field(default_factory=list)


class FileReference(BaseModel):
    type: Literal["file"]
    id: str
    meta: FileMeta | None = None


class FileReferences(BaseModel):
    data: list[FileReference]


class TemplateReference(BaseModel):
    type: Literal["template"]
    id: str


class TemplateReferences(BaseModel):
    data: list[TemplateReference]


class MainImage(BaseModel):
    data: FileReference


class MainImageReplacement(BaseModel):
    """pim.yaml sends a list of one file; EP's JavaScript SDK sends the file itself."""

    data: list[FileReference] | FileReference = Field()

    def file_id(self) -> str | None:
        if isinstance(self.data, FileReference):
            return self.data.id
        if len(self.data) > 1:
            raise ApiError(
                422,
                "a product has one main image; send a list of one file (or none to remove it)",
                title="Failed Validation",
                meta={"field": "data"},
            )
        return self.data[0].id if self.data else None


@router.post(
    "/attach_nodes", response_model=NodesAttachedDocument, responses=error_responses(400, 422)
)
def attach_products_to_nodes(
    body: NodesByFilterBody, store_id: StoreIdDep, connection: WriteConnectionDep
) -> dict[str, Any]:
    """Link every product the filter matches to every node named, in one transaction."""
    filters = read_filter(body.data.filter, required=True)
    changed = attach_nodes(connection, store_id, filters, body.data.node_ids)
    return {"meta": {"nodes_attached": changed.nodes, "nodes_not_found": changed.not_found}}


@router.post(
    "/detach_nodes", response_model=NodesDetachedDocument, responses=error_responses(400, 422)
)
def detach_products_from_nodes(
    body: NodesByFilterBody, store_id: StoreIdDep, connection: WriteConnectionDep
) -> dict[str, Any]:
    filters = read_filter(body.data.filter, required=True)
    changed = detach_nodes(connection, store_id, filters, body.data.node_ids)
    return {"meta": {"nodes_detached": changed.nodes, "nodes_not_found": changed.not_found}}


@router.get(
    PRODUCT_PATH + "/nodes", response_model=NodeListDocument, responses=error_responses(400, 404)
)
def list_nodes_of_product(
    request: Request,
    product_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    product = find_product(connection, store_id, product_id)
    found, total = list_product_nodes(
        connection, store_id, product.id, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_node(node) for node in found], total, page)


@router.get(
    PRODUCT_PATH + "/children",
    response_model=ProductListDocument,
    responses=error_responses(400, 404),
)
def list_children_of_product(
    request: Request,
    product_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    """The products built from this one (`filter=eq(parent_id,...)` finds the same)."""
    product = find_product(connection, store_id, product_id)
    filters = read_filter(f"eq(parent_id,{product.id})")
    found, total = list_products(
        connection, store_id, filters=filters, limit=page.limit, offset=page.offset
    )
    return list_document(request, render_products(connection, found), total, page)


@router.get(
    RELATIONSHIPS + "/component_products",
    response_model=ReferenceListDocument,
    responses=error_responses(404),
)
def list_component_products(
    product_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    product = find_product(connection, store_id, product_id)
    ids = component_product_ids(product.components)
    return {"data": [{"type": "product", "id": component_id} for component_id in ids]}


def _references_document(kind: str, references: list[Reference]) -> dict[str, Any]:
    return {"data": [{"type": kind, "id": reference.id} for reference in references]}


def _file_references(body: FileReferences) -> list[Reference]:
    return [
        Reference(item.id, item.meta.model_dump() if item.meta is not None else None)
        for item in body.data
    ]


@router.get(
    RELATIONSHIPS + "/files", response_model=ReferenceListDocument, responses=error_responses(404)
)
def list_product_files(
    product_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    product = find_product(connection, store_id, product_id)
    return _references_document(FILE, list_references(connection, product.id, FILE))


def _change_files(
    action: str, product_id: str, body: FileReferences, store_id: str, connection: Connection
) -> Response:
    product = find_product(connection, store_id, product_id)
    with catalog_errors_as_http():
        change_references(
            connection, store_id, product.id, FILE, action, _file_references(body), utc_now()
        )
    return Response(status_code=204)


_NO_CONTENT: dict[str, Any] = {
    "status_code": 204,
    "response_class": Response,
    "responses": error_responses(400, 404, 422),
}


@router.post(RELATIONSHIPS + "/files", **_NO_CONTENT)
def add_product_files(
    product_id: str, body: FileReferences, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    """Name these files beside the ones the product names already."""
    return _change_files("add", product_id, body, store_id, connection)


@router.put(RELATIONSHIPS + "/files", **_NO_CONTENT)
def replace_product_files(
    product_id: str, body: FileReferences, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    return _change_files("replace", product_id, body, store_id, connection)


@router.delete(RELATIONSHIPS + "/files", **_NO_CONTENT)
def remove_product_files(
    product_id: str, body: FileReferences, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    return _change_files("remove", product_id, body, store_id, connection)


@router.get(
    RELATIONSHIPS + "/templates",
    response_model=ReferenceListDocument,
    responses=error_responses(404),
)
def list_product_templates(
    product_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    product = find_product(connection, store_id, product_id)
    return _references_document(TEMPLATE, list_references(connection, product.id, TEMPLATE))


@router.post(
    RELATIONSHIPS + "/templates",
    status_code=201,
    response_model=ReferenceListDocument,
    responses=error_responses(400, 404, 422),
)
def add_product_templates(
    product_id: str,
    body: TemplateReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> dict[str, Any]:
    """Name these templates beside the product's others; answers with all of them."""
    product = find_product(connection, store_id, product_id)
    references = [Reference(item.id) for item in body.data]
    with catalog_errors_as_http():
        after = change_references(
            connection, store_id, product.id, TEMPLATE, "add", references, utc_now()
        )
    return _references_document(TEMPLATE, after)


@router.delete(RELATIONSHIPS + "/templates", **_NO_CONTENT)
def remove_product_templates(
    product_id: str,
    body: TemplateReferences,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    product = find_product(connection, store_id, product_id)
    references = [Reference(item.id) for item in body.data]
    change_references(connection, store_id, product.id, TEMPLATE, "remove", references, utc_now())
    return Response(status_code=204)


@router.get(
    RELATIONSHIPS + "/main_image",
    response_model=ReferenceListDocument,
    responses=error_responses(404),
)
def show_main_image(
    product_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    """The main image as a list of at most one file, as EP answers it."""
    product = find_product(connection, store_id, product_id)
    image = product.main_image_id
    return {"data": [] if image is None else [{"type": "file", "id": image}]}


def _set_main_image(
    product_id: str, file_id: str | None, store_id: str, connection: Connection
) -> Response:
    product = find_product(connection, store_id, product_id)
    with catalog_errors_as_http():
        change_main_image(connection, store_id, product.id, file_id, utc_now())
    return Response(status_code=204)


@router.post(RELATIONSHIPS + "/main_image", **_NO_CONTENT)
def set_main_image(
    product_id: str, body: MainImage, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    return _set_main_image(product_id, body.data.id, store_id, connection)


@router.put(RELATIONSHIPS + "/main_image", **_NO_CONTENT)
def replace_main_image(
    product_id: str,
    body: MainImageReplacement,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    """`data` is a list of one file (none removes the main image)."""
    return _set_main_image(product_id, body.file_id(), store_id, connection)


@router.delete(RELATIONSHIPS + "/main_image", **_NO_CONTENT)
def remove_main_image(
    product_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    return _set_main_image(product_id, None, store_id, connection)
