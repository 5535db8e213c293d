"""The product filter of lists, exports and node attachments, as Elastic Path's newer API has it.

Every attribute has the operators it allows; JSON keys (`shopper_attributes.<key>`,
`admin_attributes.<key>`, `extensions.<template>.<field>`) and tags are looked up in the
`product_facets` index. Every value is a bound parameter, and every bound value is text (the
export hands them to the driver as they are): timestamps are bound in the form each database
stores them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)

from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import EQ, GE, GT, IN, LE, LIKE, LT, FilterTerm, parse_filter
from pxm_jobs.catalog.products.facets import (
    ADMIN_PREFIX,
    EXTENSIONS_PREFIX,
    SHOPPER_PREFIX,
    TAGS_FACET,
    facet_range,
    indexed_text,
)
from pxm_jobs.store.tables import node_products, product_facets, product_references, products

PRODUCT_TYPES: Final = ("standard", "parent", "child", "bundle")
OWNERS: Final = ("store", "organization")
JSON_KEY_PREFIXES: Final = (SHOPPER_PREFIX, ADMIN_PREFIX, EXTENSIONS_PREFIX)

_TEXT = (EQ, LIKE, IN)
_ORDERED = (GT, GE, LT, LE)
# What each attribute allows; the column it reads is its own name, but for PXM's alias.
_OPERATORS: Final[dict[str, tuple[str, ...]]] = {
    "id": (*_TEXT, *_ORDERED),
    "sku": _TEXT,
    "slug": _TEXT,
    "upc_ean": _TEXT,
    "mpn": _TEXT,
    "manufacturer_part_num": _TEXT,
    "name": _TEXT,
    "description": _TEXT,
    "commodity_type": _TEXT,
    "status": _TEXT,
    "external_ref": (*_TEXT, *_ORDERED),
    "tags": _TEXT,
    "templates": (EQ,),
    "owner": (EQ,),
    "product_types": (EQ, IN),
    "parent_id": (EQ, IN),
    "has_nodes": (EQ,),
    "created_at": (EQ, *_ORDERED),
    "updated_at": (EQ, *_ORDERED),
}
PRODUCT_FILTER_ATTRIBUTES: Final = {
    **{name: name for name in _OPERATORS},
    "manufacturer_part_num": "mpn",
}
_ALL_OPERATORS = (EQ, LIKE, IN, GT, GE, LT, LE)
_TIMESTAMPS = frozenset({"created_at", "updated_at"})
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"


def parse_product_filter(text: str) -> list[FilterTerm]:
    """The terms of a product filter such as `eq(sku,abc):like(name,*shoe*)`, each checked."""
    terms = parse_filter(
        text,
        attributes=PRODUCT_FILTER_ATTRIBUTES,
        operators=_ALL_OPERATORS,
        prefixes=JSON_KEY_PREFIXES,
    )
    for term in terms:
        _check_term(term)
    return terms


def _check_term(term: FilterTerm) -> None:
    name = "manufacturer_part_num" if term.attribute == "mpn" else term.attribute
    allowed = _OPERATORS.get(name, (EQ,))
    if term.operator not in allowed:
        raise InvalidFilter(f"{term.operator} cannot be used on {name}; use " + ", ".join(allowed))
    if name.startswith(EXTENSIONS_PREFIX) and "." not in name[len(EXTENSIONS_PREFIX) :]:
        raise InvalidFilter(f"write {name} as extensions.<template>.<field>")
    if name == "product_types":
        _check_choices(term, PRODUCT_TYPES)
    elif name == "owner":
        _check_choices(term, OWNERS)
    elif name == "has_nodes" and term.values != ("false",):
        raise InvalidFilter("has_nodes can only be false: eq(has_nodes,false)")
    elif name in _TIMESTAMPS:
        read_timestamp(name, term.values[0])


def _check_choices(term: FilterTerm, choices: Sequence[str]) -> None:
    for value in term.values:
        if value not in choices:
            raise InvalidFilter(f"{term.attribute} is one of {', '.join(choices)}, not {value!r}")


def read_timestamp(name: str, value: str) -> datetime:
    """An RFC 3339 time (`2024-01-05T13:46:41.695Z`); without a zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidFilter(
            f"{name} must be an RFC 3339 time such as 2024-01-05T13:46:41.695Z, not {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def like_pattern(value: str) -> str:
    """A SQL LIKE pattern (escape `\\`) for a filter value: `*` is the wildcard, else contains."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" not in value:
        return f"%{escaped}%"
    return escaped.replace("*", "%")


def filter_conditions(
    store_id: str, filters: Sequence[FilterTerm], dialect: str
) -> list[ColumnElement[bool]]:
    """What a product of the store must satisfy to match every filter term."""
    conditions = [products.c.store_id == store_id]
    conditions.extend(build_condition(term, dialect, store_id) for term in filters)
    return conditions


def build_condition(term: FilterTerm, dialect: str, store_id: str) -> ColumnElement[bool]:
    """The SQL condition of one filter term; every value is a bound parameter."""
    attribute = term.attribute
    if attribute == "tags":
        return _facet_condition(term, store_id, TAGS_FACET)
    if attribute.startswith(JSON_KEY_PREFIXES):
        return _facet_condition(term, store_id, attribute)
    if attribute == "templates":
        return _templates_condition(term.values[0], store_id)
    if attribute == "product_types":
        return or_(*(_product_type(value) for value in term.values))
    if attribute == "owner":
        return true() if term.values[0] == "store" else false()
    if attribute == "has_nodes":
        return not_(exists().where(node_products.c.product_id == products.c.id))
    if attribute in _TIMESTAMPS:
        return _compare(term.operator, products.c[attribute], _timestamp(term, dialect))
    column = products.c[attribute]
    if term.operator == LIKE:
        # Case-insensitive on both databases (SQLite's LIKE already is for ASCII).
        return column.ilike(like_pattern(term.values[0]), escape="\\")
    if term.operator == IN:
        return column.in_(term.values)
    return _compare(term.operator, column, bindparam(None, term.values[0], type_=String()))


def _compare(
    operator: str, column: ColumnElement[object], value: ColumnElement[object]
) -> ColumnElement[bool]:
    if operator == GT:
        return column > value
    if operator == GE:
        return column >= value
    if operator == LT:
        return column < value
    if operator == LE:
        return column <= value
    return column == value


def _timestamp(term: FilterTerm, dialect: str) -> ColumnElement[object]:
    moment = read_timestamp(term.attribute, term.values[0]).replace(tzinfo=None)
    if dialect == "postgresql":
        return cast(bindparam(None, moment.isoformat(), type_=String()), TIMESTAMP())
    # SQLite keeps datetimes as text in this form, so text compares as the times do.
    return bindparam(None, moment.strftime(_SQLITE_TIMESTAMP), type_=String())


def facet_lookup(term: FilterTerm, store_id: str) -> list[ColumnElement[bool]] | None:
    """For `eq` on a tag or a JSON key, the conditions on `product_facets` rows it matches."""
    if term.operator != EQ:
        return None
    if term.attribute == "tags":
        facet = TAGS_FACET
    elif term.attribute.startswith(JSON_KEY_PREFIXES):
        facet = term.attribute
    else:
        return None
    return [
        product_facets.c.store_id == store_id,
        product_facets.c.facet == indexed_text(facet),
        product_facets.c.value == indexed_text(term.values[0]),
    ]


def _facet_condition(term: FilterTerm, store_id: str, facet: str) -> ColumnElement[bool]:
    value = product_facets.c.value
    matches: ColumnElement[bool]
    if term.operator == LIKE:
        matches = value.ilike(like_pattern(term.values[0]), escape="\\")
    elif term.operator == IN:
        matches = value.in_([indexed_text(item) for item in term.values])
    else:
        matches = value == indexed_text(term.values[0])
    holders = select(product_facets.c.product_id).where(
        product_facets.c.store_id == store_id,
        product_facets.c.facet == indexed_text(facet),
        matches,
    )
    return products.c.id.in_(holders)


def _templates_condition(template: str, store_id: str) -> ColumnElement[bool]:
    """Products that name the template among their references or have custom data of it."""
    referenced = select(product_references.c.product_id).where(
        product_references.c.kind == "template", product_references.c.target_id == template
    )
    with_data = select(product_facets.c.product_id).where(
        product_facets.c.store_id == store_id, facet_range(f"{EXTENSIONS_PREFIX}{template}.")
    )
    return or_(products.c.id.in_(referenced), products.c.id.in_(with_data))


def _product_type(name: str) -> ColumnElement[bool]:
    """`product_types` as `meta.product_types` shows it: from components, parent and children."""
    children = products.alias("children")
    has_children = exists().where(children.c.parent_id == products.c.id)
    if name == "bundle":
        return products.c.components.is_not(None)
    if name == "child":
        return products.c.parent_id.is_not(None)
    if name == "parent":
        return has_children
    return and_(products.c.components.is_(None), products.c.parent_id.is_(None), not_(has_children))
