"""Rebuilding children as Elastic Path documents it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from tests.child_builds import (
    build,
    built,
    by_sku,
    children_of,
    create_product,
    job_errors,
    update_product,
)
from tests.job_api import csv_bytes, queue_import, rows_of, run_jobs, show_job
from tests.store_client import StoreClient, store_client
from tests.variation_matrices import (
    add_option,
    add_variation,
    attach,
    detach,
    remove_option,
    set_modifier_value,
    variations_for,
)

MATRIX = {
    "Size": {
        "S": {"sku_append": "-S", "slug_append": "-s"},
        "M": {"sku_append": "-M", "slug_append": "-m"},
    },
    "Colour": {
        "Red": {"sku_append": "-RED", "slug_append": "-red"},
        "Blue": {"sku_append": "-BLUE", "slug_append": "-blue"},
    },
}


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def ids_by_sku(api: StoreClient, product_id: str) -> dict[str, str]:
    return {sku: child["id"] for sku, child in by_sku(children_of(api, product_id)).items()}


def test_after_an_option_is_added_or_removed_the_remaining_children_keep_their_ids(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    size, _ = variations_for(api.http, shirt["id"], MATRIX)
    built(api, engine, settings, shirt["id"])
    before = ids_by_sku(api, shirt["id"])
    add_option(api.http, size, "L", {"sku_append": "-L", "slug_append": "-l"})
    job = built(api, engine, settings, shirt["id"])
    after_adding = ids_by_sku(api, shirt["id"])
    assert sorted(after_adding) == sorted([*before, "SHIRT-L-RED", "SHIRT-L-BLUE"])
    assert {sku: after_adding[sku] for sku in before} == before
    assert job["meta"]["children"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 4,
        "deleted": 0,
        "independent": 0,
    }
    remove_option(api.http, size, "S")
    built(api, engine, settings, shirt["id"])
    after_removing = ids_by_sku(api, shirt["id"])
    assert sorted(after_removing) == ["SHIRT-L-BLUE", "SHIRT-L-RED", "SHIRT-M-BLUE", "SHIRT-M-RED"]
    assert after_removing == {sku: after_adding[sku] for sku in after_removing}


@pytest.mark.parametrize("change", ["added", "removed"])
def test_after_a_variation_is_added_or_removed_the_children_are_replaced_under_new_ids(
    api: StoreClient, engine: Engine, settings: Settings, change: str
) -> None:
    shirt = create_product(api)
    _, colour = variations_for(api.http, shirt["id"], MATRIX)
    built(api, engine, settings, shirt["id"])
    before = ids_by_sku(api, shirt["id"])
    if change == "added":
        fit = add_variation(
            api.http, "Fit", {"Slim": {"sku_append": "-SLIM", "slug_append": "-slim"}}
        )
        attach(api.http, shirt["id"], fit)
    else:
        detach(api.http, shirt["id"], colour)
    job = built(api, engine, settings, shirt["id"])
    after = ids_by_sku(api, shirt["id"])
    if change == "added":
        assert sorted(after) == sorted(f"{sku}-SLIM" for sku in before)
    else:
        assert sorted(after) == ["SHIRT-M", "SHIRT-S"]
    assert not set(after.values()) & set(before.values()), "every child has a new id"
    assert job["meta"]["children"]["deleted"] == 4
    for old_id in before.values():
        assert api.http.get(f"/pcm/products/{old_id}").status_code == 404


def test_parent_changes_reach_dependent_children_and_skip_an_independent_one(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api, description="Cotton")
    size, _ = variations_for(api.http, shirt["id"], MATRIX)
    built(api, engine, settings, shirt["id"])
    before = ids_by_sku(api, shirt["id"])
    independent_id = before["SHIRT-S-RED"]
    update_product(api, independent_id, status="live")

    update_product(api, shirt["id"], name="Tee", description="Linen")
    job = built(api, engine, settings, shirt["id"])
    assert job["meta"]["children"]["updated"] == 3
    assert job["meta"]["children"]["independent"] == 1
    children = by_sku(children_of(api, shirt["id"]))
    assert ids_by_sku(api, shirt["id"]) == before
    for sku, child in children.items():
        attributes = child["attributes"]
        if sku == "SHIRT-S-RED":
            assert (attributes["name"], attributes["description"]) == ("Shirt", "Cotton")
            assert attributes["status"] == "live", "the direct update stays"
        else:
            assert (attributes["name"], attributes["description"]) == ("Tee", "Linen")
            assert attributes["status"] == "draft"

    # Even with its option gone, a rebuild leaves the independent child where it is.
    remove_option(api.http, size, "S")
    built(api, engine, settings, shirt["id"])
    assert sorted(ids_by_sku(api, shirt["id"])) == ["SHIRT-M-BLUE", "SHIRT-M-RED", "SHIRT-S-RED"]
    assert ids_by_sku(api, shirt["id"])["SHIRT-S-RED"] == independent_id


def test_a_rebuild_that_fails_leaves_the_children_as_they_were(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    size, _ = variations_for(api.http, shirt["id"], MATRIX)
    built(api, engine, settings, shirt["id"])
    before = by_sku(children_of(api, shirt["id"]))
    create_product(api, name="Taken", slug="taken", sku="SHIRT-L-RED")
    update_product(api, shirt["id"], name="Renamed")
    add_option(api.http, size, "L", {"sku_append": "-L", "slug_append": "-l"})
    job = build(api, engine, settings, shirt["id"])
    assert job["attributes"]["status"] == "failed"
    [error] = job_errors(api, job)
    assert error["meta"] == {"field": "sku", "value": "SHIRT-L-RED", "code": "already_exists"}
    assert by_sku(children_of(api, shirt["id"])) == before, "nothing was written"


def test_a_rebuild_may_swap_skus_between_children(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    matrix = {
        "Size": {
            "S": {"sku_append": "-1", "slug_append": "-1"},
            "M": {"sku_append": "-2", "slug_append": "-2"},
        }
    }
    (size,) = variations_for(api.http, shirt["id"], matrix)
    built(api, engine, settings, shirt["id"])
    before = ids_by_sku(api, shirt["id"])
    for option, number in (("S", "2"), ("M", "1")):
        for kind in ("sku_append", "slug_append"):
            set_modifier_value(api.http, size, option, kind, f"-{number}")
    built(api, engine, settings, shirt["id"])
    after = ids_by_sku(api, shirt["id"])
    assert after == {"SHIRT-1": before["SHIRT-2"], "SHIRT-2": before["SHIRT-1"]}


def test_exports_carry_children_and_filter_them_by_parent(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    create_product(api, name="Hat", slug="hat", sku="HAT")
    variations_for(api.http, shirt["id"], MATRIX)
    built(api, engine, settings, shirt["id"])
    children = ids_by_sku(api, shirt["id"])
    for query, expected in (
        ("", {"SHIRT", "HAT", *children}),
        (f"?filter=eq(parent_id,{shirt['id']})", set(children)),
    ):
        response = api.http.post(f"/pcm/products/export{query}")
        assert response.status_code == 201, response.text
        run_jobs(engine, settings)
        job = show_job(api, response.json()["data"]["id"])
        assert job["attributes"]["status"] == "success"
        rows = []
        for url in job["meta"]["file_locations"]:
            rows += rows_of(api.http.get(url, headers={"Authorization": ""}).content)
        header = rows[0]
        skus = {row[header.index("sku")] for row in rows[1:] if row != header}
        assert skus == expected


def test_a_child_changed_by_an_import_is_independent_too(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shirt = create_product(api)
    variations_for(api.http, shirt["id"], MATRIX)
    built(api, engine, settings, shirt["id"])
    child_id = ids_by_sku(api, shirt["id"])["SHIRT-S-RED"]
    content = csv_bytes(
        ["id", "name", "sku", "commodity_type"], [child_id, "Red shirt", "SHIRT-S-RED", "physical"]
    )
    job = queue_import(api, content)
    run_jobs(engine, settings)
    assert show_job(api, job["id"])["attributes"]["status"] == "success"
    update_product(api, shirt["id"], name="Tee")
    finished = built(api, engine, settings, shirt["id"])
    assert finished["meta"]["children"]["independent"] == 1
    names = {
        sku: child["attributes"]["name"]
        for sku, child in by_sku(children_of(api, shirt["id"])).items()
    }
    assert names == {
        "SHIRT-S-RED": "Red shirt",
        "SHIRT-S-BLUE": "Tee",
        "SHIRT-M-RED": "Tee",
        "SHIRT-M-BLUE": "Tee",
    }
