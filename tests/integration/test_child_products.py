"""Building child products: the job, build rules, modifiers and uniqueness, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.catalog.products.children.build_rules import AMBIGUOUS_MESSAGE
from pxm_jobs.config import Settings
from tests.child_builds import (
    build,
    built,
    by_sku,
    children_of,
    create_product,
    job_errors,
)
from tests.job_api import run_jobs, show_job
from tests.store_client import StoreClient, store_client
from tests.variation_matrices import option_ids, variations_for

SIZE_AND_COLOUR = {
    "Size": {
        "S": {"sku_append": "-S", "slug_append": "-s", "name_append": " S"},
        "M": {"sku_append": "-M", "slug_append": "-m", "name_append": " M"},
    },
    "Colour": {
        "Red": {"sku_append": "-RED", "slug_append": "-red", "name_append": " Red"},
        "Blue": {"sku_append": "-BLUE", "slug_append": "-blue", "name_append": " Blue"},
        "Green": {"sku_append": "-GREEN", "slug_append": "-green", "name_append": " Green"},
    },
}


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def test_a_build_is_a_pending_job_that_makes_every_child(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api, description="Cotton", tags=["summer"])
    found = variations_for(api.http, shirt["id"], SIZE_AND_COLOUR)
    response = api.http.post(f"/pcm/products/{shirt['id']}/build")
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["type"] == "pim-job"
    assert (job["attributes"]["type"], job["attributes"]["status"]) == ("child-products", "pending")
    assert job["meta"]["queue_position"] == 1
    run_jobs(engine, settings)
    finished = show_job(api, job["id"])
    assert finished["attributes"]["status"] == "success"
    assert finished["meta"]["progress"] == {"processed": 6, "total": 6}
    assert finished["meta"]["children"]["created"] == 6

    children = children_of(api, shirt["id"])
    assert sorted(by_sku(children)) == sorted(
        f"SHIRT-{size}-{colour}" for size in "SM" for colour in ("RED", "BLUE", "GREEN")
    )
    small_red = by_sku(children)["SHIRT-S-RED"]
    assert small_red["attributes"]["name"] == "Shirt S Red"
    assert small_red["attributes"]["slug"] == "shirt-s-red"
    assert small_red["attributes"]["description"] == "Cotton", "inherited"
    assert small_red["attributes"]["tags"] == ["summer"]
    assert small_red["meta"]["product_types"] == ["child"]
    assert small_red["relationships"]["base_product"]["data"] == {
        "type": "product",
        "id": shirt["id"],
    }
    base = api.http.get(f"/pcm/products/{shirt['id']}").json()["data"]
    assert base["meta"]["product_types"] == ["parent"]
    small, red = option_ids(found, "S", "Red")
    assert base["meta"]["variation_matrix"][small][red] == small_red["id"]
    assert sum(len(row) for row in base["meta"]["variation_matrix"].values()) == 6
    assert [shown["name"] for shown in small_red["meta"]["child_variations"]] == ["Size", "Colour"]

    by_filter = api.http.get(f"/pcm/products?filter=eq(parent_id,{shirt['id']})").json()
    assert by_filter["meta"]["results"]["total"] == 6
    assert {item["id"] for item in by_filter["data"]} == {child["id"] for child in children}
    by_type = api.http.get("/pcm/products?filter=eq(product_types,child)").json()
    assert by_type["meta"]["results"]["total"] == 6


@pytest.mark.parametrize("body", [None, {}])
def test_an_empty_body_or_an_empty_object_queues_a_build(api: StoreClient, body: Any) -> None:
    shirt = create_product(api)
    response = api.http.post(f"/pcm/products/{shirt['id']}/build", json=body)
    assert response.status_code == 201, response.text


def test_building_a_missing_product_or_a_child_is_refused(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    missing = api.http.post("/pcm/products/00000000-0000-4000-8000-000000000000/build")
    assert missing.status_code == 404
    assert api.http.post("/pcm/products/not-an-id/build").status_code in (400, 404)
    shirt = create_product(api)
    variations_for(api.http, shirt["id"], SIZE_AND_COLOUR)
    built(api, engine, settings, shirt["id"])
    child = children_of(api, shirt["id"])[0]
    refused = api.http.post(f"/pcm/products/{child['id']}/build")
    assert refused.status_code == 422
    assert shirt["id"] in refused.json()["errors"][0]["detail"]
    assert api.http.get("/pcm/jobs").json()["meta"]["results"]["total"] == 1


def test_a_product_without_variations_builds_no_children(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    finished = built(api, engine, settings, shirt["id"])
    assert finished["meta"]["children"]["created"] == 0
    assert children_of(api, shirt["id"]) == []


def test_build_rules_include_and_exclude_choose_the_children(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    found = variations_for(api.http, shirt["id"], SIZE_AND_COLOUR)
    small, medium, red, green = option_ids(found, "S", "M", "Red", "Green")
    rules = {"default": "include", "exclude": [[green], [medium, red]]}
    api.http.put(
        f"/pcm/products/{shirt['id']}",
        json={"data": {"type": "product", "attributes": {"build_rules": rules}}},
    ).raise_for_status()
    built(api, engine, settings, shirt["id"])
    assert sorted(by_sku(children_of(api, shirt["id"]))) == [
        "SHIRT-M-BLUE",
        "SHIRT-S-BLUE",
        "SHIRT-S-RED",
    ]
    only = {"default": "exclude", "include": [[small, green]]}
    api.http.put(
        f"/pcm/products/{shirt['id']}",
        json={"data": {"type": "product", "attributes": {"build_rules": only}}},
    ).raise_for_status()
    built(api, engine, settings, shirt["id"])
    assert sorted(by_sku(children_of(api, shirt["id"]))) == ["SHIRT-S-GREEN"]


@pytest.mark.parametrize("same_variation", [False, True])
def test_ambiguous_or_same_variation_rules_fail_the_job_and_build_nothing(
    api: StoreClient, engine: Engine, settings: Settings, same_variation: bool
) -> None:
    shirt = create_product(api)
    found = variations_for(api.http, shirt["id"], SIZE_AND_COLOUR)
    small, medium, red = option_ids(found, "S", "M", "Red")
    if same_variation:
        rules = {"default": "include", "exclude": [[small, medium]]}
    else:
        rules = {"default": "include", "include": [[small, red]], "exclude": [[red, small]]}
    api.http.put(
        f"/pcm/products/{shirt['id']}",
        json={"data": {"type": "product", "attributes": {"build_rules": rules}}},
    ).raise_for_status()
    job = build(api, engine, settings, shirt["id"])
    assert job["attributes"]["status"] == "failed"
    [error] = job_errors(api, job)
    if same_variation:
        assert "must come from different variations" in error["attributes"]["message"]
    else:
        assert error["attributes"]["message"] == AMBIGUOUS_MESSAGE
    assert children_of(api, shirt["id"]) == []


# Each option tests one modifier type; the slug and sku appends keep the children apart.
MODIFIER_CASES: dict[str, tuple[Any, str, Any]] = {
    "name_equals": ("Tee", "name", "Tee"),
    "name_append": (" Red", "name", "Shirt Red"),
    "name_prepend": ("Red ", "name", "Red Shirt"),
    "description_equals": ("Linen", "description", "Linen"),
    "description_append": (", red", "description", "Cotton, red"),
    "description_prepend": ("Red: ", "description", "Red: Cotton"),
    "sku_equals": ("TEE", "sku", "TEE"),
    "sku_append": ("-X", "sku", "SHIRT-{C}-X"),
    "sku_prepend": ("X-", "sku", "X-SHIRT-{C}"),
    "sku_builder": (("{C}", "RED"), "sku", "SHIRT-RED"),
    "slug_equals": ("tee", "slug", "tee"),
    "slug_append": ("-red", "slug", "shirt-red"),
    "slug_prepend": ("red-", "slug", "red-shirt"),
    "slug_builder": (("shirt", "top"), "slug", "top"),
    "status": ("live", "status", "live"),
    "commodity_type": ("digital", "commodity_type", "digital"),
    "upc_ean_equals": ("999", "upc_ean", "999"),
    "mpn_equals": ("MPN-RED", "mpn", "MPN-RED"),
    "external_ref_equals": ("erp-red", "external_ref", "erp-red"),
    "custom_inputs_equals": (
        {"note": {"name": "Note", "required": False}},
        "custom_inputs",
        {"note": {"name": "Note", "required": False}},
    ),
    "build_rules_equals": ({"default": "exclude"}, "build_rules", {"default": "exclude"}),
    "locales_equals": ({"de-DE": {"name": "Hemd"}}, "locales", {"de-DE": {"name": "Hemd"}}),
    "price": ("large_surcharge", "sku", "SHIRT-{C}"),
}


def test_each_modifier_type_shapes_its_child(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api, sku="SHIRT-{C}", description="Cotton", mpn="MPN-1")
    options: dict[str, dict[str, Any]] = {}
    for position, (kind, (value, _, _)) in enumerate(MODIFIER_CASES.items()):
        modifiers: dict[str, Any] = {kind: value}
        if not kind.startswith("slug_"):
            modifiers["slug_append"] = f"-{position}"
        if not kind.startswith("sku_"):
            modifiers["sku_append"] = f"-{position}"
        options[kind] = modifiers
    variations_for(api.http, shirt["id"], {"Kind": options})
    built(api, engine, settings, shirt["id"])
    by_option = {}
    for child in children_of(api, shirt["id"]):
        option = child["meta"]["child_variations"][0]["option"]["name"]
        by_option[option] = child["attributes"]
    for position, (kind, (_, attribute, expected)) in enumerate(MODIFIER_CASES.items()):
        shown = by_option[kind]
        if attribute == "sku" and not kind.startswith("sku_"):
            expected = f"{expected}-{position}"
        if attribute == "slug" and not kind.startswith("slug_"):
            expected = f"{expected}-{position}"
        assert shown.get(attribute) == expected, (kind, shown)


def test_children_sharing_a_sku_fail_the_job_listing_each_clash(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    create_product(api, name="Other", slug="other", sku="SHIRT-M-BLUE")
    clash = {
        "Size": {
            "S": {"sku_append": "-S", "slug_append": "-s"},
            "M": {"sku_append": "-M", "slug_append": "-m"},
        },
        "Colour": {
            # Same SKU part for both colours: every size's children clash with each other.
            "Red": {"sku_append": "-RED", "slug_append": "-red"},
            "Crimson": {"sku_append": "-RED", "slug_append": "-crimson"},
            "Blue": {"sku_append": "-BLUE", "slug_append": "-blue"},
        },
    }
    variations_for(api.http, shirt["id"], clash)
    job = build(api, engine, settings, shirt["id"])
    assert job["attributes"]["status"] == "failed"
    errors = job_errors(api, job)
    problems = sorted(
        (error["meta"]["code"], error["meta"]["field"], error["meta"]["value"]) for error in errors
    )
    assert problems == [
        ("already_exists", "sku", "SHIRT-M-BLUE"),
        ("duplicate", "sku", "SHIRT-M-RED"),
        ("duplicate", "sku", "SHIRT-S-RED"),
    ]
    assert children_of(api, shirt["id"]) == []
    assert api.http.get("/pcm/products").json()["meta"]["results"]["total"] == 2


def test_children_without_slug_modifiers_clash_with_their_base_product(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    plain = {"Size": {"S": {"sku_append": "-S"}, "M": {"sku_append": "-M"}}}
    variations_for(api.http, shirt["id"], plain)
    job = build(api, engine, settings, shirt["id"])
    assert job["attributes"]["status"] == "failed"
    messages = [error["attributes"]["message"] for error in job_errors(api, job)]
    assert any("would all have slug 'shirt'" in message for message in messages), messages
    assert any(shirt["id"] in message for message in messages), messages
    assert children_of(api, shirt["id"]) == []


def test_builds_queue_in_line_and_a_failed_one_can_be_retried(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    plain = {"Size": {"S": {"sku_append": "-S"}, "M": {"sku_append": "-M"}}}
    (size,) = variations_for(api.http, shirt["id"], plain)
    first = api.http.post(f"/pcm/products/{shirt['id']}/build").json()["data"]
    second = api.http.post(f"/pcm/products/{shirt['id']}/build", json={}).json()["data"]
    assert (first["meta"]["queue_position"], second["meta"]["queue_position"]) == (1, 2)
    run_jobs(engine, settings)
    failed = show_job(api, first["id"])
    assert failed["attributes"]["status"] == "failed", "the children's slugs clash"
    assert show_job(api, second["id"])["attributes"]["status"] == "failed"
    for option, slug in (("S", "-s"), ("M", "-m")):
        add = {
            "data": {
                "type": "product-variation-modifier",
                "attributes": {"type": "slug_append", "value": slug},
            }
        }
        path = f"/pcm/variations/{size.id}/options/{size.options[option]}/modifiers"
        assert api.http.post(path, json=add).status_code == 201
    retried = api.http.post(f"/pcm/jobs/{first['id']}/retry")
    assert retried.status_code == 201, retried.text
    run_jobs(engine, settings)
    assert show_job(api, retried.json()["data"]["id"])["attributes"]["status"] == "success"
    assert sorted(by_sku(children_of(api, shirt["id"]))) == ["SHIRT-M", "SHIRT-S"]
