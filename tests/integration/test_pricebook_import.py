"""The price book import, end to end through the API and the worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.store.tables import blobs, jobs, price_modifiers, pricebooks, prices
from tests.job_api import Json, run_jobs, show_job
from tests.pricebook_files import (
    book,
    gzipped,
    library_objects,
    lines_file,
    pretty_file,
    price,
)
from tests.store_client import StoreClient, store_client


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def post_file(api: StoreClient, content: bytes, name: str = "prices.jsonl", query: str = "") -> Any:
    return api.http.post(
        f"/pcm/pricebooks/import{query}", files={"file": (name, content, "application/jsonl")}
    )


def imported(
    api: StoreClient, engine: Engine, settings: Settings, content: bytes, **kwargs: Any
) -> Json:
    """The finished job of importing `content`."""
    response = post_file(api, content, **kwargs)
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["attributes"]["type"] == "pricebook-import"
    assert job["attributes"]["status"] == "pending"
    run_jobs(engine, settings)
    return show_job(api, job["id"])


def errors_of(api: StoreClient, job: Json) -> list[tuple[int | None, str | None, str]]:
    response = api.http.get(f"/pcm/jobs/{job['id']}/errors", params={"page[limit]": 100})
    assert response.status_code == 200, response.text
    return [
        (
            error.get("meta", {}).get("row"),
            error.get("meta", {}).get("field"),
            error["attributes"]["message"],
        )
        for error in response.json()["data"]
    ]


def books_by_ref(api: StoreClient) -> dict[str, Json]:
    listed = api.http.get("/pcm/pricebooks", params={"page[limit]": 100}).json()["data"]
    return {
        item["attributes"].get("external_ref") or item["attributes"]["name"]: item
        for item in listed
    }


def prices_of(api: StoreClient, book_id: str) -> dict[str, Json]:
    response = api.http.get(f"/pcm/pricebooks/{book_id}/prices", params={"page[limit]": 100})
    assert response.status_code == 200, response.text
    return {item["attributes"]["sku"]: item for item in response.json()["data"]}


def counts(engine: Engine) -> tuple[int, int, int]:
    with read_transaction(engine) as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (pricebooks, prices, price_modifiers)
        )


def test_a_file_shaped_like_the_example_imports_as_it_is(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = imported(api, engine, settings, pretty_file(library_objects()))
    assert job["attributes"]["status"] == "success", errors_of(api, job)
    assert job["meta"]["rows"] == {
        "pricebooks": {"created": 4, "updated": 0},
        "prices": {"created": 6, "updated": 0},
        "modifiers": {"created": 0, "updated": 0},
    }
    found = books_by_ref(api)
    assert sorted(found) == ["Unreferenced", "lib-fiction", "lib-maps", "lib-poetry"]
    assert found["lib-fiction"]["attributes"]["name"] == "Fiction, revised"
    fiction = prices_of(api, found["lib-fiction"]["id"])
    assert sorted(fiction) == ["BOXED-1", "NOVEL-1", "SAGA-1"]
    novel = fiction["NOVEL-1"]["attributes"]
    assert novel["currencies"] == {"USD": {"amount": 1999, "includes_tax": False}}
    assert novel["external_ref"] == "novel-price"
    boxed = fiction["BOXED-1"]["attributes"]
    assert boxed["currencies"]["CAD"]["tiers"] == {"min_5": {"minimum_quantity": 5, "amount": 290}}
    assert boxed["sales"]["spring"]["schedule"]["valid_to"] == "2025-03-31T23:59:59.000Z"
    # The same external ref in another book is another price.
    assert sorted(prices_of(api, found["lib-poetry"]["id"])) == ["ODE-1"]
    globe = prices_of(api, found["lib-maps"]["id"])["GLOBE-1"]["attributes"]
    assert globe["sales"] == {
        "summer": {
            "schedule": {
                "valid_from": "2025-06-01T00:00:00.000Z",
                "valid_to": "2025-08-31T11:59:59.000Z",
            }
        }
    }


def test_importing_the_same_file_again_changes_nothing(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    content = pretty_file(library_objects())
    assert imported(api, engine, settings, content)["attributes"]["status"] == "success"
    before = counts(engine)
    again = imported(api, engine, settings, content)
    assert again["attributes"]["status"] == "success"
    assert again["meta"]["rows"]["pricebooks"] == {"created": 0, "updated": 0}
    assert again["meta"]["rows"]["prices"] == {"created": 0, "updated": 0}
    assert counts(engine) == before


def test_a_gzip_of_the_file_is_read_by_its_magic_bytes_whatever_its_name(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = imported(api, engine, settings, gzipped(pretty_file(library_objects())), name="x.txt")
    assert job["attributes"]["status"] == "success", errors_of(api, job)
    assert job["meta"]["rows"]["prices"]["created"] == 6


def test_one_object_per_line_and_later_objects_update_earlier_and_stored_ones(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    first = [
        book("shop", "Shop"),
        price("shop", "p1", "SKU-1", 100),
        price("shop", None, "SKU-2", 200),
    ]
    assert imported(api, engine, settings, lines_file(first))["attributes"]["status"] == "success"
    shop = books_by_ref(api)["shop"]
    stored = prices_of(api, shop["id"])
    second = [
        # By external ref, by sku (no ref), and by id.
        price("shop", "p1", None, 110),
        price("shop", None, "SKU-2", 220),
        {
            "data": {
                "type": "product-price",
                "id": stored["SKU-1"]["id"],
                "pricebook_id": shop["id"],
                "attributes": {"shopper_attributes": {"colour": "red"}},
            }
        },
    ]
    job = imported(api, engine, settings, lines_file(second))
    assert job["attributes"]["status"] == "success", errors_of(api, job)
    assert job["meta"]["rows"]["prices"] == {"created": 0, "updated": 2}
    after = prices_of(api, shop["id"])
    assert after["SKU-1"]["attributes"]["currencies"]["USD"]["amount"] == 110
    assert after["SKU-1"]["attributes"]["shopper_attributes"] == {"colour": "red"}
    assert after["SKU-2"]["attributes"]["currencies"]["USD"]["amount"] == 220


def test_two_stored_prices_can_swap_their_skus(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    start = [book("shop", "Shop"), price("shop", "a", "SKU-A", 1), price("shop", "b", "SKU-B", 2)]
    assert imported(api, engine, settings, lines_file(start))["attributes"]["status"] == "success"
    swap = [price("shop", "a", "SKU-B", 1), price("shop", "b", "SKU-A", 2)]
    job = imported(api, engine, settings, lines_file(swap))
    assert job["attributes"]["status"] == "success", errors_of(api, job)
    after = prices_of(api, books_by_ref(api)["shop"]["id"])
    assert after["SKU-A"]["attributes"]["external_ref"] == "b"
    assert after["SKU-B"]["attributes"]["external_ref"] == "a"


def test_every_problem_is_listed_by_object_and_nothing_is_written(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    objects = [
        book("shop", "Shop"),
        price("shop", "p1", "SKU-1", 100),
        price("shop", "p2", None, 100),
        price("nowhere", "p3", "SKU-3", 100),
        price("shop", "p4", "SKU-1", 100),
        {"data": {"type": "product-price", "attributes": {"sku": "S", "currencies": {}}}},
        price("shop", "p5", "SKU-5", 100, currencies={"usd": {"amount": 1.5}}),
        {"data": {"type": "pricebook"}},
    ]
    job = imported(api, engine, settings, pretty_file(objects))
    assert job["attributes"]["status"] == "failed"
    found = errors_of(api, job)
    assert [(row, field) for row, field, _ in found] == [
        (3, "sku"),
        (4, "pricebook_external_ref"),
        (5, "sku"),
        (6, "pricebook_external_ref"),
        (6, "currencies"),
        (7, "currencies.usd"),
        (8, "attributes"),
    ]
    messages = [message for _, _, message in found]
    assert messages[0].startswith("missing sku for price")
    assert messages[1].startswith("price book external ref not found: nowhere")
    assert messages[2].startswith("two prices for sku 'SKU-1'")
    assert messages[3].startswith("missing pricebook_id/pricebook_external_ref for price")
    assert "did you mean USD?" in messages[5]
    assert messages[6] == "missing attributes for price book"
    assert counts(engine) == (0, 0, 0)


def test_an_object_that_is_not_json_names_its_ordinal(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    content = pretty_file(library_objects()).replace(b'"SAGA-1"', b'"SAGA-1",,', 1)
    job = imported(api, engine, settings, content)
    assert job["attributes"]["status"] == "failed"
    [(row, _, message)] = errors_of(api, job)
    assert row == 6
    assert message.startswith("error processing object 6: invalid json provided (")
    assert "line" in message
    assert counts(engine) == (0, 0, 0)


def test_a_damaged_gzip_file_fails_as_elastic_path_says_it(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    packed = gzipped(pretty_file(library_objects()))
    job = imported(api, engine, settings, packed[: len(packed) // 2])
    assert job["attributes"]["status"] == "failed"
    [(_, _, message)] = errors_of(api, job)
    assert message.startswith("error processing gzip file")


def test_an_id_that_matches_nothing_is_an_error_and_an_unknown_ref_creates(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    missing = "0b7a3c8e-44a4-4c38-9d0f-6f0c2f9d8d11"
    objects = [
        {"data": {"type": "pricebook", "id": missing, "attributes": {"name": "Gone"}}},
        {
            "data": {
                "type": "product-price",
                "pricebook_id": missing,
                "attributes": {"sku": "S", "currencies": {"USD": {"amount": 1}}},
            }
        },
    ]
    job = imported(api, engine, settings, lines_file(objects))
    assert [(row, field) for row, field, _ in errors_of(api, job)] == [
        (1, "id"),
        (2, "pricebook_id"),
    ]
    assert errors_of(api, job)[0][2] == f"price book id not found: {missing}"


def test_a_new_price_for_a_sku_the_book_prices_already_is_refused(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    assert (
        imported(
            api,
            engine,
            settings,
            lines_file([book("shop", "Shop"), price("shop", "a", "SKU-1", 1)]),
        )["attributes"]["status"]
        == "success"
    )
    job = imported(api, engine, settings, lines_file([price("shop", "other", "SKU-1", 2)]))
    [(row, field, message)] = errors_of(api, job)
    assert (row, field) == (1, "sku")
    assert message.startswith("price book 'shop' already has a price for sku 'SKU-1'")


def test_modifiers_import_in_their_book(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    modifier = {
        "data": {
            "type": "price-modifier",
            "pricebook_external_ref": "shop",
            "attributes": {
                "name": "large",
                "modifier_type": "price_increment",
                "currencies": {"USD": {"amount": 250, "includes_tax": False}},
            },
        }
    }
    job = imported(api, engine, settings, lines_file([modifier, book("shop", "Shop")]))
    assert job["attributes"]["status"] == "success", errors_of(api, job)
    assert job["meta"]["rows"]["modifiers"] == {"created": 1, "updated": 0}
    shop = books_by_ref(api)["shop"]
    listed = api.http.get(f"/pcm/pricebooks/{shop['id']}/modifiers").json()["data"]
    assert [item["attributes"]["name"] for item in listed] == ["large"]


def test_a_dry_run_checks_and_counts_but_writes_nothing(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = imported(api, engine, settings, pretty_file(library_objects()), query="?dry_run=true")
    assert job["attributes"]["status"] == "success"
    assert job["meta"]["dry_run"] is True
    assert job["meta"]["rows"]["prices"]["created"] == 6
    assert counts(engine) == (0, 0, 0)


def test_more_objects_than_allowed_fail_the_job(engine: Engine, settings: Settings) -> None:
    small = settings.model_copy(update={"import_max_rows": 3})
    with store_client(small, engine) as api:
        objects = [book("shop", "Shop"), *(price("shop", f"p{n}", f"S{n}", 1) for n in range(3))]
        job = imported(api, engine, small, lines_file(objects))
        [(row, _, message)] = errors_of(api, job)
    assert row == 4
    assert message.startswith("the file has more than 3 objects")


def test_a_gzip_bomb_is_refused_with_413_before_any_job_or_file_is_kept(
    engine: Engine, settings: Settings
) -> None:
    small = settings.model_copy(update={"import_max_bytes": 1024 * 1024})
    bomb = gzip.compress(b" " * (8 * 1024 * 1024))
    assert len(bomb) < 20_000
    with store_client(small, engine) as api:
        response = post_file(api, bomb, name="innocent.jsonl")
        assert response.status_code == 413, response.text
        assert "once decompressed" in response.json()["errors"][0]["detail"]
        assert post_file(api, b"").status_code == 422
    with read_transaction(engine) as connection:
        assert connection.execute(select(func.count()).select_from(jobs)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(blobs)).scalar_one() == 0


def test_jobs_filtered_by_the_older_type_name_find_price_book_imports(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = imported(api, engine, settings, lines_file([book("shop", "Shop")]))
    for spelling in ("price-import", "pricebook-import"):
        listed = api.http.get("/pcm/jobs", params={"filter": f"eq(type,{spelling})"}).json()
        assert [item["id"] for item in listed["data"]] == [job["id"]]
    listed = api.http.get("/pcm/jobs", params={"filter": "eq(type,product-import)"}).json()
    assert listed["data"] == []


def test_a_failed_import_retries_with_its_stored_file(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = imported(api, engine, settings, lines_file([price("later", "p", "S", 1)]))
    assert job["attributes"]["status"] == "failed"
    created = api.http.post(
        "/pcm/pricebooks",
        json={
            "data": {"type": "pricebook", "attributes": {"name": "Later", "external_ref": "later"}}
        },
    )
    assert created.status_code == 201, created.text
    retry = api.http.post(f"/pcm/jobs/{job['id']}/retry")
    assert retry.status_code == 201, retry.text
    run_jobs(engine, settings)
    assert show_job(api, retry.json()["data"]["id"])["attributes"]["status"] == "success"
    assert json.loads(json.dumps(counts(engine))) == [1, 1, 0]


def test_a_price_made_through_the_api_and_imported_unchanged_is_not_updated(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    book_id = api.http.post(
        "/pcm/pricebooks",
        json={
            "data": {"type": "pricebook", "attributes": {"name": "Shop", "external_ref": "shop"}}
        },
    ).json()["data"]["id"]
    tiers = {"min_5": {"minimum_quantity": 5, "amount": 90}}
    currencies = {"USD": {"amount": 100, "includes_tax": False, "tiers": tiers}}
    attributes = {"sku": "S", "external_ref": "s", "currencies": currencies}
    made = api.http.post(
        f"/pcm/pricebooks/{book_id}/prices",
        json={"data": {"type": "product-price", "attributes": attributes}},
    )
    assert made.status_code == 201, made.text
    same = price("shop", "s", "S", 0, currencies={"USD": {"tiers": tiers, "amount": 100}})
    job = imported(api, engine, settings, lines_file([same]))
    assert job["meta"]["rows"]["prices"] == {"created": 0, "updated": 0}
    shown = api.http.get(f"/pcm/pricebooks/{book_id}/prices/{made.json()['data']['id']}")
    assert (
        shown.json()["data"]["attributes"]["updated_at"]
        == made.json()["data"]["attributes"]["updated_at"]
    )


def test_text_no_database_can_keep_fails_the_import_with_every_place_named(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    objects = [
        book("shop", "Sh\x00op"),
        book("shop-2", "Shop 2", description="\ud800"),
        price("shop-2", "p1", "SKU\x00", 100),
        price("no\x00where", "p2", "SKU-2", 100),
        price("shop-2", "p3", "SKU-3", 100, shopper_attributes={"\udc00": "x"}),
        {"data": {"type": "pricebook", "attributes": {"name": "N", "colour\x00": "red"}}},
    ]
    # As json.dumps writes it: \u escapes, which is how a file carries such characters.
    job = imported(api, engine, settings, lines_file(objects))
    assert job["attributes"]["status"] == "failed"
    found = errors_of(api, job)
    assert [(row, field) for row, field, _ in found] == [
        (1, "name"),
        (2, "description"),
        (3, "sku"),
        (4, "pricebook_external_ref"),
        (5, "shopper_attributes (a key)"),
        (6, "colour\\x00"),
    ]
    messages = [message for _, _, message in found]
    assert messages[0] == "name must not contain the NUL character"
    assert messages[1] == "description must not contain a lone surrogate"
    assert "no\\x00where" in messages[3]
    assert counts(engine) == (0, 0, 0)
