"""The variations a base product names, whose options its children are built from; the
caller owns the transaction.

A product names each variation at most once. They are listed in display order, the order
builds read them in (`variation_matrix_inputs`). A variation another store owns is, for this
store, no variation at all. The foreign key keeps a linked variation from being deleted and a
deleted one from being linked, whatever requests race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.errors import ProductNotFound
from pxm_jobs.catalog.text_rules import is_storable
from pxm_jobs.catalog.variations.errors import InvalidVariationField, UnknownVariations
from pxm_jobs.catalog.variations.models import Variation, in_display_order
from pxm_jobs.catalog.variations.variations import VARIATION_COLUMNS
from pxm_jobs.store.tables import product_variations, products, variations

ADD: Final = "add"
REPLACE: Final = "replace"
REMOVE: Final = "remove"
ACTIONS: Final = (ADD, REPLACE, REMOVE)
# A build makes one child per combination of options: past ten variations (of two options
# each, already 1,024 children) a product is no longer something one build can make.
VARIATIONS_PER_PRODUCT_MAX: Final = 10


def product_variations_of(connection: Connection, product_id: str) -> list[Variation]:
    """The variations the product names, in display order."""
    rows = connection.execute(
        select(variations)
        .join(product_variations, product_variations.c.variation_id == variations.c.id)
        .where(product_variations.c.product_id == product_id)
    ).mappings()
    found = [Variation(**{name: row[name] for name in VARIATION_COLUMNS}) for row in rows]
    return in_display_order(found)


def _lock_base_product(connection: Connection, store_id: str, product_id: str) -> None:
    """Lock the product row so that link changes apply one after another; a child product
    varies by its parent's variations and names none of its own."""
    parent_id = connection.execute(
        select(products.c.parent_id)
        .where(products.c.store_id == store_id, products.c.id == product_id)
        .with_for_update()
    ).first()
    if parent_id is None:
        raise ProductNotFound()
    if parent_id[0] is not None:
        raise InvalidVariationField(
            "data",
            f"this is a child product of {parent_id[0]}; variations belong to its base "
            "product: link them there",
        )


def _existing(connection: Connection, store_id: str, variation_ids: Sequence[str]) -> set[str]:
    searchable = [variation_id for variation_id in variation_ids if is_storable(variation_id)]
    if not searchable:
        return set()
    return set(
        connection.execute(
            select(variations.c.id).where(
                variations.c.store_id == store_id, variations.c.id.in_(searchable)
            )
        ).scalars()
    )


def _refuse_too_many(count: int, field: str) -> None:
    if count > VARIATIONS_PER_PRODUCT_MAX:
        raise InvalidVariationField(
            field,
            f"a product may have at most {VARIATIONS_PER_PRODUCT_MAX} variations; this would "
            f"give it {count}",
        )


def _refuse_unknown(connection: Connection, store_id: str, variation_ids: Sequence[str]) -> None:
    present = _existing(connection, store_id, variation_ids)
    missing = [variation_id for variation_id in variation_ids if variation_id not in present]
    if missing:
        raise UnknownVariations(missing)


def _linked(connection: Connection, product_id: str) -> set[str]:
    return set(
        connection.execute(
            select(product_variations.c.variation_id).where(
                product_variations.c.product_id == product_id
            )
        ).scalars()
    )


def _unique(variation_ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(variation_ids))


def change_product_variations(
    connection: Connection,
    store_id: str,
    product_id: str,
    action: str,
    variation_ids: Sequence[str],
    now: datetime,
) -> None:
    """`add` these variations to the product's, `replace` its with these, or `remove` these
    (ids it does not name are ignored). Unknown ids refuse the whole change."""
    _lock_base_product(connection, store_id, product_id)
    wanted = _unique(variation_ids)
    linked = _linked(connection, product_id)
    if action == REMOVE:
        gone = [variation_id for variation_id in wanted if variation_id in linked]
        if gone:
            connection.execute(
                delete(product_variations).where(
                    product_variations.c.product_id == product_id,
                    product_variations.c.variation_id.in_(gone),
                )
            )
    else:
        _refuse_too_many(len(wanted), "data")
        _refuse_unknown(connection, store_id, wanted)
        after = set(wanted) if action == REPLACE else linked | set(wanted)
        _refuse_too_many(len(after), "data")
        if action == REPLACE:
            connection.execute(
                delete(product_variations).where(
                    product_variations.c.product_id == product_id,
                    product_variations.c.variation_id.not_in(wanted),
                )
            )
        new = [variation_id for variation_id in wanted if variation_id not in linked]
        _insert_links(connection, store_id, product_id, new)
    connection.execute(
        update(products)
        .where(products.c.store_id == store_id, products.c.id == product_id)
        .values(updated_at=now)
    )


def link_new_product(
    connection: Connection, store_id: str, product_id: str, variation_ids: Sequence[str]
) -> None:
    """Name these variations on a product being created (in the same transaction)."""
    wanted = _unique(variation_ids)
    _refuse_too_many(len(wanted), "relationships.variations")
    _refuse_unknown(connection, store_id, wanted)
    _insert_links(connection, store_id, product_id, wanted)


def _insert_links(
    connection: Connection, store_id: str, product_id: str, variation_ids: Sequence[str]
) -> None:
    if not variation_ids:
        return
    rows = [{"product_id": product_id, "variation_id": v} for v in variation_ids]
    try:
        with connection.begin_nested():
            connection.execute(insert(product_variations), rows)
    except IntegrityError:
        # A variation deleted since it was looked up: say which, as if it had never been.
        present = _existing(connection, store_id, variation_ids)
        raise UnknownVariations([v for v in variation_ids if v not in present]) from None
