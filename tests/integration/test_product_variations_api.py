"""The variations a product names (`/pcm/products/{id}/relationships/variations`) and how a
product shows them (`meta.variations`, `meta.variation_matrix`), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import product_references, products
from tests.conftest import DATABASES
from tests.job_api import Json, only_error
from tests.module_server import ModuleServer, serve_module
from tests.store_client import StoreClient
from tests.variation_api import (
    VARIATIONS,
    link_body,
    links_path,
    new_option,
    new_product,
    new_variation,
)


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ModuleServer]:
    yield from serve_module(request, sqlite_template, tmp_path_factory.mktemp("links"))


@pytest.fixture
def api(server: ModuleServer) -> StoreClient:
    return server.new_store()


def linked_ids(api: StoreClient, product_id: str) -> list[str]:
    response = api.http.get(links_path(product_id))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def change(api: StoreClient, method: str, product_id: str, *variation_ids: str) -> int:
    response = api.http.request(method, links_path(product_id), json=link_body(*variation_ids))
    assert response.status_code in (204, 404, 422), response.text
    assert response.status_code != 204 or not response.content
    return response.status_code


def test_variations_are_added_replaced_removed_and_listed(api: StoreClient) -> None:
    size = new_variation(api, "Size", sort_order=3)
    colour = new_variation(api, "Colour", sort_order=2)
    material = new_variation(api, "Material", sort_order=1)
    shirt = new_product(api, "shirt")["id"]
    assert linked_ids(api, shirt) == []
    assert change(api, "POST", shirt, colour["id"], size["id"]) == 204
    listed = api.http.get(links_path(shirt)).json()["data"]
    assert listed == [
        {
            "type": "product-variation",
            "id": size["id"],
            "meta": {"created_at": size["meta"]["created_at"]},
        },
        {
            "type": "product-variation",
            "id": colour["id"],
            "meta": {"created_at": colour["meta"]["created_at"]},
        },
    ]
    assert change(api, "POST", shirt, size["id"], material["id"]) == 204, "named twice: once"
    assert linked_ids(api, shirt) == [size["id"], colour["id"], material["id"]]
    assert change(api, "PUT", shirt, material["id"]) == 204
    assert linked_ids(api, shirt) == [material["id"]]
    assert change(api, "DELETE", shirt, material["id"], str(uuid.uuid4())) == 204
    assert linked_ids(api, shirt) == []
    assert change(api, "POST", shirt, size["id"], colour["id"]) == 204
    assert change(api, "PUT", shirt) == 204, "an empty list names none"
    assert linked_ids(api, shirt) == []


def test_unknown_or_foreign_variations_refuse_the_whole_change(
    api: StoreClient, server: ModuleServer
) -> None:
    size = new_variation(api)
    shirt = new_product(api, "shirt")["id"]
    change(api, "POST", shirt, size["id"])
    stranger = server.new_store("stranger")
    theirs = new_variation(stranger, "Theirs")["id"]
    for method in ("POST", "PUT"):
        for missing in (theirs, str(uuid.uuid4()), "not-an-id"):
            response = api.http.request(
                method, links_path(shirt), json=link_body(size["id"], missing)
            )
            assert response.status_code == 422, response.text
            error = only_error(response)
            assert error["meta"]["missing_ids"] == [missing]
            assert missing in error["detail"] and "GET /pcm/variations" in error["detail"]
    assert linked_ids(api, shirt) == [size["id"]]
    wrong_type = {"data": [{"type": "product", "id": size["id"]}]}
    assert api.http.post(links_path(shirt), json=wrong_type).status_code == 422
    assert api.http.post(links_path(shirt), json={"data": {"id": size["id"]}}).status_code == 422
    assert change(api, "POST", str(uuid.uuid4()), size["id"]) == 404
    assert api.http.get(links_path("nope")).status_code == 404
    assert stranger.http.get(links_path(shirt)).status_code == 404


def test_a_product_shows_its_variations_and_options_in_meta(api: StoreClient) -> None:
    size = new_variation(api, "Size", sort_order=2)
    colour = new_variation(api, "Colour", sort_order=1)
    small = new_option(api, size["id"], "Small", description="Size small", sort_order=1)
    large = new_option(api, size["id"], "Large", sort_order=2)
    red = new_option(api, colour["id"], "Red", description="#EE2238")
    shirt = new_product(api, "shirt")["id"]
    plain = new_product(api, "plain")["id"]
    change(api, "POST", shirt, colour["id"], size["id"])
    shown = api.http.get(f"/pcm/products/{shirt}").json()["data"]
    assert shown["meta"]["variations"] == [
        {
            "id": size["id"],
            "name": "Size",
            "options": [
                {"id": large["id"], "name": "Large"},
                {"id": small["id"], "name": "Small", "description": "Size small"},
            ],
        },
        {
            "id": colour["id"],
            "name": "Colour",
            "options": [{"id": red["id"], "name": "Red", "description": "#EE2238"}],
        },
    ]
    assert shown["meta"]["variation_matrix"] == {}, "nothing built yet"
    assert shown["meta"]["product_types"] == ["standard"]
    assert shown["relationships"]["variations"] == {
        "data": [
            {"type": "product-variation", "id": size["id"]},
            {"type": "product-variation", "id": colour["id"]},
        ],
        "links": {"self": f"/pcm/products/{shirt}/relationships/variations"},
    }
    listed = {item["id"]: item for item in api.http.get("/pcm/products").json()["data"]}
    assert listed[shirt]["meta"] == shown["meta"]
    assert "variations" not in listed[plain]["meta"]
    assert listed[plain]["meta"]["variation_matrix"] == {}


def test_a_product_created_with_variations_names_them(api: StoreClient) -> None:
    size = new_variation(api)["id"]
    body: Json = {
        "data": {
            "type": "product",
            "attributes": {"name": "Polo", "sku": "polo", "commodity_type": "physical"},
            "relationships": {"variations": {"data": [{"type": "product-variation", "id": size}]}},
        }
    }
    created = api.http.post("/pcm/products", json=body)
    assert created.status_code == 201, created.text
    assert linked_ids(api, created.json()["data"]["id"]) == [size]
    body["data"]["attributes"] |= {"sku": "polo-2", "name": "Polo 2"}
    body["data"]["relationships"]["variations"]["data"][0]["id"] = str(uuid.uuid4())
    refused = api.http.post("/pcm/products", json=body)
    assert refused.status_code == 422, refused.text
    assert only_error(refused)["meta"]["field"] == "relationships.variations"
    skus = [item["attributes"]["sku"] for item in api.http.get("/pcm/products").json()["data"]]
    assert skus == ["polo"], "nothing of the refused product was written"


def test_a_deleted_product_lets_its_variations_go(api: StoreClient) -> None:
    size = new_variation(api)["id"]
    shirt = new_product(api, "shirt")["id"]
    change(api, "POST", shirt, size)
    assert api.http.delete(f"{VARIATIONS}/{size}").status_code == 422
    assert api.http.delete(f"/pcm/products/{shirt}").status_code == 204
    assert api.http.delete(f"{VARIATIONS}/{size}").status_code == 204


def test_a_child_product_names_no_variations_of_its_own(
    api: StoreClient, server: ModuleServer
) -> None:
    size = new_variation(api)["id"]
    base = new_product(api, "base")["id"]
    child = new_product(api, "child")["id"]
    with write_transaction(server.engine) as connection:
        connection.execute(update(products).where(products.c.id == child).values(parent_id=base))
    response = api.http.post(links_path(child), json=link_body(size))
    assert response.status_code == 422
    assert base in only_error(response)["detail"]
    assert linked_ids(api, child) == []


def test_a_product_names_at_most_ten_variations(api: StoreClient) -> None:
    many = [new_variation(api, f"V{n}")["id"] for n in range(11)]
    shirt = new_product(api, "shirt")["id"]
    assert change(api, "POST", shirt, *many[:10]) == 204
    response = api.http.post(links_path(shirt), json=link_body(many[10]))
    assert response.status_code == 422
    assert "at most 10 variations" in only_error(response)["detail"]
    assert change(api, "PUT", shirt, *many[1:]) == 204, "a replacement counts what it leaves"
    assert sorted(linked_ids(api, shirt)) == sorted(many[1:])


def test_ids_kept_before_variations_existed_name_nothing(
    api: StoreClient, server: ModuleServer
) -> None:
    """Products could name any id under `product_references` until migration 0012."""
    shirt = new_product(api, "shirt")["id"]
    legacy = {"product_id": shirt, "kind": "variation", "target_id": "var-size", "position": 0}
    with write_transaction(server.engine) as connection:
        connection.execute(insert(product_references).values(legacy))
    shown = api.http.get(f"/pcm/products/{shirt}").json()["data"]
    assert shown["relationships"]["variations"]["data"] == []
    assert "variations" not in shown["meta"]
    assert linked_ids(api, shirt) == []
