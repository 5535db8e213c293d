"""Products as JSON:API resources."""

from __future__ import annotations

from typing import Any

from pxm_jobs.catalog.products.queries import Product
from pxm_jobs.clock import format_timestamp

OPTIONAL_ATTRIBUTES = ("description", "sku", "upc_ean", "mpn", "external_ref", "main_image_id")


def render_product(product: Product) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "name": product.name,
        "slug": product.slug,
        "status": product.status,
        "commodity_type": product.commodity_type,
    }
    for name in OPTIONAL_ATTRIBUTES:
        value = getattr(product, name)
        if value is not None:
            attributes[name] = value
    if product.tags:
        attributes["tags"] = list(product.tags)
    if product.locales:
        attributes["locales"] = product.locales
    resource: dict[str, Any] = {
        "type": "product",
        "id": product.id,
        "attributes": attributes,
        "meta": {
            "created_at": format_timestamp(product.created_at),
            "updated_at": format_timestamp(product.updated_at),
            "owner": "store",
        },
    }
    if product.templates:
        resource["meta"]["templates"] = product.templates
    return resource
