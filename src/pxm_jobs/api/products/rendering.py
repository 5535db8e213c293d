"""Products as JSON:API resources, shaped as Elastic Path renders them.

Custom data reads as `attributes.extensions["products(<template>)"]`; `relationships` has
EP's six entries with links that resolve on this service; `meta.product_types` is derived
from the product (components, a base product, children); a base product's `meta.variations`
lists its variations with their options, and `meta.variation_matrix` the children built from
them (empty until they are built).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Connection

from pxm_jobs.catalog.products.children.variations_shown import (
    ChildVariation,
    load_child_variations,
)
from pxm_jobs.catalog.products.queries import Product, find_products_by
from pxm_jobs.catalog.products.relations import (
    FILE,
    NO_RELATIONS,
    TEMPLATE,
    VARIATION,
    ProductRelations,
    load_relations,
)
from pxm_jobs.catalog.products.structured_rules import component_product_ids
from pxm_jobs.catalog.variations.matrix import variation_matrix
from pxm_jobs.catalog.variations.models import VariationWithOptions
from pxm_jobs.clock import format_timestamp

PRODUCTS_PATH: Final = "/pcm/products"
OPTIONAL_ATTRIBUTES: Final = (
    "description",
    "sku",
    "upc_ean",
    "mpn",
    "external_ref",
    "main_image_id",
)
STRUCTURED_ATTRIBUTES: Final = (
    "custom_inputs",
    "build_rules",
    "components",
    "shopper_attributes",
    "admin_attributes",
)
COMPONENT_PRODUCTS: Final = "component_products"
# What each kind of reference is called on the wire.
REFERENCE_TYPES: Final = {FILE: "file", TEMPLATE: "template", VARIATION: "product-variation"}


def extensions_key(template: str) -> str:
    """The key EP gives a template's custom data in `attributes.extensions`."""
    return f"products({template})"


def product_types(product: Product, relations: ProductRelations) -> list[str]:
    if product.is_bundle:
        return ["bundle"]
    if product.parent_id is not None:
        return ["child"]
    if relations.has_children:
        return ["parent"]
    return ["standard"]


def render_product(
    product: Product,
    relations: ProductRelations = NO_RELATIONS,
    child_variations: Sequence[ChildVariation] | None = None,
) -> dict[str, Any]:
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
    for name in STRUCTURED_ATTRIBUTES:
        value = getattr(product, name)
        if value is not None:
            attributes[name] = value
    if product.templates:
        attributes["extensions"] = {
            extensions_key(template): fields for template, fields in product.templates.items()
        }
    meta: dict[str, Any] = {
        "created_at": format_timestamp(product.created_at),
        "updated_at": format_timestamp(product.updated_at),
        "owner": "store",
        "product_types": product_types(product, relations),
        "variation_matrix": variation_matrix(relations.variations, relations.child_options),
    }
    if relations.variations:
        meta["variations"] = render_product_variations(relations.variations)
    if product.parent_id is not None:
        meta["child_variations"] = [
            {
                "id": shown.id,
                "name": shown.name,
                "sort_order": shown.sort_order,
                "options": None,
                "option": {
                    "id": shown.option_id,
                    "name": shown.option_name,
                    "description": shown.option_description,
                },
            }
            for shown in child_variations or ()
        ]
    return {
        "type": "product",
        "id": product.id,
        "attributes": attributes,
        "relationships": _relationships(product, relations),
        "meta": meta,
    }


def render_product_variations(
    product_variations: Sequence[VariationWithOptions],
) -> list[dict[str, Any]]:
    """`meta.variations`: each variation's id and name, and its options' id, name and
    description (a description only where the option has one)."""
    rendered = []
    for variation in product_variations:
        options = []
        for option in variation.options:
            shown = {"id": option.id, "name": option.name}
            if option.description is not None:
                shown["description"] = option.description
            options.append(shown)
        rendered.append({"id": variation.id, "name": variation.name, "options": options})
    return rendered


def _relationships(product: Product, relations: ProductRelations) -> dict[str, Any]:
    path = f"{PRODUCTS_PATH}/{product.id}"

    def to_many(kind: str) -> dict[str, Any]:
        data = [{"type": REFERENCE_TYPES[kind], "id": item.id} for item in relations.of(kind)]
        return {"data": data, "links": {"self": f"{path}/relationships/{kind}s"}}

    components = [
        {"type": "product", "id": product_id}
        for product_id in component_product_ids(product.components)
    ]
    main_image = product.main_image_id
    relationships: dict[str, Any] = {
        # Children are listed at their link, never inline: a base product may have thousands.
        "children": {"data": [], "links": {"self": f"{path}/children"}},
        "component_products": {
            "data": components,
            "links": {"self": f"{path}/relationships/component_products"},
        },
        "files": to_many(FILE),
        "main_image": {"data": None if main_image is None else {"type": "file", "id": main_image}},
        "templates": to_many(TEMPLATE),
        "variations": to_many(VARIATION),
    }
    if product.parent_id is not None:
        base = {"data": {"type": "product", "id": product.parent_id}}
        # EP's name for it, and the name a node's parent has.
        relationships["base_product"] = base
        relationships["parent"] = base
    return relationships


def render_products(connection: Connection, found: Sequence[Product]) -> list[dict[str, Any]]:
    """The products as resources, their relations read in a few queries for the whole page."""
    relations = load_relations(connection, [product.id for product in found])
    shown = load_child_variations(connection, found)
    return [
        render_product(product, relations[product.id], shown.get(product.id)) for product in found
    ]


def render_included(
    connection: Connection, store_id: str, found: Sequence[Product]
) -> dict[str, Any]:
    """`included.component_products`: every product the bundles among `found` offer, once."""
    wanted: dict[str, None] = {}
    for product in found:
        wanted.update(dict.fromkeys(component_product_ids(product.components)))
    components = find_products_by(connection, store_id, "id", list(wanted))
    by_id = {component.id: component for component in components}
    ordered = [by_id[product_id] for product_id in wanted if product_id in by_id]
    return {COMPONENT_PRODUCTS: render_products(connection, ordered)}
