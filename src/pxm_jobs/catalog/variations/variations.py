"""A store's variations: create, read, change, delete and list them; the caller owns the
transaction. A variation's options come with it (`options_of`), for its `meta.options`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.paging import newest_first_page
from pxm_jobs.catalog.variations.errors import VariationInUse, VariationNotFound
from pxm_jobs.catalog.variations.models import Variation, VariationOption, in_display_order
from pxm_jobs.catalog.variations.rules import check_variation_fields
from pxm_jobs.store.tables import product_variations, variation_options, variations

VARIATION_COLUMNS = tuple(field.name for field in fields(Variation))
OPTION_COLUMNS = tuple(field.name for field in fields(VariationOption))


def _variation(row: RowMapping | Mapping[str, Any]) -> Variation:
    return Variation(**{name: row[name] for name in VARIATION_COLUMNS})


def option_from_row(row: RowMapping | Mapping[str, Any]) -> VariationOption:
    return VariationOption(**{name: row[name] for name in OPTION_COLUMNS})


def get_variation(connection: Connection, store_id: str, variation_id: str) -> Variation | None:
    row = (
        connection.execute(
            select(variations).where(
                variations.c.store_id == store_id, variations.c.id == variation_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _variation(row)


def lock_variation(connection: Connection, store_id: str, variation_id: str) -> Variation:
    """The variation, its row locked until the transaction ends; VariationNotFound if absent.

    Every change to a variation or its options and modifiers takes this lock first, so that two
    requests on PostgreSQL check and write one after the other (SQLite serializes writers).
    """
    row = (
        connection.execute(
            select(variations)
            .where(variations.c.store_id == store_id, variations.c.id == variation_id)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise VariationNotFound()
    return _variation(row)


def list_variations(
    connection: Connection, store_id: str, *, limit: int, offset: int
) -> tuple[list[Variation], int]:
    """One page of the store's variations, newest first, and how many there are."""
    rows, total = newest_first_page(
        connection, variations, [variations.c.store_id == store_id], limit=limit, offset=offset
    )
    return [_variation(row) for row in rows], total


def options_of(
    connection: Connection, variation_ids: Sequence[str]
) -> dict[str, list[VariationOption]]:
    """Each variation's options in display order, in one query."""
    found: dict[str, list[VariationOption]] = defaultdict(list)
    if variation_ids:
        rows = connection.execute(
            select(variation_options).where(variation_options.c.variation_id.in_(variation_ids))
        ).mappings()
        for row in rows:
            found[row["variation_id"]].append(option_from_row(row))
    return {variation_id: in_display_order(found[variation_id]) for variation_id in variation_ids}


def create_variation(
    connection: Connection, store_id: str, attributes: Mapping[str, Any], now: datetime
) -> Variation:
    values = check_variation_fields(attributes, is_new=True)
    values.update(id=str(uuid.uuid4()), store_id=store_id, created_at=now, updated_at=now)
    connection.execute(insert(variations).values(values))
    return _variation({name: values.get(name) for name in VARIATION_COLUMNS})


def update_variation(
    connection: Connection,
    store_id: str,
    variation_id: str,
    attributes: Mapping[str, Any],
    now: datetime,
) -> Variation:
    """Change the attributes given; none given leaves the variation as it was."""
    current = lock_variation(connection, store_id, variation_id)
    change = {
        name: value
        for name, value in check_variation_fields(attributes, is_new=False).items()
        if getattr(current, name) != value
    }
    if not change:
        return current
    change["updated_at"] = now
    connection.execute(update(variations).where(variations.c.id == variation_id).values(change))
    return Variation(**{**current.__dict__, **change})


def products_naming(connection: Connection, variation_id: str) -> list[str]:
    """The products that name the variation, by id."""
    return list(
        connection.execute(
            select(product_variations.c.product_id)
            .where(product_variations.c.variation_id == variation_id)
            .order_by(product_variations.c.product_id)
        ).scalars()
    )


def delete_variation(connection: Connection, store_id: str, variation_id: str) -> None:
    """Delete the variation with its options and their modifiers; VariationInUse while a
    product names it (EP refuses it too), which the foreign key holds against races."""
    lock_variation(connection, store_id, variation_id)
    refuse_if_in_use(connection, variation_id, "variation")
    try:
        with connection.begin_nested():
            connection.execute(delete(variations).where(variations.c.id == variation_id))
    except IntegrityError:
        refuse_if_in_use(connection, variation_id, "variation")
        raise


def refuse_if_in_use(connection: Connection, variation_id: str, what: str) -> None:
    users = products_naming(connection, variation_id)
    if users:
        raise VariationInUse(users, what)
