"""Product reads and bulk writes, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select, text

from pxm_jobs.catalog.products.product_filter import parse_product_filter
from pxm_jobs.catalog.products.queries import (
    Product,
    find_product_ids_by,
    find_product_ids_by_values,
    find_products_by,
    get_product,
    insert_products,
    list_products,
    store_has_products,
    update_products,
)
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import products, stores

T0 = datetime(2024, 1, 5, 13, 46, 41, 695000, tzinfo=UTC)


def add_store(engine: Engine) -> str:
    store_id = str(uuid.uuid4())
    with write_transaction(engine) as connection:
        connection.execute(insert(stores).values(id=store_id, name="shop", created_at=T0))
    return store_id


@pytest.fixture
def store_id(engine: Engine) -> str:
    return add_store(engine)


def product_row(store_id: str, number: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "store_id": store_id,
        "name": f"Product {number}",
        "description": None,
        "slug": f"product-{number}",
        "sku": f"sku-{number}",
        "status": "draft",
        "commodity_type": "physical",
        "upc_ean": None,
        "mpn": None,
        "external_ref": None,
        "main_image_id": None,
        "tags": None,
        "locales": None,
        "templates": None,
        "created_at": T0 + timedelta(seconds=number),
        "updated_at": T0 + timedelta(seconds=number),
    }
    row.update(values)
    return row


@pytest.fixture
def catalog(engine: Engine, store_id: str) -> Iterator[list[dict[str, Any]]]:
    rows = [
        product_row(store_id, 1, name="Blue Shoe", tags=["shoes", "blue"], mpn="M-1"),
        product_row(store_id, 2, name="Red shoe", sku="50%_off", tags=["shoes"]),
        product_row(store_id, 3, name="Hat", status="live", external_ref="ext-3"),
        product_row(store_id, 4, name="Scarf", description="warm, 100% wool"),
    ]
    with write_transaction(engine) as connection:
        insert_products(connection, rows)
    yield rows


def names(found: list[Product]) -> list[str]:
    return [product.name for product in found]


def search(engine: Engine, store_id: str, filter_text: str) -> list[str]:
    with read_transaction(engine) as connection:
        found, total = list_products(
            connection, store_id, filters=parse_product_filter(filter_text), limit=100, offset=0
        )
    assert total == len(found)
    return names(found)


def test_a_product_reads_back_as_written(
    engine: Engine, store_id: str, catalog: list[dict[str, Any]]
) -> None:
    with read_transaction(engine) as connection:
        product = get_product(connection, store_id, catalog[0]["id"])
    assert product == Product(**catalog[0])


def test_another_stores_product_and_unknown_ids_are_not_found(
    engine: Engine, catalog: list[dict[str, Any]]
) -> None:
    other_store = add_store(engine)
    with read_transaction(engine) as connection:
        assert get_product(connection, other_store, catalog[0]["id"]) is None
        assert get_product(connection, other_store, "not-a-uuid") is None
        assert not store_has_products(connection, other_store)


def test_lists_are_newest_first_and_paged(
    engine: Engine, store_id: str, catalog: list[dict[str, Any]]
) -> None:
    with read_transaction(engine) as connection:
        first, total = list_products(connection, store_id, limit=3, offset=0)
        rest, _ = list_products(connection, store_id, limit=3, offset=3)
    assert total == 4
    assert names(first) == ["Scarf", "Hat", "Red shoe"]
    assert names(rest) == ["Blue Shoe"]


def test_products_created_together_are_ordered_by_id(engine: Engine, store_id: str) -> None:
    rows = [product_row(store_id, n, created_at=T0) for n in range(5)]
    with write_transaction(engine) as connection:
        insert_products(connection, rows)
        found, _ = list_products(connection, store_id, limit=10, offset=0)
    assert [product.id for product in found] == sorted((row["id"] for row in rows), reverse=True)


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("eq(sku,sku-1)", ["Blue Shoe"]),
        ("eq(name,blue shoe)", []),  # eq is exact
        ("like(name,shoe)", ["Red shoe", "Blue Shoe"]),  # contains, any case
        ("like(name,*SHOE)", ["Red shoe", "Blue Shoe"]),
        ("like(name,Blue*)", ["Blue Shoe"]),
        ("like(name,B*e)", ["Blue Shoe"]),
        ("like(sku,50%)", ["Red shoe"]),  # % and _ are literal
        ("like(sku,5_%)", []),
        ("like(description,100%)", ["Scarf"]),
        ("in(status,live,other)", ["Hat"]),
        ("eq(external_ref,ext-3)", ["Hat"]),
        ("eq(mpn,M-1)", ["Blue Shoe"]),
        ("eq(manufacturer_part_num,M-1)", ["Blue Shoe"]),
        ("eq(tags,shoes)", ["Red shoe", "Blue Shoe"]),
        ("in(tags,blue,red)", ["Blue Shoe"]),
        ("like(tags,bl*)", ["Blue Shoe"]),
        ("like(name,shoe):eq(status,draft):eq(tags,blue)", ["Blue Shoe"]),
        ("eq(status,live):eq(sku,sku-1)", []),
    ],
)
def test_filters_select_products(
    engine: Engine, store_id: str, filter_text: str, expected: list[str]
) -> None:
    assert search(engine, store_id, filter_text) == expected


@pytest.mark.usefixtures("catalog")
def test_filter_values_are_data_never_sql(engine: Engine, store_id: str) -> None:
    attack = "eq(name,\"x' OR '1'='1\"):like(sku,\"'; DROP TABLE products; --\")"
    assert search(engine, store_id, attack) == []
    assert len(search(engine, store_id, "like(name,*)")) == 4


@pytest.mark.usefixtures("catalog")
def test_filters_never_cross_stores(engine: Engine) -> None:
    assert search(engine, add_store(engine), "like(name,*)") == []


def test_lookups_batch_many_values(engine: Engine, store_id: str) -> None:
    rows = [product_row(store_id, n, external_ref=f"ref-{n}") for n in range(1200)]
    other_store = add_store(engine)
    with write_transaction(engine) as connection:
        insert_products(connection, rows)
        wanted = [f"sku-{n}" for n in range(0, 1300, 2)]  # some exist, some don't
        holders = find_product_ids_by(connection, store_id, "sku", wanted)
        found = find_products_by(connection, store_id, "external_ref", ["ref-7", "ref-1199", "x"])
        none = find_product_ids_by(connection, other_store, "sku", wanted)
    assert holders == {f"sku-{n}": rows[n]["id"] for n in range(0, 1200, 2)}
    assert sorted(product.external_ref or "" for product in found) == ["ref-1199", "ref-7"]
    assert none == {}


def test_one_lookup_finds_the_holders_of_several_columns(engine: Engine, store_id: str) -> None:
    rows = [product_row(store_id, n, external_ref=f"ref-{n}") for n in range(1200)]
    with write_transaction(engine) as connection:
        insert_products(connection, rows)
        found = find_product_ids_by_values(
            connection,
            store_id,
            {
                # More than SQLite's batch: a second round asks for the rest of them alone.
                "sku": {f"sku-{n}" for n in range(0, 1300, 2)},
                "external_ref": {"ref-5", "ref-1199", "missing"},
                "slug": set(),
            },
        )
    assert found == {
        "sku": {f"sku-{n}": rows[n]["id"] for n in range(0, 1200, 2)},
        "external_ref": {"ref-5": rows[5]["id"], "ref-1199": rows[1199]["id"]},
        "slug": {},
    }


def test_updates_change_only_the_given_columns(
    engine: Engine, store_id: str, catalog: list[dict[str, Any]]
) -> None:
    later = T0 + timedelta(days=1)
    with write_transaction(engine) as connection:
        update_products(
            connection,
            store_id,
            [
                {"id": catalog[0]["id"], "name": "Navy Shoe", "tags": None, "updated_at": later},
                {"id": catalog[1]["id"], "templates": {"t": {"size": "9"}}, "updated_at": later},
            ],
        )
        first = get_product(connection, store_id, catalog[0]["id"])
        second = get_product(connection, store_id, catalog[1]["id"])
        untouched = get_product(connection, store_id, catalog[2]["id"])
        raw_tags = connection.execute(
            select(products.c.id).where(products.c.tags.is_(None))
        ).scalars()
        null_tag_ids = set(raw_tags)
    assert first == Product(
        **{**catalog[0], "name": "Navy Shoe", "tags": None, "updated_at": later}
    )
    assert second == Product(
        **{**catalog[1], "templates": {"t": {"size": "9"}}, "updated_at": later}
    )
    assert untouched == Product(**catalog[2])
    assert catalog[0]["id"] in null_tag_ids  # a cleared JSON value is SQL NULL, not JSON null


def test_updates_never_reach_another_store(
    engine: Engine, store_id: str, catalog: list[dict[str, Any]]
) -> None:
    other_store = add_store(engine)
    with write_transaction(engine) as connection:
        update_products(connection, other_store, [{"id": catalog[0]["id"], "name": "Hacked"}])
        product = get_product(connection, store_id, catalog[0]["id"])
    assert product is not None
    assert product.name == "Blue Shoe"


def test_bulk_inserted_timestamps_are_stored_as_core_stores_them(
    engine: Engine, store_id: str
) -> None:
    by_core = product_row(store_id, 1, created_at=T0)
    in_bulk = product_row(store_id, 2, created_at=T0)
    with write_transaction(engine) as connection:
        connection.execute(insert(products), [by_core])
        insert_products(connection, [in_bulk])
        stored = connection.execute(
            text("SELECT id, created_at, tags FROM products WHERE store_id = :store"),
            {"store": store_id},
        ).all()
    raw = {row.id: row for row in stored}
    # Byte-for-byte the same, so ordering and comparisons in SQL treat both alike.
    assert raw[by_core["id"]].created_at == raw[in_bulk["id"]].created_at
    assert raw[in_bulk["id"]].tags is None


def test_tag_filters_skip_products_whose_tags_are_json_null(engine: Engine, store_id: str) -> None:
    with write_transaction(engine) as connection:
        # Core stores a None JSON value as the JSON text `null`, which is not an array.
        connection.execute(insert(products), [product_row(store_id, 1, tags=None)])
        insert_products(connection, [product_row(store_id, 2, tags=["red"])])
    assert search(engine, store_id, "eq(tags,red)") == ["Product 2"]
    assert search(engine, store_id, "like(tags,*e*)") == ["Product 2"]


# Values that would change a query if they were pasted into SQL or into a LIKE pattern.
hostile_values = st.one_of(
    st.sampled_from(
        [
            "'",
            '"',
            "%",
            "_",
            ";",
            "\\",
            "\\%",
            "%_%",
            "50%_off",
            "' OR '1'='1",
            "x'); DROP TABLE products; --",
            "日本語",
            "Жёлтый",
            "🙂",
            " padded ",
        ]
    ),
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00*"),
        min_size=1,
        max_size=12,
    ),
)


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=hostile_values)
def test_hostile_values_match_literally(engine: Engine, value: str) -> None:
    store_id = add_store(engine)
    # Where a value holds % or _, the decoy has ordinary letters there: a pattern that let them
    # act as wildcards would match it.
    decoy = value.replace("%", "a").replace("_", "b")
    if decoy == value:
        decoy = value + "-decoy"
    target = product_row(store_id, 1, name=value, sku=value, tags=["t"])
    with write_transaction(engine) as connection:
        insert_products(connection, [target, product_row(store_id, 2, name=decoy, sku=decoy)])
    for exact in (f"eq(name,{quoted(value)})", f"in(sku,{quoted(value)},nothing):eq(tags,t)"):
        assert search(engine, store_id, exact) == [value]
    found = search(engine, store_id, f"like(name,{quoted(value)})")
    assert value in found
    if "%" in value or "_" in value:
        assert decoy not in found
