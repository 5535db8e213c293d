"""Creating, changing and deleting one product at a time, for the Products API.

The rules are the import's (`product_rules`); uniqueness is checked first to name the attribute
in the way, and the unique indexes catch what a concurrent write slips past the check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.errors import ProductNotFound, ProductRejected
from pxm_jobs.catalog.products.product_ids import new_product_ids
from pxm_jobs.catalog.products.queries import (
    Product,
    find_product_ids_by,
    get_product,
    insert_products,
    update_products,
)
from pxm_jobs.catalog.products.relations import (
    NOT_FOUND,
    Reference,
    add_references,
    check_references,
    list_references,
    refuse_deleting_components,
    remove_references,
    replace_references,
    write_components,
)
from pxm_jobs.catalog.products.rule_basics import ALREADY_EXISTS, ProductLimits
from pxm_jobs.catalog.products.rules import UNIQUE_ATTRIBUTES, check_product_attributes
from pxm_jobs.catalog.variations.errors import InvalidVariationField, UnknownVariations
from pxm_jobs.catalog.variations.product_links import link_new_product
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import products

CONFLICT = "conflict"


def create_product(
    connection: Connection,
    store_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: ProductLimits,
    now: datetime,
    variations: Sequence[str] = (),
) -> Product:
    """A new product from `attributes`, naming `variations` by id; ProductRejected lists every
    problem with them. A bundle's components must offer products of the store.
    """
    values, problems = check_product_attributes(attributes, is_new=True, limits=limits)
    if problems:
        raise ProductRejected(problems)
    values.update(id=new_product_ids(1)[0], store_id=store_id, created_at=now, updated_at=now)
    with _unique_values_checked(connection, store_id, values, None):
        insert_products(connection, [values])
    if values.get("components") is not None:
        write_components(connection, store_id, values["id"], values["components"])
    if variations:
        _link_variations(connection, store_id, values["id"], variations)
    created = get_product(connection, store_id, values["id"])
    assert created is not None
    return created


def _link_variations(
    connection: Connection, store_id: str, product_id: str, variation_ids: Sequence[str]
) -> None:
    try:
        link_new_product(connection, store_id, product_id, variation_ids)
    except (UnknownVariations, InvalidVariationField) as error:
        code = NOT_FOUND if isinstance(error, UnknownVariations) else "invalid_value"
        problem = JobErrorDetail(message=error.detail, code=code, field="relationships.variations")
        raise ProductRejected([problem]) from None


def update_product(
    connection: Connection,
    store_id: str,
    product_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: ProductLimits,
    now: datetime,
) -> Product:
    """Change only the attributes given; a change to nothing leaves the product as it was."""
    current = _lock_product(connection, store_id, product_id)
    values, problems = check_product_attributes(
        attributes, is_new=False, limits=limits, blank_keeps=False
    )
    if problems:
        raise ProductRejected(problems)
    change = {name: value for name, value in values.items() if getattr(current, name) != value}
    if current.parent_id is not None and current.independent_at is None:
        # A child updated directly is independent of its base product: rebuilds leave it.
        change["independent_at"] = now
    if not change:
        return current
    change.update(id=product_id, updated_at=now)
    with _unique_values_checked(connection, store_id, change, product_id):
        update_products(connection, store_id, [change])
    if "components" in change:
        write_components(connection, store_id, product_id, change["components"])
    updated = get_product(connection, store_id, product_id)
    assert updated is not None
    return updated


def delete_product(connection: Connection, store_id: str, product_id: str) -> None:
    """Delete the product and its children; the database removes their node links, facets and
    references with them. A product a bundle offers is refused, as EP refuses it.
    """
    _lock_product(connection, store_id, product_id)
    refuse_deleting_components(connection, product_id)
    children = products.c.parent_id == product_id
    for child_id in connection.execute(select(products.c.id).where(children)).scalars():
        refuse_deleting_components(connection, child_id)
    connection.execute(delete(products).where(products.c.store_id == store_id, children))
    connection.execute(
        delete(products).where(products.c.store_id == store_id, products.c.id == product_id)
    )


def _lock_product(connection: Connection, store_id: str, product_id: str) -> Product:
    """The product, locked until the transaction ends, so two updates apply one after another."""
    row = (
        connection.execute(
            select(products)
            .where(products.c.store_id == store_id, products.c.id == product_id)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ProductNotFound()
    return Product.from_row(row)


@contextmanager
def _unique_values_checked(
    connection: Connection, store_id: str, values: Mapping[str, Any], own_id: str | None
) -> Iterator[None]:
    """Refuse values another product holds, before the write in the block and, if a concurrent
    write took one meanwhile, after it: the savepoint keeps the transaction usable to say which.
    """
    _refuse_taken_values(connection, store_id, values, own_id)
    try:
        with connection.begin_nested():
            yield
    except IntegrityError as error:
        _refuse_taken_values(connection, store_id, values, own_id)
        message = "products changed while this request ran; send it again"
        raise ProductRejected([JobErrorDetail(message=message, code=CONFLICT)]) from error


def _refuse_taken_values(
    connection: Connection, store_id: str, values: Mapping[str, Any], own_id: str | None
) -> None:
    problems = []
    for name in UNIQUE_ATTRIBUTES:
        value = values.get(name)
        if value is None:
            continue
        holder = find_product_ids_by(connection, store_id, name, [value]).get(value)
        if holder is not None and holder != own_id:
            problems.append(
                JobErrorDetail(
                    message=f"{name} {value!r} is already used by product {holder}",
                    code=ALREADY_EXISTS,
                    field=name,
                    value=value,
                )
            )
    if problems:
        raise ProductRejected(problems)


def change_references(
    connection: Connection,
    store_id: str,
    product_id: str,
    kind: str,
    action: str,
    references: Sequence[Reference],
    now: datetime,
) -> list[Reference]:
    """`add`, `replace` or `remove` the product's references of one kind; what it has after."""
    _lock_product(connection, store_id, product_id)
    if action == "add":
        add_references(connection, product_id, kind, references)
    elif action == "replace":
        replace_references(connection, product_id, kind, references)
    else:
        remove_references(connection, product_id, kind, [item.id for item in references])
    update_products(connection, store_id, [{"id": product_id, "updated_at": now}])
    return list_references(connection, product_id, kind)


def change_main_image(
    connection: Connection, store_id: str, product_id: str, file_id: str | None, now: datetime
) -> None:
    """Name the product's main image file (`main_image_id`, as the import sets it), or none."""
    current = _lock_product(connection, store_id, product_id)
    if file_id is not None:
        check_references("main image", [Reference(file_id)])
    if current.main_image_id != file_id:
        change = {"id": product_id, "main_image_id": file_id, "updated_at": now}
        update_products(connection, store_id, [change])
