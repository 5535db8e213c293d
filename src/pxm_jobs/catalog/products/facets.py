"""The index of values inside products' JSON columns that filters look up (`product_facets`).

Each tag, each shopper or admin attribute and each custom data field of a product is one row:
`(product, store, facet, value)` with the facet `tags`, `shopper_attributes.<key>`,
`admin_attributes.<key>` or `extensions.<template>.<field>`. A filter such as
`eq(admin_attributes.colour,red)` is then an index lookup on both databases, where reading
the JSON of every product would scan the store. The rows are written with the product, by the
same statements' callers, and deleted with it by the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, and_, delete, select

from pxm_jobs.store.tables import product_facets, products

TAGS_FACET: Final = "tags"
SHOPPER_PREFIX: Final = "shopper_attributes."
ADMIN_PREFIX: Final = "admin_attributes."
EXTENSIONS_PREFIX: Final = "extensions."
# Product columns whose values are indexed here, and the facet names each of them yields.
FACET_COLUMNS: Final = ("tags", "shopper_attributes", "admin_attributes", "templates")
# PostgreSQL refuses index entries over about 2,700 bytes: longer texts are kept as a digest,
# which an equality test matches just as well.
INDEXED_TEXT_MAX_BYTES: Final = 1024
_DIGEST_PREFIX: Final = "sha256:"
# Rows per INSERT or DELETE batch: well under SQLite's limit on bound variables.
_BATCH: Final = 200

FacetRow = tuple[str, str, str, str, datetime]


def indexed_text(text: str) -> str:
    """`text` as the index keeps it: itself, or a digest when too long to be an index key."""
    encoded = text.encode()
    if len(encoded) <= INDEXED_TEXT_MAX_BYTES:
        return text
    return _DIGEST_PREFIX + hashlib.sha256(encoded).hexdigest()


def extension_facet(template: str, field: str) -> str:
    return f"{EXTENSIONS_PREFIX}{template}.{field}"


def facet_values(column: str, value: Any) -> Iterator[tuple[str, str]]:
    """The (facet, value) pairs one product column's value yields."""
    if not value:
        return
    if column == "tags":
        for tag in dict.fromkeys(value):
            yield TAGS_FACET, tag
    elif column in ("shopper_attributes", "admin_attributes"):
        for key, text in value.items():
            yield f"{column}.{key}", text
    elif column == "templates":
        for template, fields in value.items():
            for field, text in fields.items():
                yield extension_facet(template, field), text


def _rows(
    store_id: str, product_id: str, created_at: datetime, column: str, value: Any
) -> Iterator[FacetRow]:
    seen: set[tuple[str, str]] = set()
    for facet, text in facet_values(column, value):
        key = (indexed_text(facet), indexed_text(text))
        if key not in seen:  # `extensions.a.b.c` may come from two (template, field) pairs
            seen.add(key)
            yield product_id, store_id, *key, created_at


def index_new_products(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Index the JSON values of products just inserted."""
    facets = (
        facet
        for row in rows
        for column in FACET_COLUMNS
        for facet in _rows(row["store_id"], row["id"], row["created_at"], column, row.get(column))
    )
    _insert(connection, facets)


def reindex_products(
    connection: Connection, store_id: str, changes: Sequence[Mapping[str, Any]]
) -> None:
    """Replace the index rows of the columns each change sets with the ones its values yield."""
    by_column: dict[str, list[Mapping[str, Any]]] = {}
    for change in changes:
        for column in FACET_COLUMNS:
            if column in change:
                by_column.setdefault(column, []).append(change)
    created: dict[str, datetime] = {}
    for column, group in by_column.items():
        ids = [change["id"] for change in group]
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            connection.execute(
                delete(product_facets).where(
                    product_facets.c.product_id.in_(batch), _facets_of(column)
                )
            )
            missing = [product_id for product_id in batch if product_id not in created]
            if missing:
                rows = connection.execute(
                    select(products.c.id, products.c.created_at).where(products.c.id.in_(missing))
                )
                created.update((product_id, moment) for product_id, moment in rows)
        _insert(
            connection,
            (
                facet
                for change in group
                for facet in _rows(
                    store_id, change["id"], created[change["id"]], column, change[column]
                )
            ),
        )


def _facets_of(column: str) -> ColumnElement[bool]:
    """The index rows one product column yields, as a condition on `facet`."""
    if column == "tags":
        return product_facets.c.facet == TAGS_FACET
    prefix = EXTENSIONS_PREFIX if column == "templates" else f"{column}."
    return facet_range(prefix)


def facet_range(prefix: str) -> ColumnElement[bool]:
    """Facets starting with `prefix`, as a range an index serves (LIKE may not use one)."""
    # Digests of long facet names start with their own prefix; none is a JSON key's facet.
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(product_facets.c.facet >= prefix, product_facets.c.facet < after)


def _insert(connection: Connection, facets: Iterable[FacetRow]) -> None:
    rows = iter(facets)
    first = next(rows, None)
    if first is None:
        return  # products without tags or attributes: no statement at all (a COPY is two trips)
    facets = chain([first], rows)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        statement = (
            "COPY product_facets (product_id, store_id, facet, value, created_at) FROM STDIN"
        )
        naive: dict[datetime, datetime] = {}  # an import's rows share a few creation times
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for product_id, store, name, text, moment in facets:
                stored = naive.get(moment)
                if stored is None:
                    stored = naive[moment] = moment.astimezone(UTC).replace(tzinfo=None)
                copy.write_row((product_id, store, name, text, stored))
        return
    # Straight through the driver, as products are inserted: Core's per-row processing was
    # most of the cost of an import whose products carry tags and attributes.
    dialect = connection.dialect
    convert = product_facets.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    converted: dict[datetime, Any] = {}

    def driver_rows() -> Iterator[tuple[Any, ...]]:
        for product_id, store, name, text, moment in facets:
            if moment not in converted:
                converted[moment] = convert(moment) if convert is not None else moment
            yield product_id, store, name, text, converted[moment]

    driver = connection.connection.driver_connection
    assert driver is not None
    driver.executemany(
        "INSERT INTO product_facets (product_id, store_id, facet, value, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        driver_rows(),
    )
