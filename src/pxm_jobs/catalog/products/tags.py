"""A store's product tags, as the Tags API shows them: every tag some product carries.

Tags are not stored apart from products: each is read from the facet index (`product_facets`),
its times are the earliest creation and latest change of the products carrying it, and its id
is derived from the store and the text, so a tag keeps its id for as long as it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Select, func, select

from pxm_jobs.catalog.products.facets import TAGS_FACET
from pxm_jobs.store.tables import product_facets, products

_TAG_NAMESPACE: Final = uuid.UUID("5b0f3f4e-6c55-4b8e-9d0c-7a1f2e3d4c5b")


@dataclass(frozen=True)
class Tag:
    id: str
    value: str
    created_at: datetime
    updated_at: datetime


def tag_id(store_id: str, value: str) -> str:
    return str(uuid.uuid5(_TAG_NAMESPACE, f"{store_id}\n{value}"))


def _tag_rows(store_id: str) -> Select[Any]:
    return (
        select(
            product_facets.c.value,
            func.min(products.c.created_at),
            func.max(products.c.updated_at),
        )
        .join(products, products.c.id == product_facets.c.product_id)
        .where(product_facets.c.store_id == store_id, product_facets.c.facet == TAGS_FACET)
        .group_by(product_facets.c.value)
    )


def list_tags(
    connection: Connection, store_id: str, *, limit: int, offset: int
) -> tuple[list[Tag], int]:
    """One page of the store's tags, in alphabetical order, and how many there are."""
    rows = connection.execute(
        _tag_rows(store_id).order_by(product_facets.c.value).limit(limit).offset(offset)
    )
    found = [Tag(tag_id(store_id, value), value, first, last) for value, first, last in rows]
    total = connection.execute(
        select(func.count(product_facets.c.value.distinct())).where(
            product_facets.c.store_id == store_id, product_facets.c.facet == TAGS_FACET
        )
    ).scalar_one()
    return found, total


def get_tag(connection: Connection, store_id: str, wanted_id: str) -> Tag | None:
    """The store's tag with this id, or None (also once no product carries it any more)."""
    values = connection.execute(
        select(product_facets.c.value)
        .distinct()
        .where(product_facets.c.store_id == store_id, product_facets.c.facet == TAGS_FACET)
    ).scalars()
    value = next((value for value in values if tag_id(store_id, value) == wanted_id), None)
    if value is None:
        return None
    row = connection.execute(_tag_rows(store_id).where(product_facets.c.value == value)).one()
    return Tag(wanted_id, value, row[1], row[2])
