"""Price books, prices and modifiers through the API, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from tests.job_api import Json, only_error
from tests.store_client import StoreClient, store_client

BOOKS = "/pcm/pricebooks"
USD = {"USD": {"amount": 1999, "includes_tax": False}}


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def created(api: StoreClient, path: str, kind: str, **attributes: Any) -> Json:
    response = api.http.post(path, json={"data": {"type": kind, "attributes": attributes}})
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


def new_book(api: StoreClient, name: str = "Retail", **attributes: Any) -> Json:
    return created(api, BOOKS, "pricebook", name=name, **attributes)


def new_price(api: StoreClient, book_id: str, sku: str, **attributes: Any) -> Json:
    attributes.setdefault("currencies", USD)
    return created(api, f"{BOOKS}/{book_id}/prices", "product-price", sku=sku, **attributes)


def refused(api: StoreClient, method: str, path: str, body: Any, status: int) -> Json:
    # Escaped as json.dumps does by default, so a body may carry a lone surrogate too.
    content = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    response = api.http.request(method, path, content=content, headers=headers)
    assert response.status_code == status, response.text
    return only_error(response)


def test_a_price_book_is_created_read_changed_listed_and_deleted(api: StoreClient) -> None:
    book = new_book(api, "Retail", description="list prices", external_ref="retail")
    assert book["type"] == "pricebook"
    assert book["attributes"]["name"] == "Retail"
    assert book["attributes"]["external_ref"] == "retail"
    assert book["meta"] == {"owner": "store"}
    path = f"{BOOKS}/{book['id']}"
    shown = api.http.get(path).json()
    assert shown["data"] == book
    assert shown["links"] == {"self": path}
    changed = api.http.put(
        path, json={"data": {"type": "pricebook", "attributes": {"name": "Shop"}}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"]["description"] == "list prices"
    new_book(api, "Wholesale", external_ref="wholesale")
    listed = api.http.get(BOOKS, params={"filter": "eq(external_ref,retail)"}).json()
    assert [item["attributes"]["name"] for item in listed["data"]] == ["Shop"]
    assert listed["meta"]["results"]["total"] == 1
    assert api.http.delete(path).status_code == 204
    assert api.http.get(path).status_code == 404


def test_book_names_and_refs_are_unique_in_the_store(api: StoreClient) -> None:
    first = new_book(api, "Retail", external_ref="retail")
    error = refused(
        api, "POST", BOOKS, {"data": {"type": "pricebook", "attributes": {"name": "Retail"}}}, 409
    )
    assert error["meta"] == {"field": "name"}
    assert first["id"] in error["detail"]
    body = {
        "data": {"type": "pricebook", "attributes": {"name": "Other", "external_ref": "retail"}}
    }
    assert refused(api, "POST", BOOKS, body, 409)["meta"] == {"field": "external_ref"}
    missing = refused(api, "POST", BOOKS, {"data": {"type": "pricebook", "attributes": {}}}, 422)
    assert missing["detail"].startswith("missing name for price book")


def test_prices_hold_currencies_tiers_sales_and_custom_attributes(api: StoreClient) -> None:
    book = new_book(api)
    price = new_price(
        api,
        book["id"],
        "SHOE-1",
        external_ref="shoe-price",
        currencies={
            "USD": {"amount": 100, "tiers": {"min_5": {"minimum_quantity": 5, "amount": 90}}},
            "GBP": {"amount": 73, "includes_tax": True},
        },
        sales={
            "summer": {
                "schedule": {
                    "valid_from": "2025-06-01T00:00:00Z",
                    "valid_to": "2025-06-30T00:00:00Z",
                },
                "currencies": {"USD": {"amount": 80, "includes_tax": False}},
                "bundle_ids": ["A3CACAA9-B5BB-4096-BB6B-AF41394CA850"],
            }
        },
        admin_attributes={"cost": "42.0"},
        shopper_attributes={"badge": "new"},
    )
    attributes = price["attributes"]
    assert attributes["currencies"]["USD"] == {
        "amount": 100,
        "includes_tax": False,
        "tiers": {"min_5": {"minimum_quantity": 5, "amount": 90}},
    }
    assert attributes["sales"]["summer"]["schedule"] == {
        "valid_from": "2025-06-01T00:00:00.000Z",
        "valid_to": "2025-06-30T00:00:00.000Z",
    }
    assert attributes["sales"]["summer"]["bundle_ids"] == ["a3cacaa9-b5bb-4096-bb6b-af41394ca850"]
    assert price["meta"] == {"owner": "store", "pricebook_id": book["id"]}
    path = f"{BOOKS}/{book['id']}/prices/{price['id']}"
    assert api.http.get(path).json()["links"] == {"self": path}
    # A PUT changes what it names: a map such as currencies is replaced whole.
    body = {"data": {"type": "product-price", "attributes": {"currencies": USD}}}
    changed = api.http.put(path, json=body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"]["currencies"] == USD
    assert changed.json()["data"]["attributes"]["shopper_attributes"] == {"badge": "new"}
    assert api.http.delete(path).status_code == 204
    assert api.http.get(path).status_code == 404


def test_one_price_per_sku_per_book(api: StoreClient) -> None:
    book, other = new_book(api, "A"), new_book(api, "B")
    first = new_price(api, book["id"], "SKU-1")
    body = {"data": {"type": "product-price", "attributes": {"sku": "SKU-1", "currencies": USD}}}
    error = refused(api, "POST", f"{BOOKS}/{book['id']}/prices", body, 409)
    assert error["meta"] == {"field": "sku"} and first["id"] in error["detail"]
    new_price(api, other["id"], "SKU-1")  # another book may price it too


@pytest.mark.parametrize(
    ("currencies", "field", "words"),
    [
        ({"usd": {"amount": 1}}, "currencies.usd", "did you mean USD"),
        ({"ABC": {"amount": 1}}, "currencies.ABC", "ISO 4217"),
        ({"USD": {"amount": 19.99}}, "currencies.USD.amount", "whole number"),
        ({"USD": {"amount": -1}}, "currencies.USD.amount", "between 0"),
        ({"USD": {}}, "currencies.USD.amount", "missing"),
        ({"USD": {"amount": 1, "includes_tax": "no"}}, "currencies.USD.includes_tax", "true or"),
        (
            {"USD": {"amount": 1, "tiers": {"t": {"minimum_quantity": 0, "amount": 1}}}},
            "currencies.USD.tiers.t.minimum_quantity",
            "between 1",
        ),
        (
            {"USD": {"amount": 1, "tiers": {"t": {"amount": 1}}}},
            "currencies.USD.tiers.t.minimum_quantity",
            "missing",
        ),
        (
            {
                "USD": {
                    "amount": 9,
                    "tiers": {
                        "a": {"minimum_quantity": 5, "amount": 8},
                        "b": {"minimum_quantity": 5, "amount": 7},
                    },
                }
            },
            "currencies.USD.tiers.b.minimum_quantity",
            "both start at 5",
        ),
        ({}, "currencies", "at least one currency"),
        ({"USD": {"amount": 1, "ammount": 2}}, "currencies.USD.ammount", "unknown attribute"),
    ],
)
def test_currencies_amounts_and_tiers_are_checked(
    api: StoreClient, currencies: Json, field: str, words: str
) -> None:
    book = new_book(api)
    body = {"data": {"type": "product-price", "attributes": {"sku": "S", "currencies": currencies}}}
    error = refused(api, "POST", f"{BOOKS}/{book['id']}/prices", body, 422)
    assert error["meta"]["field"] == field, error
    assert words in error["detail"], error


def test_sales_of_a_price_need_different_schedules(api: StoreClient) -> None:
    book = new_book(api)
    same = {"valid_from": "2025-01-01T00:00:00Z", "valid_to": "2025-02-01T00:00:00Z"}
    for sales, field in [
        ({"a": {"schedule": same}, "b": {"schedule": same}}, "sales.b.schedule"),
        ({"a": {}, "b": {}}, "sales.b.schedule"),
        (
            {
                "a": {
                    "schedule": {
                        "valid_from": "2025-02-01T00:00:00Z",
                        "valid_to": "2025-01-01T00:00:00Z",
                    }
                }
            },
            "sales.a.schedule.valid_to",
        ),
        ({"a": {"schedule": {"valid_from": "soon"}}}, "sales.a.schedule.valid_from"),
    ]:
        body = {
            "data": {
                "type": "product-price",
                "attributes": {"sku": "S", "currencies": USD, "sales": sales},
            }
        }
        error = refused(api, "POST", f"{BOOKS}/{book['id']}/prices", body, 422)
        assert error["meta"]["field"] == field, error


def test_prices_across_books_are_filtered_as_elastic_path_lists(api: StoreClient) -> None:
    retail, wholesale = new_book(api, "Retail"), new_book(api, "Wholesale")
    new_price(api, retail["id"], "SHOE-1", external_ref="r-shoe")
    new_price(api, retail["id"], "BOOT-1")
    new_price(api, wholesale["id"], "SHOE-1", external_ref="w-shoe")

    def skus(filter_text: str, path: str = f"{BOOKS}/prices") -> list[tuple[str, str]]:
        response = api.http.get(path, params={"filter": filter_text})
        assert response.status_code == 200, response.text
        books = {retail["id"]: "R", wholesale["id"]: "W"}
        return sorted(
            (books[item["meta"]["pricebook_id"]], item["attributes"]["sku"])
            for item in response.json()["data"]
        )

    assert skus("eq(sku,SHOE-1)") == [("R", "SHOE-1"), ("W", "SHOE-1")]
    assert skus("in(sku,SHOE-1,BOOT-1)") == [("R", "BOOT-1"), ("R", "SHOE-1"), ("W", "SHOE-1")]
    assert skus("eq(external_ref,w-shoe)") == [("W", "SHOE-1")]
    assert skus("like(sku,BOOT*)") == [("R", "BOOT-1")]
    assert skus("gt(updated_at,2000-01-01T00:00:00Z):lt(created_at,2999-01-01T00:00:00Z)") == [
        ("R", "BOOT-1"),
        ("R", "SHOE-1"),
        ("W", "SHOE-1"),
    ]
    assert skus("eq(sku,SHOE-1)", f"{BOOKS}/{retail['id']}/prices") == [("R", "SHOE-1")]
    for bad in ("gt(sku,a)", "eq(amount,1)", "gt(updated_at,yesterday)", "eq(sku"):
        response = api.http.get(f"{BOOKS}/prices", params={"filter": bad})
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["errors"][0]["meta"] == {"parameter": "filter"}


def test_a_book_can_be_read_with_its_prices(api: StoreClient) -> None:
    book = new_book(api)
    for sku in ("A", "B", "C"):
        new_price(api, book["id"], sku)
    shown = api.http.get(f"{BOOKS}/{book['id']}", params={"include": "prices", "page[limit]": 2})
    assert shown.status_code == 200, shown.text
    assert len(shown.json()["included"]) == 2
    assert "included" not in api.http.get(f"{BOOKS}/{book['id']}").json()
    assert api.http.get(f"{BOOKS}/{book['id']}", params={"include": "nodes"}).status_code == 400


def test_modifiers_are_named_uniquely_in_their_book(api: StoreClient) -> None:
    book = new_book(api)
    path = f"{BOOKS}/{book['id']}/modifiers"
    modifier = created(
        api, path, "price-modifier", name="large", modifier_type="price_increment", currencies=USD
    )
    assert modifier["attributes"]["modifier_type"] == "price_increment"
    body = {
        "data": {
            "type": "price-modifier",
            "attributes": {"name": "large", "modifier_type": "price_equals", "currencies": USD},
        }
    }
    assert refused(api, "POST", path, body, 409)["meta"] == {"field": "name"}
    body["data"]["attributes"]["modifier_type"] = "price_halved"
    refused(api, "POST", path, body, 422)
    one = f"{path}/{modifier['id']}"
    changed = api.http.put(
        one,
        json={
            "data": {"type": "price-modifier", "attributes": {"modifier_type": "price_decrement"}}
        },
    )
    assert changed.status_code == 200, changed.text
    listed = api.http.get(path, params={"filter": "eq(name,large)"}).json()["data"]
    assert [item["attributes"]["modifier_type"] for item in listed] == ["price_decrement"]
    assert api.http.delete(one).status_code == 204
    assert api.http.get(one).status_code == 404


def test_replicating_a_book_copies_its_prices_and_modifiers(api: StoreClient) -> None:
    book = new_book(api, "Retail", external_ref="retail", description="list")
    for sku in ("A", "B"):
        new_price(api, book["id"], sku, external_ref=f"ref-{sku}")
    created(
        api,
        f"{BOOKS}/{book['id']}/modifiers",
        "price-modifier",
        name="large",
        modifier_type="price_equals",
        currencies=USD,
    )
    response = api.http.post(
        f"{BOOKS}/{book['id']}/replicate",
        json={
            "data": {
                "type": "pricebook",
                "attributes": {"name": "Retail 2025", "external_ref": "r25"},
            }
        },
    )
    assert response.status_code == 201, response.text
    copy = response.json()["data"]
    assert copy["id"] != book["id"]
    assert copy["attributes"]["description"] == "list"
    assert copy["attributes"]["external_ref"] == "r25"
    prices = api.http.get(f"{BOOKS}/{copy['id']}/prices").json()["data"]
    assert sorted((p["attributes"]["sku"], p["attributes"]["external_ref"]) for p in prices) == [
        ("A", "ref-A"),
        ("B", "ref-B"),
    ]
    assert all(p["meta"]["pricebook_id"] == copy["id"] for p in prices)
    source_ids = {p["id"] for p in api.http.get(f"{BOOKS}/{book['id']}/prices").json()["data"]}
    assert source_ids.isdisjoint(p["id"] for p in prices)
    modifiers = api.http.get(f"{BOOKS}/{copy['id']}/modifiers").json()["data"]
    assert [m["attributes"]["name"] for m in modifiers] == ["large"]
    # Without a name the copy is named after its source; a second such copy clashes.
    plain = api.http.post(f"{BOOKS}/{book['id']}/replicate")
    assert plain.status_code == 201, plain.text
    assert plain.json()["data"]["attributes"]["name"] == "Retail (copy)"
    assert "external_ref" not in plain.json()["data"]["attributes"]
    assert api.http.post(f"{BOOKS}/{book['id']}/replicate").status_code == 409


def test_deleting_a_book_deletes_its_prices(api: StoreClient) -> None:
    book = new_book(api)
    price = new_price(api, book["id"], "A")
    assert api.http.delete(f"{BOOKS}/{book['id']}").status_code == 204
    assert api.http.get(f"{BOOKS}/prices").json()["data"] == []
    assert api.http.get(f"{BOOKS}/{book['id']}/prices/{price['id']}").status_code == 404


def test_unknown_ids_and_wrong_types_are_clear_refusals(api: StoreClient) -> None:
    book = new_book(api)
    for path in (f"{BOOKS}/not-an-id", f"{BOOKS}/{book['id']}/prices/not-an-id"):
        assert api.http.get(path).status_code == 404
    body = {"data": {"type": "product", "attributes": {"name": "x"}}}
    refused(api, "POST", BOOKS, body, 422)
    body = {"data": {"type": "pricebook", "id": "someone-else", "attributes": {}}}
    assert refused(api, "PUT", f"{BOOKS}/{book['id']}", body, 422)["meta"] == {"field": "data.id"}


@pytest.mark.parametrize(
    ("attributes", "field", "what"),
    [
        ({"name": "Re\x00tail"}, "name", "the NUL character"),
        ({"name": "Retail", "description": "list \ud800"}, "description", "a lone surrogate"),
        ({"name": "Retail", "external_ref": "re\x00tail"}, "external_ref", "the NUL character"),
    ],
)
def test_text_no_database_can_keep_is_refused_with_what_to_fix(
    api: StoreClient, attributes: Json, field: str, what: str
) -> None:
    body = {"data": {"type": "pricebook", "attributes": attributes}}
    error = refused(api, "POST", BOOKS, body, 422)
    assert error["detail"] == f"{field} must not contain {what}"
    book = new_book(api)
    refused(api, "PUT", f"{BOOKS}/{book['id']}", {"data": {**body["data"], "id": book["id"]}}, 422)
    assert api.http.get(BOOKS).json()["meta"]["results"]["total"] == 1


def test_prices_and_modifiers_refuse_text_no_database_can_keep(api: StoreClient) -> None:
    book = new_book(api)
    prices = f"{BOOKS}/{book['id']}/prices"
    cases = [
        ({"sku": "SKU\x00"}, "sku must not contain the NUL character"),
        ({"sku": "S", "shopper_attributes": {"k\x00": "v"}}, "must not contain the NUL"),
        ({"sku": "S", "admin_attributes": {"cost": "\udc00"}}, "must not contain a lone surrogate"),
        ({"sku": "S", "sales": {"sum\x00mer": {}}}, "must not contain the NUL character"),
    ]
    for attributes, message in cases:
        body = {"data": {"type": "product-price", "attributes": {"currencies": USD, **attributes}}}
        error = refused(api, "POST", prices, body, 422)
        assert message in error["detail"], (attributes, error)
    tiers = {"USD": {"amount": 100, "tiers": {"min\x00": {"minimum_quantity": 5, "amount": 90}}}}
    body = {"data": {"type": "product-price", "attributes": {"sku": "S", "currencies": tiers}}}
    assert "a tier's name" in refused(api, "POST", prices, body, 422)["detail"]
    modifier = {"name": "wrap\x00", "modifier_type": "price_increment", "currencies": USD}
    body = {"data": {"type": "price-modifier", "attributes": modifier}}
    refused(api, "POST", f"{BOOKS}/{book['id']}/modifiers", body, 422)
    assert api.http.get(prices).json()["data"] == []
