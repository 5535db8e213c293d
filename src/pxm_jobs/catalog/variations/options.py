"""The options of a variation: create, read, change, delete and list them; the caller owns the
transaction. Every write locks the variation first (`lock_variation`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from pxm_jobs.catalog.paging import oldest_first_page
from pxm_jobs.catalog.variations.errors import OptionNotFound
from pxm_jobs.catalog.variations.models import VariationOption
from pxm_jobs.catalog.variations.rules import check_option_fields
from pxm_jobs.catalog.variations.variations import (
    OPTION_COLUMNS,
    lock_variation,
    option_from_row,
)
from pxm_jobs.store.tables import variation_options, variations


def get_option(
    connection: Connection, store_id: str, variation_id: str, option_id: str
) -> VariationOption | None:
    row = (
        connection.execute(
            select(variation_options).where(
                variation_options.c.store_id == store_id,
                variation_options.c.variation_id == variation_id,
                variation_options.c.id == option_id,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else option_from_row(row)


def require_option(
    connection: Connection, store_id: str, variation_id: str, option_id: str
) -> VariationOption:
    option = get_option(connection, store_id, variation_id, option_id)
    if option is None:
        raise OptionNotFound()
    return option


def list_options(
    connection: Connection, store_id: str, variation_id: str, *, limit: int, offset: int
) -> tuple[list[VariationOption], int]:
    """One page of the variation's options, oldest first, and how many there are."""
    mine = (variation_options.c.store_id == store_id) & (
        variation_options.c.variation_id == variation_id
    )
    rows, total = oldest_first_page(
        connection, variation_options, [mine], limit=limit, offset=offset
    )
    return [option_from_row(row) for row in rows], total


def _touch_variation(connection: Connection, variation_id: str, now: datetime) -> None:
    """A variation's `meta.options` changed: its updated_at says so."""
    connection.execute(
        update(variations).where(variations.c.id == variation_id).values(updated_at=now)
    )


def create_option(
    connection: Connection,
    store_id: str,
    variation_id: str,
    attributes: Mapping[str, Any],
    now: datetime,
) -> VariationOption:
    lock_variation(connection, store_id, variation_id)
    values = check_option_fields(attributes, is_new=True)
    values.update(
        id=str(uuid.uuid4()),
        store_id=store_id,
        variation_id=variation_id,
        created_at=now,
        updated_at=now,
    )
    connection.execute(insert(variation_options).values(values))
    _touch_variation(connection, variation_id, now)
    return option_from_row({name: values.get(name) for name in OPTION_COLUMNS})


def update_option(
    connection: Connection,
    store_id: str,
    variation_id: str,
    option_id: str,
    attributes: Mapping[str, Any],
    now: datetime,
) -> VariationOption:
    """Change the attributes given; none given leaves the option as it was."""
    lock_variation(connection, store_id, variation_id)
    current = require_option(connection, store_id, variation_id, option_id)
    change = {
        name: value
        for name, value in check_option_fields(attributes, is_new=False).items()
        if getattr(current, name) != value
    }
    if not change:
        return current
    change["updated_at"] = now
    connection.execute(
        update(variation_options).where(variation_options.c.id == option_id).values(change)
    )
    _touch_variation(connection, variation_id, now)
    return VariationOption(**{**current.__dict__, **change})


def delete_option(
    connection: Connection, store_id: str, variation_id: str, option_id: str, now: datetime
) -> None:
    """Delete the option and its modifiers. Products naming the variation keep it: their next
    build leaves out the children of this option (EP's rebuild rule for a removed option)."""
    lock_variation(connection, store_id, variation_id)
    require_option(connection, store_id, variation_id, option_id)
    connection.execute(delete(variation_options).where(variation_options.c.id == option_id))
    _touch_variation(connection, variation_id, now)
