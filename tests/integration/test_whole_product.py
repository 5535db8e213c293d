"""Every attribute of EP's product schema through the Products API, on both databases.

The request bodies have the shapes of Elastic Path's create and update examples (a product
with custom inputs and locales, build rules with variations, a SKU-based and a SKU-less bundle;
a rename, new build rules, new custom inputs, a bundle's components replaced), with values of
their own; each succeeds and reads back as sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, update

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import products
from tests.job_api import Json, only_error
from tests.store_client import StoreClient, store_client
from tests.variation_api import new_variation


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def create(api: StoreClient, attributes: Json, **data: Any) -> Json:
    body = {"data": {"type": "product", "attributes": attributes, **data}}
    response = api.http.post("/pcm/products", json=body)
    assert response.status_code == 201, response.text
    created: Json = response.json()["data"]
    return created


def put(api: StoreClient, product_id: str, attributes: Json) -> Any:
    body = {"data": {"type": "product", "id": product_id, "attributes": attributes}}
    return api.http.put(f"/pcm/products/{product_id}", json=body)


def shown(api: StoreClient, product_id: str, query: str = "") -> Json:
    response = api.http.get(f"/pcm/products/{product_id}{query}")
    assert response.status_code == 200, response.text
    document: Json = response.json()
    return document


def simple(api: StoreClient, name: str, sku: str) -> str:
    return str(create(api, {"name": name, "sku": sku, "commodity_type": "physical"})["id"])


def engraving(label: str) -> Json:
    return {
        "name": label,
        "validation_rules": [{"type": "string", "options": {"max_length": 40}}],
        "required": False,
    }


PERSONALISED = {
    "external_ref": "mug-ext-7",
    "name": "Mug",
    "sku": "MUG-7",
    "slug": "mug-7",
    "description": "A mug.",
    "status": "live",
    "commodity_type": "physical",
    "mpn": "MUG-MPN-7",
    "upc_ean": "99887766",
    "tags": ["kitchen", "gifts"],
    "custom_inputs": {"inside": engraving("Inside text"), "outside": engraving("Outside text")},
    "locales": {"de-DE": {"name": "Becher", "description": "Ein Becher."}},
}
BUILD_RULES = {
    "default": "exclude",
    "include": [["opt-small", "opt-blue"]],
    "exclude": [["opt-large", "opt-green"]],
}


def test_eps_create_examples_succeed_and_read_back_as_sent(api: StoreClient) -> None:
    mug = create(api, PERSONALISED)
    assert mug["attributes"] == PERSONALISED
    assert mug["meta"]["product_types"] == ["standard"]
    # Listed highest sort_order first: the order builds and `meta.variations` use.
    size = new_variation(api, "Size", sort_order=2)["id"]
    colour = new_variation(api, "Colour", sort_order=1)["id"]
    shirt = create(
        api,
        {"name": "Polo", "sku": "POLO", "commodity_type": "physical", "build_rules": BUILD_RULES},
        relationships={
            "variations": {
                "data": [
                    {"type": "product-variation", "id": size},
                    {"type": "product-variation", "id": colour},
                ]
            }
        },
    )
    assert shirt["attributes"]["build_rules"] == BUILD_RULES
    assert [item["id"] for item in shirt["relationships"]["variations"]["data"]] == [
        size,
        colour,
    ]
    assert [variation["name"] for variation in shirt["meta"]["variations"]] == ["Size", "Colour"]
    tea, cups = simple(api, "Tea", "TEA"), simple(api, "Cups", "CUPS")
    components = {
        "drink": {
            "name": "Drink",
            "min": 1,
            "max": 1,
            "sort_order": 2,
            "options": [{"id": tea, "type": "product", "quantity": 2, "default": True}],
        },
        "ware": {
            "name": "Ware",
            "options": [{"id": cups, "type": "product", "quantity": 4, "sort_order": 1}],
        },
    }
    sku_bundle = create(
        api,
        {
            "name": "Tea set",
            "sku": "TEA-SET",
            "commodity_type": "digital",
            "components": components,
        },
    )
    skuless = create(
        api, {"name": "Tea trial", "commodity_type": "physical", "components": components}
    )
    for bundle in (sku_bundle, skuless):
        read = shown(api, bundle["id"])["data"]
        assert read["attributes"]["components"] == components
        assert read["meta"]["product_types"] == ["bundle"]
        assert read["relationships"]["component_products"]["data"] == [
            {"type": "product", "id": tea},
            {"type": "product", "id": cups},
        ]
    assert "sku" not in skuless["attributes"]


def test_eps_update_examples_succeed_and_read_back_as_sent(api: StoreClient) -> None:
    mug = create(api, PERSONALISED)
    renamed = put(api, mug["id"], {"name": "UPDATED Mug"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"]["attributes"] == {**PERSONALISED, "name": "UPDATED Mug"}
    rules = {"default": "include", "exclude": [["opt-a", "opt-b", "opt-c"]]}
    assert (
        put(api, mug["id"], {"build_rules": rules}).json()["data"]["attributes"]["build_rules"]
        == rules
    )
    inputs = {"lid": engraving("Lid")}
    assert (
        put(api, mug["id"], {"custom_inputs": inputs}).json()["data"]["attributes"]["custom_inputs"]
        == inputs
    )
    one, two = simple(api, "One", "ONE"), simple(api, "Two", "TWO")
    bundle = create(
        api,
        {
            "name": "Pair",
            "commodity_type": "physical",
            "components": {"a": {"options": [{"id": one, "type": "product", "quantity": 1}]}},
        },
    )
    components = {
        "List 1": {"name": "First", "sort_order": 1, "options": [{"id": two, "quantity": 1}]},
        "List 2": {
            "min": 1,
            "max": 1,
            "options": [
                {"id": one, "type": "product", "quantity": 1, "default": True, "sort_order": 2},
                {"id": one, "type": "product", "quantity": 1, "default": False, "sort_order": 3},
            ],
        },
    }
    changed = put(api, bundle["id"], {"components": components, "status": "live"})
    assert changed.status_code == 200, changed.text
    assert shown(api, bundle["id"])["data"]["attributes"]["components"] == components


def test_a_bundles_components_must_be_products_of_the_store(api: StoreClient) -> None:
    body = {
        "name": "Ghost bundle",
        "commodity_type": "physical",
        "components": {"x": {"options": [{"id": "shampooProductID", "type": "product"}]}},
    }
    response = api.http.post(
        "/pcm/products", json={"data": {"type": "product", "attributes": body}}
    )
    assert response.status_code == 422
    error = only_error(response)
    assert "shampooProductID" in error["detail"] and error["meta"]["field"] == "components"
    total = api.http.get("/pcm/products").json()["meta"]["results"]["total"]
    assert total == 0, "nothing was written"


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        ({"custom_inputs": {"x": {"name": 5}}}, "custom_inputs.x.name"),
        ({"custom_inputs": {"x": {"colour": "red"}}}, "custom_inputs.x.colour"),
        ({"build_rules": {"include": []}}, "build_rules.default"),
        ({"build_rules": {"default": "include", "exclude": ["a"]}}, "build_rules.exclude[0]"),
        ({"components": {"c": {"options": []}}}, "components.c.options"),
        ({"components": {"c": {"options": [{"id": "a", "quantity": 0}]}}}, "quantity"),
        ({"shopper_attributes": {"k": 1}}, "'k'"),
        ({"admin_attributes": {f"k{n}": "v" for n in range(101)}}, "at most 100 keys"),
    ],
)
def test_a_structured_attribute_of_the_wrong_shape_is_a_422_naming_the_part(
    api: StoreClient, attributes: Json, named: str
) -> None:
    body = {"name": "Odd", "commodity_type": "physical", **attributes}
    response = api.http.post(
        "/pcm/products", json={"data": {"type": "product", "attributes": body}}
    )
    assert response.status_code == 422, response.text
    assert named in only_error(response)["detail"]


def test_a_product_in_a_bundle_cannot_be_deleted_and_include_returns_it(api: StoreClient) -> None:
    part = simple(api, "Part", "PART")
    bundle = create(
        api,
        {
            "name": "Kit",
            "commodity_type": "physical",
            "components": {"p": {"options": [{"id": part}]}},
        },
    )
    refused = api.http.delete(f"/pcm/products/{part}")
    assert refused.status_code == 422 and bundle["id"] in only_error(refused)["detail"]
    document = shown(api, bundle["id"], "?include=component_products")
    assert [item["id"] for item in document["included"]["component_products"]] == [part]
    listed = api.http.get("/pcm/products?include=component_products").json()
    assert [item["id"] for item in listed["included"]["component_products"]] == [part]
    assert "included" not in shown(api, bundle["id"])
    assert api.http.get("/pcm/products?include=files,nonsense").status_code == 400
    related = api.http.get(f"/pcm/products/{bundle['id']}/relationships/component_products")
    assert related.json() == {"data": [{"type": "product", "id": part}]}
    assert api.http.delete(f"/pcm/products/{bundle['id']}").status_code == 204
    assert api.http.delete(f"/pcm/products/{part}").status_code == 204


def test_relationships_and_meta_have_eps_shape(api: StoreClient, engine: Engine) -> None:
    parent = simple(api, "Jeans", "JEANS")
    child = simple(api, "Jeans red", "JEANS-RED")
    with write_transaction(engine) as connection:  # as a build of children would
        connection.execute(update(products).where(products.c.id == child).values(parent_id=parent))
    base = shown(api, parent)["data"]
    assert base["meta"]["product_types"] == ["parent"] and base["meta"]["variation_matrix"] == {}
    relationships = base["relationships"]
    assert set(relationships) == {
        "children",
        "component_products",
        "files",
        "main_image",
        "templates",
        "variations",
    }
    assert relationships["main_image"] == {"data": None}
    assert relationships["files"] == {
        "data": [],
        "links": {"self": f"/pcm/products/{parent}/relationships/files"},
    }
    built = shown(api, child)["data"]
    assert built["meta"]["product_types"] == ["child"]
    assert built["relationships"]["base_product"] == {"data": {"type": "product", "id": parent}}
    children = api.http.get(f"/pcm/products/{parent}/children").json()
    assert [item["id"] for item in children["data"]] == [child]
    by_type = api.http.get("/pcm/products?filter=eq(product_types,parent)").json()
    assert [item["id"] for item in by_type["data"]] == [parent]
    some = api.http.get("/pcm/products?filter=in(product_types,child,bundle)").json()
    assert [item["id"] for item in some["data"]] == [child]
    assert (
        api.http.get(f"/pcm/products?filter=eq(parent_id,{parent})").json()["data"][0]["id"]
        == child
    )
    assert api.http.delete(f"/pcm/products/{parent}").status_code == 204
    assert api.http.get(f"/pcm/products/{child}").status_code == 404, "children go with it"


def test_files_templates_and_main_image_are_kept_as_references(api: StoreClient) -> None:
    product = simple(api, "Lamp", "LAMP")
    path = f"/pcm/products/{product}/relationships"
    files = {"data": [{"type": "file", "id": "f-1"}, {"type": "file", "id": "f-2"}]}
    assert api.http.post(f"{path}/files", json=files).status_code == 204
    assert (
        api.http.post(f"{path}/files", json={"data": [{"type": "file", "id": "f-3"}]}).status_code
        == 204
    )
    assert [item["id"] for item in api.http.get(f"{path}/files").json()["data"]] == [
        "f-1",
        "f-2",
        "f-3",
    ]
    assert (
        api.http.put(f"{path}/files", json={"data": [{"type": "file", "id": "f-9"}]}).status_code
        == 204
    )
    assert (
        api.http.request(
            "DELETE", f"{path}/files", json={"data": [{"type": "file", "id": "f-9"}]}
        ).status_code
        == 204
    )
    assert api.http.get(f"{path}/files").json() == {"data": []}
    templates = {"data": [{"type": "template", "id": "t-1"}]}
    added = api.http.post(f"{path}/templates", json=templates)
    assert added.status_code == 201 and added.json() == {
        "data": [{"type": "template", "id": "t-1"}]
    }
    assert shown(api, product)["data"]["relationships"]["templates"]["data"] == [
        {"type": "template", "id": "t-1"}
    ]
    assert (
        api.http.get("/pcm/products?filter=eq(templates,t-1)").json()["meta"]["results"]["total"]
        == 1
    )
    image = {"data": {"type": "file", "id": "img-1"}}
    assert api.http.post(f"{path}/main_image", json=image).status_code == 204
    assert api.http.get(f"{path}/main_image").json() == {"data": [{"type": "file", "id": "img-1"}]}
    assert shown(api, product)["data"]["attributes"]["main_image_id"] == "img-1"
    replaced = api.http.put(f"{path}/main_image", json={"data": [{"type": "file", "id": "img-2"}]})
    assert replaced.status_code == 204
    assert shown(api, product)["data"]["relationships"]["main_image"] == {
        "data": {"type": "file", "id": "img-2"}
    }
    assert api.http.delete(f"{path}/main_image").status_code == 204
    assert api.http.get(f"{path}/main_image").json() == {"data": []}
    unstorable = {"data": [{"type": "file", "id": "f-1", "meta": {"tags": ["a\u0000b"]}}]}
    assert api.http.post(f"{path}/files", json=unstorable).status_code == 422


def test_filters_of_eps_newer_api(api: StoreClient) -> None:
    first = create(
        api,
        {
            "name": "Red kettle",
            "sku": "K-1",
            "external_ref": "ref-a",
            "commodity_type": "physical",
            "tags": ["kitchen", "red"],
            "shopper_attributes": {"colour": "red", "size": "L"},
            "admin_attributes": {"bin": "A-7"},
        },
    )
    second = create(
        api,
        {
            "name": "Blue kettle",
            "sku": "K-2",
            "external_ref": "ref-b",
            "commodity_type": "physical",
            "tags": ["kitchen"],
            "admin_attributes": {"bin": "B-1"},
        },
    )

    def ids(filter_text: str) -> list[str]:
        response = api.http.get("/pcm/products", params={"filter": filter_text})
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["data"])

    both = sorted([first["id"], second["id"]])
    assert ids("eq(shopper_attributes.colour,red)") == [first["id"]]
    assert ids("eq(admin_attributes.bin,B-1)") == [second["id"]]
    assert ids("eq(admin_attributes.bin,C-0)") == []
    assert ids("eq(tags,red)") == [first["id"]]
    assert ids("like(tags,kit*)") == both
    assert ids("in(tags,red,none)") == [first["id"]]
    assert ids("like(external_ref,ref-*)") == both
    assert ids("gt(external_ref,ref-a)") == [second["id"]]
    assert ids("le(external_ref,ref-a)") == [first["id"]]
    assert ids("eq(owner,store)") == both and ids("eq(owner,organization)") == []
    assert ids("eq(has_nodes,false)") == both
    assert ids("eq(product_types,standard)") == both
    created = first["meta"]["created_at"]
    assert ids(f"ge(created_at,{created})") == both
    assert ids(f"lt(created_at,{created})") == []
    assert (
        ids(f"eq(created_at,{created})") == [first["id"]]
        or ids(f"eq(created_at,{created})") == both
    )
    assert ids(f"gt(updated_at,{second['meta']['updated_at']})") == []
    assert ids(f"in(id,{first['id']},{second['id']})") == both
    changed = put(api, first["id"], {"shopper_attributes": {"colour": "green"}})
    assert changed.status_code == 200
    assert ids("eq(shopper_attributes.colour,red)") == []
    assert ids("eq(shopper_attributes.colour,green)") == [first["id"]]
    assert ids("eq(shopper_attributes.size,L)") == [], "a PUT replaces the whole map"


def test_tags_are_the_stores_product_tags(api: StoreClient) -> None:
    create(api, {"name": "A", "commodity_type": "physical", "tags": ["shoes", "sale"]})
    create(api, {"name": "B", "commodity_type": "physical", "tags": ["shoes"]})
    listed = api.http.get("/pcm/tags").json()
    assert [tag["attributes"]["value"] for tag in listed["data"]] == ["sale", "shoes"]
    assert listed["meta"]["results"]["total"] == 2
    tag = listed["data"][1]
    assert tag["type"] == "tag" and tag["meta"]["owner"] == "store"
    assert api.http.get(f"/pcm/tags/{tag['id']}").json()["data"] == tag
    assert api.http.get("/pcm/tags/00000000-0000-4000-8000-000000000000").status_code == 404


def test_a_json_body_without_its_content_type_is_told_to_set_it(api: StoreClient) -> None:
    body = json.dumps({"data": {"type": "product", "attributes": {"name": "A"}}})
    response = api.http.post(
        "/pcm/products",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "Content-Type: application/json" in only_error(response)["detail"]
