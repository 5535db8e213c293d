"""What a product is related to: the products its bundle components offer, and the files,
templates and variations it names by id; the caller owns the transaction.

Component products are products of the store, checked when a bundle is written and kept in
`product_components`, whose key refuses deleting a product a bundle offers. Files and templates
belong to other services: their ids are kept as given, in the order given. Variations are the
store's own (`catalog.variations.product_links`); they read here with their options.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, delete, func, insert, select

from pxm_jobs.catalog.errors import ProductRejected
from pxm_jobs.catalog.products.children.variations_shown import children_by_options
from pxm_jobs.catalog.products.structured_rules import component_product_ids
from pxm_jobs.catalog.text_rules import is_storable
from pxm_jobs.catalog.variations.matrix_inputs import variations_of_products
from pxm_jobs.catalog.variations.models import VariationWithOptions
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import product_components, product_references, products

FILE: Final = "file"
TEMPLATE: Final = "template"
VARIATION: Final = "variation"
REFERENCE_KINDS: Final = (FILE, TEMPLATE, VARIATION)
REFERENCE_ID_MAX_CHARS: Final = 255
# Problem codes of bundles.
NOT_FOUND = "not_found"
IN_BUNDLE = "in_bundle"
_BATCH: Final = 500


@dataclass(frozen=True)
class Reference:
    id: str
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProductRelations:
    """What a product's `relationships` and `meta.product_types` are made of, besides itself."""

    references: Mapping[str, Sequence[Reference]] = field(default_factory=dict)
    has_children: bool = False
    # The variations the product names, with their options, in display order.
    variations: Sequence[VariationWithOptions] = ()
    # Which child each set of option ids built, for `meta.variation_matrix`: filled from what
    # the child-products build records of each child's options.
    child_options: Mapping[frozenset[str], str] = field(default_factory=dict)

    def of(self, kind: str) -> Sequence[Reference]:
        return self.references.get(kind, ())


NO_RELATIONS: Final = ProductRelations()


def load_relations(
    connection: Connection, product_ids: Sequence[str]
) -> dict[str, ProductRelations]:
    """The relations of each product, in two queries per few hundred products."""
    found: dict[str, dict[str, list[Reference]]] = {}
    parents: set[str] = set()
    for start in range(0, len(product_ids), _BATCH):
        batch = product_ids[start : start + _BATCH]
        rows = connection.execute(
            select(product_references)
            .where(product_references.c.product_id.in_(batch))
            .order_by(product_references.c.product_id, product_references.c.position)
        ).mappings()
        for row in rows:
            kinds = found.setdefault(row["product_id"], {})
            kinds.setdefault(row["kind"], []).append(Reference(row["target_id"], row["meta"]))
        parents.update(
            connection.execute(
                select(products.c.parent_id).distinct().where(products.c.parent_id.in_(batch))
            ).scalars()
        )
    named = variations_of_products(connection, None, product_ids)
    for product_id, variations in named.items():
        kinds = found.setdefault(product_id, {})
        # Ids kept under `product_references` before the service had variations name none.
        kinds[VARIATION] = [Reference(variation.id) for variation in variations]
    built = children_by_options(
        connection, [product_id for product_id in product_ids if product_id in parents]
    )
    return {
        product_id: ProductRelations(
            found.get(product_id, {}),
            product_id in parents,
            named[product_id],
            built.get(product_id, {}),
        )
        for product_id in product_ids
    }


def list_references(connection: Connection, product_id: str, kind: str) -> list[Reference]:
    rows = connection.execute(
        select(product_references.c.target_id, product_references.c.meta)
        .where(product_references.c.product_id == product_id, product_references.c.kind == kind)
        .order_by(product_references.c.position)
    )
    return [Reference(target_id, meta) for target_id, meta in rows]


def check_references(kind: str, references: Iterable[Reference]) -> list[Reference]:
    """The references, each id once (the first wins); ProductRejected for an unusable id."""
    chosen: dict[str, Reference] = {}
    for reference in references:
        if not reference.id or len(reference.id) > REFERENCE_ID_MAX_CHARS:
            message = f"a {kind} id must be 1 to {REFERENCE_ID_MAX_CHARS} characters"
            raise ProductRejected([JobErrorDetail(message=message, code="invalid_value")])
        texts = [reference.id, *_texts_in(reference.meta)]
        if not all(is_storable(text) for text in texts):
            message = f"{kind} {reference.id!r} holds a character no text can hold (NUL)"
            raise ProductRejected([JobErrorDetail(message=message, code="invalid_value")])
        chosen.setdefault(reference.id, reference)
    return list(chosen.values())


def _texts_in(value: Any) -> Iterator[str]:
    """Every text in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts_in(item)


def add_references(
    connection: Connection, product_id: str, kind: str, references: Sequence[Reference]
) -> None:
    """Add these references after the ones the product has; ids it already names stay put."""
    wanted = check_references(kind, references)
    present = {reference.id for reference in list_references(connection, product_id, kind)}
    last = connection.execute(
        select(func.max(product_references.c.position)).where(
            product_references.c.product_id == product_id, product_references.c.kind == kind
        )
    ).scalar()
    position = -1 if last is None else last
    rows = []
    for reference in wanted:
        if reference.id in present:
            continue
        position += 1
        rows.append(
            {
                "product_id": product_id,
                "kind": kind,
                "target_id": reference.id,
                "position": position,
                "meta": reference.meta,
            }
        )
    if rows:
        connection.execute(insert(product_references), rows)


def replace_references(
    connection: Connection, product_id: str, kind: str, references: Sequence[Reference]
) -> None:
    wanted = check_references(kind, references)
    connection.execute(
        delete(product_references).where(
            product_references.c.product_id == product_id, product_references.c.kind == kind
        )
    )
    add_references(connection, product_id, kind, wanted)


def remove_references(
    connection: Connection, product_id: str, kind: str, ids: Sequence[str]
) -> None:
    """Remove these ids; ids the product does not name (or no id can be) are ignored."""
    ids = [reference_id for reference_id in ids if is_storable(reference_id)]
    for start in range(0, len(ids), _BATCH):
        connection.execute(
            delete(product_references).where(
                product_references.c.product_id == product_id,
                product_references.c.kind == kind,
                product_references.c.target_id.in_(ids[start : start + _BATCH]),
            )
        )


def write_components(
    connection: Connection, store_id: str, bundle_id: str, components: Mapping[str, Any] | None
) -> None:
    """Record which products the bundle offers; ProductRejected naming any the store lacks."""
    wanted = component_product_ids(components)
    if bundle_id in wanted:
        message = "a bundle cannot be one of its own components"
        raise ProductRejected([JobErrorDetail(message=message, code="invalid_value")])
    found: set[str] = set()
    searchable = [product_id for product_id in wanted if is_storable(product_id)]
    for start in range(0, len(searchable), _BATCH):
        found.update(
            connection.execute(
                select(products.c.id).where(
                    products.c.store_id == store_id,
                    products.c.id.in_(searchable[start : start + _BATCH]),
                )
            ).scalars()
        )
    missing = [product_id for product_id in wanted if product_id not in found]
    if missing:
        message = (
            "components name products this store does not have: "
            + ", ".join(missing[:10])
            + ("" if len(missing) <= 10 else f" and {len(missing) - 10} more")
            + "; give the ids of existing products"
        )
        problem = JobErrorDetail(message=message, code=NOT_FOUND, field="components")
        raise ProductRejected([problem])
    connection.execute(
        delete(product_components).where(product_components.c.bundle_id == bundle_id)
    )
    if wanted:
        connection.execute(
            insert(product_components),
            [{"bundle_id": bundle_id, "product_id": product_id} for product_id in wanted],
        )


def bundles_offering(connection: Connection, product_id: str) -> list[str]:
    """The bundles one of whose components offers the product."""
    return list(
        connection.execute(
            select(product_components.c.bundle_id)
            .where(product_components.c.product_id == product_id)
            .order_by(product_components.c.bundle_id)
        ).scalars()
    )


def refuse_deleting_components(connection: Connection, product_id: str) -> None:
    """ProductRejected when a bundle offers the product: EP refuses deleting it too."""
    bundles = bundles_offering(connection, product_id)
    if bundles:
        message = (
            "this product is a component of bundle " + ", ".join(bundles[:10]) + "; remove it "
            "from the bundle's components (or delete the bundle) first"
        )
        raise ProductRejected([JobErrorDetail(message=message, code=IN_BUNDLE)])
