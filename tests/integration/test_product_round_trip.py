"""Import and export of the whole product, on both databases: keyed attribute columns, template
headers with spaces, bundles refused, and an unedited export that imports back changing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from tests.job_api import Json, csv_bytes, download, queue_import, rows_of, run_jobs, show_job
from tests.store_client import StoreClient, store_client


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def imported(api: StoreClient, engine: Engine, settings: Settings, *rows: list[str]) -> Json:
    job = queue_import(api, csv_bytes(*rows))
    run_jobs(engine, settings)
    return show_job(api, job["id"])


def errors_of(api: StoreClient, job_id: str) -> list[Json]:
    listed: list[Json] = api.http.get(f"/pcm/jobs/{job_id}/errors").json()["data"]
    return listed


def exported(api: StoreClient, engine: Engine, settings: Settings, **kwargs: Any) -> Json:
    response = api.http.post("/pcm/products/export", **kwargs)
    assert response.status_code == 201, response.text
    run_jobs(engine, settings)
    return show_job(api, response.json()["data"]["id"])


def files_of(api: StoreClient, job: Json) -> list[bytes]:
    return [download(api, url).content for url in job["meta"]["file_locations"]]


def all_products(api: StoreClient) -> list[Json]:
    listed: list[Json] = api.http.get("/pcm/products?page[limit]=100").json()["data"]
    return sorted(listed, key=lambda product: product["id"])


def test_keyed_columns_change_only_the_keys_present(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    first = imported(
        api,
        engine,
        settings,
        [
            "name",
            "commodity_type",
            "external_ref",
            "shopper_attributes.colour",
            "admin_attributes.bin",
        ],
        ["Kettle", "physical", "k-1", "red", "__REMOVE_ATTRIBUTE__"],
    )
    assert first["attributes"]["status"] == "success", errors_of(api, first["id"])
    [product] = all_products(api)
    assert product["attributes"]["shopper_attributes"] == {"colour": "red"}
    assert "admin_attributes" not in product["attributes"], "ignored on a new product"
    assert "sku" not in product["attributes"], "sku is optional"
    again = imported(
        api,
        engine,
        settings,
        [
            "external_ref",
            "name",
            "commodity_type",
            "shopper_attributes.size",
            "admin_attributes.bin",
        ],
        ["k-1", "Kettle", "physical", "", "B-2"],
    )
    assert again["attributes"]["status"] == "success"
    [product] = all_products(api)
    assert product["attributes"]["shopper_attributes"] == {"colour": "red", "size": ""}
    assert product["attributes"]["admin_attributes"] == {"bin": "B-2"}
    removed = imported(
        api,
        engine,
        settings,
        ["external_ref", "name", "commodity_type", "shopper_attributes.colour"],
        ["k-1", "Kettle", "physical", "__REMOVE_ATTRIBUTE__"],
    )
    assert removed["attributes"]["status"] == "success"
    [product] = all_products(api)
    assert product["attributes"]["shopper_attributes"] == {"size": ""}


def test_template_headers_with_spaces_are_the_same_column(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = imported(
        api,
        engine,
        settings,
        ["name", "sku", "commodity_type", "template: 802ab1: condition"],
        ["Tablet", "T-1", "physical", "as-new"],
    )
    assert job["attributes"]["status"] == "success", errors_of(api, job["id"])
    [product] = all_products(api)
    assert product["attributes"]["extensions"] == {"products(802ab1)": {"condition": "as-new"}}
    found = api.http.get("/pcm/products?filter=eq(extensions.802ab1.condition,as-new)").json()
    assert found["meta"]["results"]["total"] == 1
    doubled = api.http.post(
        "/pcm/products/import",
        files={
            "file": ("p.csv", b"name,commodity_type,template:a:b,template: a : b\n", "text/csv")
        },
    )
    assert doubled.status_code == 422 and "more than once" in doubled.text


def test_bundles_are_refused_by_import_and_left_out_of_exports(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    part = api.http.post(
        "/pcm/products",
        json={
            "data": {
                "type": "product",
                "attributes": {"name": "Part", "commodity_type": "physical"},
            }
        },
    ).json()["data"]["id"]
    bundle = api.http.post(
        "/pcm/products",
        json={
            "data": {
                "type": "product",
                "attributes": {
                    "name": "Kit",
                    "commodity_type": "physical",
                    "components": {"p": {"options": [{"id": part}]}},
                },
            }
        },
    ).json()["data"]["id"]
    job = imported(
        api, engine, settings, ["id", "name", "commodity_type"], [bundle, "Kit 2", "physical"]
    )
    assert job["attributes"]["status"] == "failed"
    [error] = errors_of(api, job["id"])
    assert error["meta"]["code"] == "bundle" and error["meta"]["row"] == 2
    export = exported(api, engine, settings)
    assert export["attributes"]["status"] == "success"
    [content] = files_of(api, export)
    assert [row[0] for row in rows_of(content)[1:]] == [part]
    [skipped] = errors_of(api, export["id"])
    assert (
        skipped["meta"]["code"] == "bundle_not_exported"
        and bundle in skipped["attributes"]["message"]
    )


def test_an_export_matching_nothing_has_no_files(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = exported(api, engine, settings, params={"filter": "eq(sku,none)"})
    assert job["attributes"]["status"] == "success"
    assert job["meta"]["file_locations"] == []


def test_every_attribute_goes_round_trip_unchanged(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    header = [
        "external_ref",
        "name",
        "sku",
        "commodity_type",
        "tags",
        "main_image_id",
        "shopper_attributes.colour",
        "admin_attributes.bin",
        "admin_attributes.aisle",
        "template:care:wash",
    ]
    job = imported(
        api,
        engine,
        settings,
        header,
        ["r-1", "Shirt", "S-1", "physical", "summer,cotton", "img-1", "blue", "A-1", "", "cold"],
        ["r-2", "Scarf", "", "physical", "", "", "__REMOVE_ATTRIBUTE__", "B-9", "7", ""],
        ["r-3", "Hat", "H-3", "digital", "", "", "", "", "", "hand"],
    )
    assert job["attributes"]["status"] == "success", errors_of(api, job["id"])
    shirt = next(item for item in all_products(api) if item["attributes"]["name"] == "Shirt")
    assert shirt["relationships"]["main_image"] == {"data": {"type": "file", "id": "img-1"}}
    # What no CSV column holds is left as it is by an import: set it through the API.
    extra = {
        "custom_inputs": {"note": {"name": "Note", "required": True}},
        "build_rules": {"default": "include"},
        "locales": {"fr-FR": {"name": "Chemise"}},
    }
    document = {"data": {"type": "product", "id": shirt["id"], "attributes": extra}}
    assert api.http.put(f"/pcm/products/{shirt['id']}", json=document).status_code == 200
    files = {"data": [{"type": "file", "id": "f-1"}]}
    path = f"/pcm/products/{shirt['id']}/relationships"
    assert api.http.post(f"{path}/files", json=files).status_code == 204
    before = all_products(api)
    export = exported(api, engine, settings)
    [content] = files_of(api, export)
    rows = rows_of(content)
    assert "admin_attributes.aisle" in rows[0] and "shopper_attributes.colour" in rows[0]
    again = queue_import(api, content)
    run_jobs(engine, settings)
    shown = show_job(api, again["id"])
    assert shown["attributes"]["status"] == "success", errors_of(api, again["id"])
    assert shown["meta"]["rows"] == {"created": 0, "updated": 0}
    assert all_products(api) == before


def test_a_column_restricted_export_imports_back(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    imported(
        api,
        engine,
        settings,
        ["name", "sku", "commodity_type", "admin_attributes.bin", "admin_attributes.row", "status"],
        ["Lamp", "L-1", "physical", "C-3", "4", "live"],
    )
    body = {
        "data": {
            "type": "product-export",
            "attributes": {"columns": {"include": ["admin_attributes.*", "status"]}},
        }
    }
    export = exported(api, engine, settings, json=body)
    [content] = files_of(api, export)
    header, row = rows_of(content)
    assert header == [
        "id",
        "external_ref",
        "name",
        "commodity_type",
        "sku",
        "admin_attributes.bin",
        "admin_attributes.row",
        "status",
    ]
    assert row[5:] == ["C-3", "4", "live"]
    before = all_products(api)
    again = queue_import(api, content)
    run_jobs(engine, settings)
    assert show_job(api, again["id"])["meta"]["rows"] == {"created": 0, "updated": 0}
    assert all_products(api) == before
    mixed = {
        "data": {
            "type": "product-export",
            "attributes": {"columns": {"include": ["admin_attributes.*", "admin_attributes.bin"]}},
        }
    }
    refused = api.http.post("/pcm/products/export", json=mixed)
    assert refused.status_code == 422 and "overlap" in refused.json()["errors"][0]["detail"]
