"""The HTTP answer to each refusal of the price book catalog."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.catalog.errors import CatalogError, InvalidFilter
from pxm_jobs.catalog.pricebooks.errors import (
    AlreadyExists,
    ModifierNotFound,
    PricebookNotFound,
    PricebookRejected,
    PriceNotFound,
)


def to_api_error(error: CatalogError) -> ApiError:
    """Unknown ids are 404s; a value another holds is a 409 (as Elastic Path answers it); a
    filter that cannot be used is a 400; any other broken rule a 422 naming the field.
    """
    if isinstance(error, PricebookNotFound):
        return not_found("price book")
    if isinstance(error, PriceNotFound):
        return not_found("price")
    if isinstance(error, ModifierNotFound):
        return not_found("price modifier")
    if isinstance(error, InvalidFilter):
        return ApiError(400, error.detail, meta={"parameter": "filter"})
    meta: dict[str, Any] | None = None
    if isinstance(error, AlreadyExists):
        meta = {"field": error.field} if error.field else None
        return ApiError(409, error.detail, title="Conflict", meta=meta)
    if isinstance(error, PricebookRejected) and error.problems:
        first = error.problems[0]
        meta = {"field": first.field, "code": first.code} if first.field else None
    return ApiError(422, error.detail, title="Failed Validation", meta=meta)


@contextmanager
def catalog_errors_as_http() -> Iterator[None]:
    """Turn a catalog refusal raised in the block into its HTTP answer."""
    try:
        yield
    except CatalogError as error:
        raise to_api_error(error) from None
