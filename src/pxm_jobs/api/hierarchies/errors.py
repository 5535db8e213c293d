"""The HTTP answer to each refusal of the hierarchy catalog."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.catalog.errors import CatalogError
from pxm_jobs.catalog.hierarchies.errors import (
    ChildNotFound,
    HierarchyNotFound,
    InvalidCatalogField,
    NodeCycle,
    NodeNotFound,
    ParentNotFound,
    SiblingConflict,
    UnknownProducts,
)


def to_api_error(error: CatalogError) -> ApiError:
    """Unknown path ids are 404s; everything else the catalog refuses is a 422."""
    if isinstance(error, HierarchyNotFound):
        return not_found("hierarchy")
    if isinstance(error, NodeNotFound):
        return not_found("node")
    meta: dict[str, Any] | None = None
    if isinstance(error, InvalidCatalogField | SiblingConflict):
        meta = {"field": error.field}
    elif isinstance(error, ParentNotFound | NodeCycle):
        meta = {"field": "relationships.parent"}
    elif isinstance(error, ChildNotFound):
        meta = {"field": "data", "missing_ids": [error.child_id]}
    elif isinstance(error, UnknownProducts):
        meta = {"missing_ids": error.product_ids}
    return ApiError(422, error.detail, title="Failed Validation", meta=meta)


@contextmanager
def catalog_errors_as_http() -> Iterator[None]:
    """Turn a catalog refusal raised in the block into its HTTP answer."""
    try:
        yield
    except CatalogError as error:
        raise to_api_error(error) from None
