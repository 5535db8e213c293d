"""Variations, their options and modifiers through the API, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATABASES
from tests.job_api import Json, only_error
from tests.module_server import ModuleServer, serve_module
from tests.store_client import StoreClient
from tests.variation_api import (
    VARIATIONS,
    link_body,
    links_path,
    modifiers_path,
    new_modifier,
    new_option,
    new_product,
    new_variation,
    options_path,
)


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ModuleServer]:
    yield from serve_module(request, sqlite_template, tmp_path_factory.mktemp("variations"))


@pytest.fixture
def api(server: ModuleServer) -> StoreClient:
    return server.new_store()


def refused(api: StoreClient, method: str, path: str, body: Any, status: int) -> Json:
    response = api.http.request(method, path, json=body)
    assert response.status_code == status, response.text
    return only_error(response)


def variation_body(**attributes: Any) -> Json:
    return {"data": {"type": "product-variation", "attributes": attributes}}


def modifier_body(**attributes: Any) -> Json:
    return {"data": {"type": "product-variation-modifier", "attributes": attributes}}


def test_a_variation_is_created_read_changed_listed_and_deleted(api: StoreClient) -> None:
    variation = new_variation(api, "Paint Color", sort_order=10)
    assert variation["type"] == "product-variation"
    assert variation["attributes"] == {"name": "Paint Color", "sort_order": 10}
    assert variation["meta"]["owner"] == "store"
    assert set(variation["meta"]) == {"owner", "created_at", "updated_at"}
    path = f"{VARIATIONS}/{variation['id']}"
    assert api.http.get(path).json()["data"] == variation
    body = {"data": {"type": "product-variation", "id": variation["id"], "attributes": {}}}
    unchanged = api.http.put(path, json=body)
    assert unchanged.status_code == 200 and unchanged.json()["data"] == variation
    body["data"]["attributes"] = {"name": "Colour", "sort_order": None}
    changed = api.http.put(path, json=body).json()["data"]
    assert changed["attributes"] == {"name": "Colour"}, "a null sort_order removes it"
    assert changed["meta"]["created_at"] == variation["meta"]["created_at"]
    assert api.http.delete(path).status_code == 204
    assert api.http.get(path).status_code == 404


def test_a_variation_shows_its_options_in_display_order(api: StoreClient) -> None:
    size = new_variation(api, "Size")
    small = new_option(api, size["id"], "Small", description="Small size", sort_order=1)
    large = new_option(api, size["id"], "Large", sort_order=3)
    plain = new_option(api, size["id"], "Medium")
    shown = api.http.get(f"{VARIATIONS}/{size['id']}").json()["data"]
    options = shown["meta"]["options"]
    assert [option["id"] for option in options] == [large["id"], small["id"], plain["id"]]
    assert options[1] == {
        "id": small["id"],
        "name": "Small",
        "description": "Small size",
        "sort_order": 1,
        "created_at": small["meta"]["created_at"],
        "updated_at": small["meta"]["updated_at"],
    }
    listed = api.http.get(VARIATIONS).json()
    assert listed["data"] == [shown]
    assert listed["meta"]["results"]["total"] == 1


def test_variations_list_in_pages(api: StoreClient) -> None:
    for name in ("A", "B", "C"):
        new_variation(api, name)
    page = api.http.get(VARIATIONS, params={"page[limit]": 2, "page[offset]": 1}).json()
    assert [item["attributes"]["name"] for item in page["data"]] == ["B", "A"], "newest first"
    assert page["meta"]["results"]["total"] == 3
    bad = api.http.get(VARIATIONS, params={"page[limit]": "x"})
    assert bad.status_code == 400
    assert "page[limit]" in only_error(bad)["detail"]


BAD_VARIATIONS: list[tuple[Json, str]] = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": 5}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": "Size", "sort_order": "first"}, "sort_order"),
    ({"name": "Size", "sort_order": 2**31}, "sort_order"),
    ({"name": "a\x00b"}, "name"),
]


def test_a_variation_with_bad_attributes_is_refused_saying_which(api: StoreClient) -> None:
    for attributes, field in BAD_VARIATIONS:
        error = refused(api, "POST", VARIATIONS, variation_body(**attributes), 422)
        assert error["meta"]["field"] == field, attributes
        assert field in error["detail"], attributes
    assert api.http.get(VARIATIONS).json()["data"] == []


def test_malformed_variation_bodies_are_refused(api: StoreClient) -> None:
    wrong_type = {"data": {"type": "product", "attributes": {"name": "Size"}}}
    assert refused(api, "POST", VARIATIONS, wrong_type, 422)["status"] == "422"
    unknown = variation_body(name="Size", colour="red")
    assert "colour" in refused(api, "POST", VARIATIONS, unknown, 422)["detail"]
    broken = api.http.post(
        VARIATIONS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    size = new_variation(api)
    other = {"data": {"type": "product-variation", "id": str(uuid.uuid4()), "attributes": {}}}
    error = refused(api, "PUT", f"{VARIATIONS}/{size['id']}", other, 422)
    assert error["meta"]["field"] == "data.id"


def test_an_option_is_created_read_changed_listed_and_deleted(api: StoreClient) -> None:
    size = new_variation(api)
    option = new_option(api, size["id"], "Blue", description="Our most popular", sort_order=0)
    assert option["type"] == "product-variation-option"
    assert option["attributes"] == {
        "name": "Blue",
        "description": "Our most popular",
        "sort_order": 0,
    }
    assert set(option["meta"]) == {"owner", "created_at", "updated_at"}
    path = f"{options_path(size['id'])}/{option['id']}"
    assert api.http.get(path).json()["data"] == option
    change = {
        "data": {
            "type": "product-variation-option",
            "id": option["id"],
            "attributes": {"description": None, "name": "Navy"},
        }
    }
    changed = api.http.put(path, json=change).json()["data"]
    assert changed["attributes"] == {"name": "Navy", "sort_order": 0}
    listed = api.http.get(options_path(size["id"])).json()
    assert listed["data"] == [changed] and listed["meta"]["results"]["total"] == 1
    assert api.http.delete(path).status_code == 204
    assert api.http.get(path).status_code == 404
    assert "options" not in api.http.get(f"{VARIATIONS}/{size['id']}").json()["data"]["meta"]


BAD_OPTIONS: list[tuple[Json, str]] = [
    ({}, "name"),
    ({"name": "Extra Large"}, "name"),
    ({"name": "S^M"}, "name"),
    ({"name": "S", "description": 3}, "description"),
    ({"name": "S", "sort_order": 1.5}, "sort_order"),
]


def test_an_option_with_bad_attributes_is_refused_saying_which(api: StoreClient) -> None:
    size = new_variation(api)
    for attributes, field in BAD_OPTIONS:
        body = {"data": {"type": "product-variation-option", "attributes": attributes}}
        error = refused(api, "POST", options_path(size["id"]), body, 422)
        assert error["meta"]["field"] == field, attributes
    assert api.http.get(options_path(size["id"])).json()["data"] == []


# Every modifier type pim.yaml lists, with a valid body for it and what it reads back as.
VALID_MODIFIERS: list[Json] = [
    {"type": "commodity_type", "value": "digital"},
    {"type": "status", "value": "live"},
    {"type": "price", "reference_name": "PriceEqual"},
    {"type": "name_append", "value": " - Large"},
    {"type": "name_prepend", "value": "Large "},
    {"type": "name_equals", "value": "Large Shirt"},
    {"type": "sku_append", "value": "-L"},
    {"type": "sku_prepend", "value": "L-"},
    {"type": "sku_equals", "value": "shirt-large"},
    {"type": "sku_builder", "seek": "{size}", "set": "L"},
    {"type": "slug_append", "value": "-large"},
    {"type": "slug_prepend", "value": "large-"},
    {"type": "slug_equals", "value": "shirt.large_1"},
    {"type": "slug_builder", "seek": "{size}", "set": "large"},
    {"type": "description_append", "value": " In large."},
    {"type": "description_prepend", "value": "Large: "},
    {"type": "description_equals", "value": "A large shirt."},
    {
        "type": "custom_inputs_equals",
        "value": {"engraving": {"name": "Engraving", "required": False}},
    },
    {"type": "build_rules_equals", "value": {"default": "exclude", "include": [["a", "b"]]}},
    {"type": "locales_equals", "value": {"fr-FR": {"name": "Grande", "description": "Grande"}}},
    {"type": "upc_ean_equals", "value": "123456789012"},
    {"type": "mpn_equals", "value": "MPN-9"},
    {"type": "external_ref_equals", "value": "erp-9"},
]


def test_every_modifier_type_is_taken_once_per_option(api: StoreClient) -> None:
    size = new_variation(api)
    large = new_option(api, size["id"], "Large")
    path = modifiers_path(size["id"], large["id"])
    made = [new_modifier(api, size["id"], large["id"], **body) for body in VALID_MODIFIERS]
    for modifier, body in zip(made, VALID_MODIFIERS, strict=True):
        assert modifier["type"] == "product-variation-modifier"
        assert modifier["attributes"] == body
        assert modifier["meta"] == {"owner": "store"}
        assert api.http.get(f"{path}/{modifier['id']}").json()["data"] == modifier
    listed = api.http.get(path, params={"page[limit]": 100}).json()
    assert listed["data"] == made
    assert listed["meta"]["results"]["total"] == len(VALID_MODIFIERS) == 23
    for body in VALID_MODIFIERS:
        error = refused(api, "POST", path, modifier_body(**body), 422)
        assert body["type"] in error["detail"] and "one modifier of each type" in error["detail"]
    assert api.http.get(path).json()["meta"]["results"]["total"] == 23


# Each modifier type's rules broken, with the field and the words the answer must name.
BAD_MODIFIERS: list[tuple[Json, str, str]] = [
    ({"type": "colour", "value": "x"}, "type", "not a modifier type"),
    ({"value": "x"}, "type", "not a modifier type"),
    ({"type": "price_increment", "value": "5"}, "type", "price book modifier"),
    ({"type": "commodity_type", "value": "virtual"}, "value", "physical or digital"),
    ({"type": "commodity_type"}, "value", "needs a value"),
    ({"type": "status", "value": "published"}, "value", "draft or live"),
    ({"type": "price"}, "reference_name", "reference_name"),
    ({"type": "price", "reference_name": "P", "value": "3"}, "value", "leave value out"),
    ({"type": "name_append", "value": ""}, "value", "non-empty"),
    ({"type": "name_equals", "value": 7}, "value", "text"),
    ({"type": "name_prepend", "value": "x", "seek": "{a}"}, "seek", "leave seek out"),
    ({"type": "sku_equals", "value": "s" * 256}, "value", "255"),
    ({"type": "sku_append", "reference_name": "x", "value": "a"}, "reference_name", "leave"),
    ({"type": "sku_builder", "set": "L"}, "seek", "needs seek"),
    ({"type": "sku_builder", "seek": "{size}"}, "set", "needs set"),
    ({"type": "sku_builder", "seek": "{s}", "set": "L", "value": "v"}, "value", "leave"),
    ({"type": "slug_append", "value": "large shirt"}, "value", "slug"),
    ({"type": "slug_prepend", "value": "l$"}, "value", "slug"),
    ({"type": "slug_equals", "value": "a[1]"}, "value", "slug"),
    ({"type": "slug_builder", "seek": "{col or}", "set": "red"}, "seek", "placeholder"),
    ({"type": "slug_builder", "seek": "{color}", "set": "dark red"}, "set", "slug_builder"),
    ({"type": "description_equals", "value": ["a"]}, "value", "text"),
    ({"type": "description_append"}, "value", "needs a value"),
    ({"type": "sku_prepend", "value": "p" * 256}, "value", "255"),
    ({"type": "description_prepend", "value": "a\x00"}, "value", "NUL"),
    ({"type": "custom_inputs_equals", "value": "engraving"}, "value", "object"),
    ({"type": "custom_inputs_equals", "value": {"e": {"colour": 1}}}, "value", "colour"),
    ({"type": "build_rules_equals", "value": {"default": "maybe"}}, "value", "default"),
    (
        {"type": "build_rules_equals", "value": {"default": "include", "include": "a"}},
        "value",
        "include",
    ),
    ({"type": "locales_equals", "value": {"fr-FR": {"title": "x"}}}, "value", "title"),
    ({"type": "locales_equals", "value": {"not a locale": {"name": "x"}}}, "value", "locale"),
    ({"type": "locales_equals", "value": "fr-FR"}, "value", "object"),
    ({"type": "upc_ean_equals", "value": "u" * 256}, "value", "255"),
    ({"type": "mpn_equals", "value": ""}, "value", "non-empty"),
    ({"type": "external_ref_equals", "value": "e" * 2049}, "value", "external_ref"),
]


def test_a_modifier_of_the_wrong_shape_is_refused_saying_what_to_fix(api: StoreClient) -> None:
    size = new_variation(api)
    large = new_option(api, size["id"], "Large")
    path = modifiers_path(size["id"], large["id"])
    for attributes, field, says in BAD_MODIFIERS:
        error = refused(api, "POST", path, modifier_body(**attributes), 422)
        assert error["title"] == "Failed Validation", attributes
        assert error["meta"]["field"] == field, attributes
        assert says in error["detail"], (attributes, error["detail"])
    assert api.http.get(path).json()["data"] == []
    covered = {attributes.get("type") for attributes, _, _ in BAD_MODIFIERS}
    assert covered >= {body["type"] for body in VALID_MODIFIERS}, "every type's rules are tried"


def test_a_modifier_changes_keep_what_its_type_still_uses(api: StoreClient) -> None:
    size = new_variation(api)
    large = new_option(api, size["id"], "Large")
    builder = new_modifier(api, size["id"], large["id"], type="sku_builder", seek="{s}", set="L")
    path = f"{modifiers_path(size['id'], large['id'])}/{builder['id']}"

    def put(**attributes: Any) -> Any:
        body = modifier_body(**attributes)
        body["data"]["id"] = builder["id"]
        return api.http.put(path, json=body)

    changed = put(type="sku_builder", set="XL")
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"] == {
        "type": "sku_builder",
        "seek": "{s}",
        "set": "XL",
    }
    retyped = put(type="sku_append", value="-XL").json()["data"]
    assert retyped["attributes"] == {"type": "sku_append", "value": "-XL"}
    assert put(type="sku_equals").status_code == 422, "a new type takes only what is sent"
    new_modifier(api, size["id"], large["id"], type="status", value="draft")
    taken = put(type="status", value="live")
    assert taken.status_code == 422
    assert "one modifier of each type" in only_error(taken)["detail"]
    assert api.http.get(path).json()["data"] == retyped


def test_deleting_a_variation_in_use_is_refused_and_allowed_once_unlinked(
    api: StoreClient,
) -> None:
    size = new_variation(api)
    large = new_option(api, size["id"], "Large")
    modifier = new_modifier(api, size["id"], large["id"], type="sku_append", value="-L")
    shirt = new_product(api, "shirt")
    assert api.http.post(links_path(shirt["id"]), json=link_body(size["id"])).status_code == 204
    variation_path = f"{VARIATIONS}/{size['id']}"
    error = refused(api, "DELETE", variation_path, None, 422)
    assert shirt["id"] in error["detail"] and "relationships/variations" in error["detail"]
    assert error["meta"]["product_ids"] == [shirt["id"]]
    modifier_path = f"{modifiers_path(size['id'], large['id'])}/{modifier['id']}"
    assert "in use" in refused(api, "DELETE", modifier_path, None, 422)["detail"]
    option_path = f"{options_path(size['id'])}/{large['id']}"
    assert api.http.get(option_path).status_code == 200
    assert (
        api.http.request("DELETE", links_path(shirt["id"]), json=link_body(size["id"])).status_code
        == 204
    )
    assert api.http.delete(modifier_path).status_code == 204
    assert api.http.delete(variation_path).status_code == 204
    assert api.http.get(option_path).status_code == 404, "options go with their variation"


def test_an_option_of_a_linked_variation_can_be_deleted(api: StoreClient) -> None:
    """EP's rebuild rules start from options removed from a variation products use."""
    size = new_variation(api)
    large = new_option(api, size["id"], "Large")
    new_modifier(api, size["id"], large["id"], type="sku_append", value="-L")
    shirt = new_product(api, "shirt")
    api.http.post(links_path(shirt["id"]), json=link_body(size["id"]))
    assert api.http.delete(f"{options_path(size['id'])}/{large['id']}").status_code == 204
    shown = api.http.get(f"/pcm/products/{shirt['id']}").json()["data"]
    assert shown["meta"]["variations"] == [{"id": size["id"], "name": "Size", "options": []}]


def test_other_stores_ids_and_non_ids_answer_404(api: StoreClient, server: ModuleServer) -> None:
    size = new_variation(api)
    large = new_option(api, size["id"], "Large")
    modifier = new_modifier(api, size["id"], large["id"], type="status", value="live")
    other_size = new_variation(api, "Colour")
    paths = [
        f"{VARIATIONS}/{size['id']}",
        f"{options_path(size['id'])}/{large['id']}",
        f"{modifiers_path(size['id'], large['id'])}/{modifier['id']}",
    ]
    stranger = server.new_store("stranger")
    if stranger:
        for path in paths:
            for method in ("GET", "PUT", "DELETE"):
                response = stranger.http.request(method, path, json=variation_body(name="x"))
                assert response.status_code in (404, 422), (method, path, response.text)
                if method != "PUT":
                    assert response.status_code == 404, (method, path)
            assert stranger.http.get(f"{path}x").status_code == 404
        assert stranger.http.get(options_path(size["id"])).status_code == 404
        assert stranger.http.get(VARIATIONS).json()["data"] == []
        their_shirt = new_product(stranger, "theirs")
        foreign = stranger.http.post(links_path(their_shirt["id"]), json=link_body(size["id"]))
        assert foreign.status_code == 422 and size["id"] in only_error(foreign)["detail"]
    wrong_parent = f"{options_path(other_size['id'])}/{large['id']}"
    assert api.http.get(wrong_parent).status_code == 404, "an option lives under its variation"
    assert api.http.get(f"{VARIATIONS}/not-a-uuid").status_code == 404
    assert api.http.get(paths[2]).json()["data"] == modifier
