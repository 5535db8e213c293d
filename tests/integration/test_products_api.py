"""The Products API (spec §5): create, change, delete with the import's rules, on both databases."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from pxm_jobs.catalog.errors import ImportRejected, ProductRejected
from pxm_jobs.catalog.products import writes as product_writes
from pxm_jobs.catalog.products.csv_import import import_products
from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.products.writes import create_product
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import hierarchies, node_products, nodes
from tests.store_client import StoreClient, sign_in, store_client


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "product", "attributes": attributes}}


def create(api: StoreClient, **attributes: Any) -> dict[str, Any]:
    attributes = {"name": "Blue Shoe", "commodity_type": "physical", **attributes}
    response = api.http.post("/pcm/products", json=body(**attributes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


def put(api: StoreClient, product_id: str, **attributes: Any) -> Any:
    document = {"data": {"type": "product", "id": product_id, "attributes": attributes}}
    return api.http.put(f"/pcm/products/{product_id}", json=document)


def only_error(response: Any) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    error: dict[str, Any] = errors[0]
    return error


def test_a_created_product_is_shown_as_it_reads_back(api: StoreClient) -> None:
    created = create(
        api,
        sku="SHOE-1",
        upc_ean="0001234",
        mpn="M-1",
        external_ref="ext-1",
        description="Light, waterproof",
        tags=["shoes", "blue"],
        locales={"fr-FR": {"name": "Chaussure bleue"}},
    )
    assert created["type"] == "product"
    assert created["attributes"] == {
        "name": "Blue Shoe",
        "slug": "blue-shoe",
        "status": "draft",
        "commodity_type": "physical",
        "sku": "SHOE-1",
        "upc_ean": "0001234",
        "mpn": "M-1",
        "external_ref": "ext-1",
        "description": "Light, waterproof",
        "tags": ["shoes", "blue"],
        "locales": {"fr-FR": {"name": "Chaussure bleue"}},
    }
    meta = created["meta"]
    assert meta["owner"] == "store"
    assert meta["created_at"] == meta["updated_at"] and meta["created_at"].endswith("Z")
    shown = api.http.get(f"/pcm/products/{created['id']}")
    assert shown.status_code == 200 and shown.json()["data"] == created


@pytest.mark.parametrize(
    ("attributes", "field", "code"),
    [
        ({"name": None}, "name", "required"),
        ({"name": "  "}, "name", "required"),
        ({"commodity_type": "service"}, "commodity_type", "invalid_value"),
        ({"status": "archived"}, "status", "invalid_value"),
        ({"slug": "no spaces"}, "slug", "invalid_value"),
        ({"external_ref": "x" * 2049}, "external_ref", "too_long"),
        ({"sku": "x" * 256}, "sku", "too_long"),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags", "too_many"),
        ({"tags": ["two words"]}, "tags", "invalid_value"),
        ({"tags": ["x" * 256]}, "tags", "too_long"),
        ({"name": "nul\x00"}, "name", "invalid_value"),
        ({"locales": {"not a locale": {"name": "x"}}}, "locales", "invalid_value"),
    ],
)
def test_invalid_attributes_are_a_422_naming_the_field(
    api: StoreClient, attributes: dict[str, Any], field: str, code: str
) -> None:
    response = api.http.post(
        "/pcm/products", json=body(**{"name": "Shoe", "commodity_type": "physical", **attributes})
    )
    assert response.status_code == 422, response.text
    error = only_error(response)
    assert error["title"] == "Failed Validation"
    assert error["meta"] == {"field": field, "code": code}
    assert api.http.get("/pcm/products").json()["meta"]["results"]["total"] == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("commodity_type", "service"),
        ("slug", "no spaces"),
        ("external_ref", "x" * 2049),
        ("tags", "a,two words"),
        ("status", "archived"),
    ],
)
def test_the_api_and_the_import_refuse_a_value_with_the_same_words(
    api: StoreClient, engine: Engine, settings: Settings, column: str, value: str
) -> None:
    given: Any = value.split(",") if column == "tags" else value
    attributes = {"name": "Shoe", "commodity_type": "physical", column: given}
    response = api.http.post("/pcm/products", json=body(**attributes))
    row = {"commodity_type": "physical", column: value}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "sku", *row])
    writer.writerow(["Shoe", "s-1", *row.values()])
    with pytest.raises(ImportRejected) as raised, write_transaction(engine) as connection:
        import_products(
            connection,
            store_id=api.store_id,
            chunks=[buffer.getvalue().encode()],
            settings=settings,
            dry_run=True,
            report_progress=lambda processed, total: None,
        )
    assert only_error(response)["detail"] == raised.value.errors[0].message


def test_a_malformed_body_is_refused_with_its_problem_named(api: StoreClient) -> None:
    wrong_type = api.http.post(
        "/pcm/products", json={"data": {"type": "hierarchy", "attributes": {"name": "x"}}}
    )
    assert wrong_type.status_code == 422 and "type" in only_error(wrong_type)["detail"]
    unknown = api.http.post("/pcm/products", json=body(name="x", commodity_type="digital", hue=1))
    assert unknown.status_code == 422 and "hue" in only_error(unknown)["detail"]
    not_a_list = api.http.post("/pcm/products", json=body(name="x", tags="a,b"))
    assert not_a_list.status_code == 422 and "tags" in only_error(not_a_list)["detail"]
    malformed = api.http.post(
        "/pcm/products", content=b'{"data": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    surrogate = api.http.post(
        "/pcm/products",
        content=b'{"data": {"type": "product", "attributes": {"name": "\\ud800", '
        b'"commodity_type": "physical"}}}',
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422 and only_error(surrogate)["meta"]["field"] == "name"


@pytest.mark.parametrize("field", ["sku", "slug", "external_ref"])
def test_unique_values_are_unique_in_the_store_only(
    api: StoreClient, engine: Engine, field: str
) -> None:
    first = create(api, **{field: "taken"})
    response = api.http.post(
        "/pcm/products", json=body(name="Other", commodity_type="digital", **{field: "taken"})
    )
    assert response.status_code == 422
    error = only_error(response)
    assert error["detail"] == f"{field} 'taken' is already used by product {first['id']}"
    assert error["meta"] == {"field": field, "code": "already_exists"}
    _, token = sign_in(api.http, engine, "another shop")
    elsewhere = api.http.post(
        "/pcm/products",
        json=body(name="Other", commodity_type="digital", **{field: "taken"}),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert elsewhere.status_code == 201


def test_a_derived_slug_must_be_free_too(api: StoreClient) -> None:
    create(api)
    response = api.http.post("/pcm/products", json=body(name="Blue shoe", commodity_type="digital"))
    assert only_error(response)["meta"] == {"field": "slug", "code": "already_exists"}


def test_a_put_changes_only_the_attributes_it_names(api: StoreClient) -> None:
    created = create(api, sku="S-1", description="Old", tags=["a"], mpn="M")
    response = put(api, created["id"], name="Navy Shoe", description=None, tags=[])
    assert response.status_code == 200, response.text
    updated = response.json()["data"]
    assert updated["attributes"] == {
        "name": "Navy Shoe",
        "slug": "blue-shoe",
        "status": "draft",
        "commodity_type": "physical",
        "sku": "S-1",
        "mpn": "M",
    }
    assert updated["meta"]["created_at"] == created["meta"]["created_at"]
    assert updated["meta"]["updated_at"] >= created["meta"]["updated_at"]
    assert api.http.get(f"/pcm/products/{created['id']}").json()["data"] == updated


def test_a_put_that_changes_nothing_leaves_the_product_alone(api: StoreClient) -> None:
    created = create(api, sku="S-1")
    response = put(api, created["id"], sku="S-1", status="DRAFT")
    assert response.json()["data"] == created


def test_a_put_may_keep_its_own_unique_values_but_not_take_anothers(api: StoreClient) -> None:
    first = create(api, sku="S-1")
    second = create(api, name="Red Shoe", sku="S-2")
    assert put(api, first["id"], sku="S-1", slug="blue-shoe").status_code == 200
    taken = put(api, second["id"], sku="S-1")
    assert taken.status_code == 422
    assert only_error(taken)["detail"] == f"sku 'S-1' is already used by product {first['id']}"


@pytest.mark.parametrize("field", ["name", "commodity_type", "status", "slug"])
def test_a_put_cannot_blank_a_required_attribute(api: StoreClient, field: str) -> None:
    created = create(api)
    response = put(api, created["id"], **{field: ""})
    assert response.status_code == 422
    assert only_error(response)["meta"] == {"field": field, "code": "required"}


def test_a_put_must_name_the_product_of_its_path(api: StoreClient) -> None:
    created = create(api)
    other = str(uuid.uuid4())
    response = api.http.put(
        f"/pcm/products/{created['id']}",
        json={"data": {"type": "product", "id": other, "attributes": {"name": "x"}}},
    )
    assert response.status_code == 422 and only_error(response)["meta"] == {"field": "data.id"}
    without_id = api.http.put(
        f"/pcm/products/{created['id']}",
        json={"data": {"type": "product", "attributes": {"name": "Renamed"}}},
    )
    assert without_id.json()["data"]["attributes"]["name"] == "Renamed"


def test_unknown_and_foreign_products_are_not_found(api: StoreClient, engine: Engine) -> None:
    created = create(api)
    _, token = sign_in(api.http, engine, "another shop")
    foreign = {"Authorization": f"Bearer {token}"}
    path = f"/pcm/products/{created['id']}"
    document = {"data": {"type": "product", "attributes": {"name": "x"}}}
    for method, url, headers in [
        ("GET", path, foreign),
        ("PUT", path, foreign),
        ("DELETE", path, foreign),
        ("PUT", f"/pcm/products/{uuid.uuid4()}", {}),
        ("DELETE", "/pcm/products/not-a-uuid", {}),
    ]:
        response = api.http.request(
            method, url, json=document if method == "PUT" else None, headers=headers
        )
        assert response.status_code == 404, (method, url)
    assert api.http.get(path).json()["data"] == created


def test_deleting_a_product_removes_it_and_its_node_links(api: StoreClient, engine: Engine) -> None:
    kept, deleted = create(api, sku="K"), create(api, name="Gone", sku="G")
    hierarchy_id, node_id, now = str(uuid.uuid4()), str(uuid.uuid4()), utc_now()
    with write_transaction(engine) as connection:
        connection.execute(
            insert(hierarchies).values(
                id=hierarchy_id, store_id=api.store_id, name="H", created_at=now, updated_at=now
            )
        )
        connection.execute(
            insert(nodes).values(
                id=node_id,
                store_id=api.store_id,
                hierarchy_id=hierarchy_id,
                name="N",
                created_at=now,
                updated_at=now,
            )
        )
        connection.execute(
            insert(node_products),
            [{"node_id": node_id, "product_id": item["id"]} for item in (kept, deleted)],
        )
    response = api.http.delete(f"/pcm/products/{deleted['id']}")
    assert response.status_code == 204 and response.content == b""
    assert api.http.get(f"/pcm/products/{deleted['id']}").status_code == 404
    assert api.http.delete(f"/pcm/products/{deleted['id']}").status_code == 404
    with read_transaction(engine) as connection:
        linked = connection.execute(select(node_products.c.product_id)).scalars().all()
        count = connection.execute(select(func.count()).select_from(node_products)).scalar()
    assert linked == [kept["id"]] and count == 1


def test_a_value_taken_after_the_check_is_still_refused_and_named(
    engine: Engine, settings: Settings, api: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent request can take a value between the check and the insert: the unique index
    refuses it, and the answer still names the field, with the transaction still usable."""
    holder = create(api, sku="race")
    looked_up: list[str] = []
    real_lookup = product_writes.find_product_ids_by

    def blind_first_sku_lookup(*args: Any) -> dict[str, str]:
        looked_up.append(args[2])
        return {} if looked_up == ["sku"] else real_lookup(*args)

    monkeypatch.setattr(product_writes, "find_product_ids_by", blind_first_sku_lookup)
    limits = ProductLimits.from_settings(settings)
    with write_transaction(engine) as connection:
        with pytest.raises(ProductRejected) as raised:
            create_product(
                connection,
                api.store_id,
                {"name": "Racer", "commodity_type": "digital", "sku": "race"},
                limits=limits,
                now=utc_now(),
            )
        still_usable = connection.execute(select(func.count()).select_from(nodes)).scalar()
    assert still_usable == 0
    problem = raised.value.problems[0]
    assert (problem.field, problem.code) == ("sku", "already_exists")
    assert holder["id"] in problem.message
