"""The modifiers of a variation option: create, read, change, delete and list them; the caller
owns the transaction. Every write locks the variation first (`lock_variation`), so the check
for a second modifier of a type and the write happen one request at a time; the unique index
(option_id, type) holds the rule against anything else."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.paging import oldest_first_page
from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.variations.errors import ModifierNotFound, ModifierTypeTaken
from pxm_jobs.catalog.variations.models import VariationModifier
from pxm_jobs.catalog.variations.modifier_rules import MODIFIER_FIELDS, check_modifier
from pxm_jobs.catalog.variations.options import require_option
from pxm_jobs.catalog.variations.variations import lock_variation, refuse_if_in_use
from pxm_jobs.store.tables import variation_modifiers

MODIFIER_COLUMNS = tuple(field.name for field in fields(VariationModifier))


def _modifier(row: RowMapping | Mapping[str, Any]) -> VariationModifier:
    return VariationModifier(**{name: row[name] for name in MODIFIER_COLUMNS})


def get_modifier(
    connection: Connection, store_id: str, option_id: str, modifier_id: str
) -> VariationModifier | None:
    row = (
        connection.execute(
            select(variation_modifiers).where(
                variation_modifiers.c.store_id == store_id,
                variation_modifiers.c.option_id == option_id,
                variation_modifiers.c.id == modifier_id,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _modifier(row)


def _require_modifier(
    connection: Connection, store_id: str, option_id: str, modifier_id: str
) -> VariationModifier:
    modifier = get_modifier(connection, store_id, option_id, modifier_id)
    if modifier is None:
        raise ModifierNotFound()
    return modifier


def list_modifiers(
    connection: Connection, store_id: str, option_id: str, *, limit: int, offset: int
) -> tuple[list[VariationModifier], int]:
    """One page of the option's modifiers, oldest first, and how many there are."""
    mine = (variation_modifiers.c.store_id == store_id) & (
        variation_modifiers.c.option_id == option_id
    )
    rows, total = oldest_first_page(
        connection, variation_modifiers, [mine], limit=limit, offset=offset
    )
    return [_modifier(row) for row in rows], total


def _refuse_taken_type(
    connection: Connection, option_id: str, modifier_type: str, own_id: str | None
) -> None:
    holder = connection.execute(
        select(variation_modifiers.c.id).where(
            variation_modifiers.c.option_id == option_id,
            variation_modifiers.c.type == modifier_type,
        )
    ).scalar()
    if holder is not None and holder != own_id:
        raise ModifierTypeTaken(modifier_type, holder)


def _write_checked(
    connection: Connection,
    option_id: str,
    values: Mapping[str, Any],
    own_id: str | None,
    write: Any,
) -> None:
    """Run the write unless another modifier of the option has the type; if one slipped in
    meanwhile (the unique index refuses it), say which, with the transaction still usable."""
    _refuse_taken_type(connection, option_id, values["type"], own_id)
    try:
        with connection.begin_nested():
            connection.execute(write)
    except IntegrityError:
        _refuse_taken_type(connection, option_id, values["type"], own_id)
        raise


def create_modifier(
    connection: Connection,
    store_id: str,
    variation_id: str,
    option_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: ProductLimits,
    now: datetime,
) -> VariationModifier:
    lock_variation(connection, store_id, variation_id)
    require_option(connection, store_id, variation_id, option_id)
    values = check_modifier(attributes, limits)
    values.update(
        id=str(uuid.uuid4()), store_id=store_id, option_id=option_id, created_at=now, updated_at=now
    )
    _write_checked(connection, option_id, values, None, insert(variation_modifiers).values(values))
    return _modifier(values)


def update_modifier(
    connection: Connection,
    store_id: str,
    variation_id: str,
    option_id: str,
    modifier_id: str,
    attributes: Mapping[str, Any],
    *,
    limits: ProductLimits,
    now: datetime,
) -> VariationModifier:
    """Change the fields given. A modifier that keeps its type keeps the fields not given; one
    that changes type takes only the fields given, since the old ones were for the old type."""
    lock_variation(connection, store_id, variation_id)
    require_option(connection, store_id, variation_id, option_id)
    current = _require_modifier(connection, store_id, option_id, modifier_id)
    merged: dict[str, Any] = dict(attributes)
    if attributes.get("type", current.type) == current.type:
        kept = {name: getattr(current, name) for name in MODIFIER_FIELDS}
        merged = kept | {"type": current.type} | dict(attributes)
    values = check_modifier(merged, limits)
    change = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not change:
        return current
    change["updated_at"] = now
    write = update(variation_modifiers).where(variation_modifiers.c.id == modifier_id)
    _write_checked(connection, option_id, values, modifier_id, write.values(change))
    return VariationModifier(**{**current.__dict__, **change})


def delete_modifier(
    connection: Connection, store_id: str, variation_id: str, option_id: str, modifier_id: str
) -> None:
    """Delete the modifier; refused while a product names its variation, as EP refuses
    deleting a modifier in use (change it with PUT instead, or unlink the variation first)."""
    lock_variation(connection, store_id, variation_id)
    require_option(connection, store_id, variation_id, option_id)
    _require_modifier(connection, store_id, option_id, modifier_id)
    refuse_if_in_use(connection, variation_id, "modifier")
    connection.execute(delete(variation_modifiers).where(variation_modifiers.c.id == modifier_id))
