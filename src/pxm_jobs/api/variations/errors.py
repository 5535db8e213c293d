"""The HTTP answer to each refusal of the variations catalog."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.catalog.errors import CatalogError, ProductNotFound
from pxm_jobs.catalog.variations.errors import (
    InvalidVariationField,
    ModifierNotFound,
    ModifierTypeTaken,
    OptionNotFound,
    UnknownVariations,
    VariationInUse,
    VariationNotFound,
)

_NOT_FOUND = {
    VariationNotFound: "variation",
    OptionNotFound: "variation option",
    ModifierNotFound: "modifier",
    ProductNotFound: "product",
}


def to_api_error(error: CatalogError) -> ApiError:
    """Unknown path ids are 404s; everything else the catalog refuses is a 422 (pim.yaml's
    answer to a second modifier of a type and to deleting what is in use)."""
    for refusal, what in _NOT_FOUND.items():
        if isinstance(error, refusal):
            return not_found(what)
    meta: dict[str, Any] | None = None
    if isinstance(error, InvalidVariationField):
        meta = {"field": error.field}
    elif isinstance(error, ModifierTypeTaken):
        meta = {"field": "type"}
    elif isinstance(error, VariationInUse):
        meta = {"product_ids": error.product_ids[:100]}
    elif isinstance(error, UnknownVariations):
        meta = {"field": "data", "missing_ids": error.variation_ids}
    return ApiError(422, error.detail, title="Failed Validation", meta=meta)


@contextmanager
def catalog_errors_as_http() -> Iterator[None]:
    """Turn a catalog refusal raised in the block into its HTTP answer."""
    try:
        yield
    except CatalogError as error:
        raise to_api_error(error) from None
