"""`error_policy=reject_failed_rows` on product imports: the rows without problems apply, the
rows with problems and the rows tied to them are left out and listed; on both databases, in
the catalog and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.products.csv_import import ImportResult, import_products
from pxm_jobs.catalog.products.queries import Product, list_products
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import jobs
from tests.factories import make_stores
from tests.job_api import (
    csv_bytes,
    download,
    only_error,
    post_import,
    queue_import,
    rows_of,
    run_jobs,
    show_job,
)
from tests.store_client import StoreClient, store_client

Json = dict[str, Any]
HEADER = ["name", "sku", "commodity_type"]
KEEP = "?error_policy=reject_failed_rows"


def run_import(
    engine: Engine,
    settings: Settings,
    store_id: str,
    content: bytes,
    *,
    keep_valid_rows: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    with write_transaction(engine) as connection:
        return import_products(
            connection,
            store_id=store_id,
            chunks=[content],
            settings=settings,
            dry_run=dry_run,
            report_progress=lambda processed, total: None,
            keep_valid_rows=keep_valid_rows,
        )


def catalog(engine: Engine, store_id: str) -> dict[str, Product]:
    """The store's products by sku (or by name when they have none)."""
    with read_transaction(engine) as connection:
        found, _ = list_products(connection, store_id, limit=1000, offset=0)
    return {product.sku or product.name: product for product in found}


def problems(errors: tuple[JobErrorDetail, ...] | list[JobErrorDetail]) -> list[Any]:
    return [(error.row, error.field, error.code) for error in errors]


@pytest.fixture
def store_id(engine: Engine) -> str:
    return make_stores(engine, 1)[0]


# -- in the catalog -------------------------------------------------------------------------


def test_the_valid_rows_apply_and_the_others_are_listed(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_bytes(
        HEADER,
        ["Boot", "B-1", "physical"],
        ["Broken", "B-2", "vegetable"],
        ["Sandal", "S-1", "digital", "extra cell"],
        ["Clog", "C-1", "physical"],
    )
    result = run_import(engine, settings, store_id, content)
    assert result == ImportResult(created=2, updated=0, rejected=2)
    assert problems(result.problems) == [
        (3, "commodity_type", "invalid_value"),
        (4, None, "invalid_row"),
    ]
    assert sorted(catalog(engine, store_id)) == ["B-1", "C-1"]


def test_both_rows_of_a_duplicate_sku_are_left_out(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_bytes(
        HEADER,
        ["Boot", "DUP", "physical"],
        ["Clog", "C-1", "physical"],
        ["Other boot", "DUP", "physical"],
    )
    result = run_import(engine, settings, store_id, content)
    assert (result.created, result.rejected) == (1, 2)
    assert problems(result.problems) == [
        (2, "sku", "duplicate_in_file"),
        (4, "sku", "duplicate_in_file"),
    ]
    assert [error.message for error in result.problems] == [
        "sku 'DUP' is also used by row 4",
        "sku 'DUP' is also used by row 2",
    ]
    assert sorted(catalog(engine, store_id)) == ["C-1"]


def test_both_rows_changing_one_product_are_left_out(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, csv_bytes(HEADER, ["Boot", "B-1", "physical"]))
    product = catalog(engine, store_id)["B-1"]
    content = csv_bytes(
        ["id", *HEADER],
        [product.id, "Boot one", "B-1", "physical"],
        [product.id, "Boot two", "B-1", "physical"],
        ["", "Clog", "C-1", "physical"],
    )
    result = run_import(engine, settings, store_id, content)
    assert (result.created, result.updated, result.rejected) == (1, 0, 2)
    assert problems(result.problems) == [
        (2, "id", "duplicate_in_file"),
        (3, "id", "duplicate_in_file"),
    ]
    assert catalog(engine, store_id)["B-1"].name == "Boot"


def test_a_value_a_left_out_row_would_have_freed_stays_taken(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    seed = csv_bytes([*HEADER, "external_ref"], ["Boot", "B-1", "physical", "ref-boot"])
    run_import(engine, settings, store_id, seed)
    boot = catalog(engine, store_id)["B-1"]
    content = csv_bytes(
        [*HEADER, "external_ref", "status"],
        # The boot would give up B-1, but its row has a problem: it keeps B-1.
        ["Boot", "B-1-old", "physical", "ref-boot", "gone"],
        ["New boot", "B-1", "physical", "ref-new", "live"],
        ["Clog", "C-1", "physical", "ref-clog", "live"],
    )
    result = run_import(engine, settings, store_id, content)
    assert (result.created, result.updated, result.rejected) == (1, 0, 2)
    assert problems(result.problems) == [
        (2, "status", "invalid_value"),
        (3, "sku", "already_exists"),
    ]
    assert result.problems[1].message == (
        f"sku 'B-1' is already used by product {boot.id}, which keeps it: row 2 was left out"
    )
    products = catalog(engine, store_id)
    assert sorted(products) == ["B-1", "C-1"] and products["B-1"].id == boot.id


def test_values_moving_between_good_rows_still_move(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    seed = csv_bytes(
        [*HEADER, "external_ref"],
        ["Boot", "B-1", "physical", "ref-boot"],
        ["Clog", "C-1", "physical", "ref-clog"],
    )
    run_import(engine, settings, store_id, seed)
    swap = csv_bytes(
        [*HEADER, "external_ref"],
        ["Boot", "C-1", "physical", "ref-boot"],
        ["Clog", "B-1", "physical", "ref-clog"],
        ["", "X-1", "physical", "ref-broken"],
    )
    result = run_import(engine, settings, store_id, swap)
    assert (result.created, result.updated, result.rejected) == (0, 2, 1)
    products = catalog(engine, store_id)
    assert (products["C-1"].name, products["B-1"].name) == ("Boot", "Clog")


def test_a_value_an_update_keeps_costs_only_the_row_taking_it(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, csv_bytes(HEADER, ["Boot", "B-1", "physical"]))
    boot = catalog(engine, store_id)["B-1"]
    content = csv_bytes(
        ["id", *HEADER, "slug"],
        ["", "Thief", "T-1", "physical", "boot"],
        [boot.id, "Boot", "B-1", "physical", ""],  # a blank slug keeps the boot's own
        ["", "Clog", "C-1", "physical", ""],
    )
    result = run_import(engine, settings, store_id, content)
    assert problems(result.problems) == [(2, "slug", "duplicate_in_file")]
    assert result == ImportResult(created=1, updated=0, unchanged=1, rejected=1)


def test_when_no_row_is_left_the_import_is_rejected_whole(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_bytes(HEADER, ["", "B-1", "physical"], ["Boot", "B-2", "vegetable"])
    with pytest.raises(ImportRejected) as raised:
        run_import(engine, settings, store_id, content)
    assert problems(raised.value.errors) == [
        (2, "name", "required"),
        (3, "commodity_type", "invalid_value"),
    ]
    assert catalog(engine, store_id) == {}


def test_problems_of_the_file_as_a_whole_reject_it_whole(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    few = settings.model_copy(update={"import_max_rows": 2})
    content = csv_bytes(HEADER, ["Boot", "B-1", "physical"], ["Clog", "C-1", "physical"])
    with pytest.raises(ImportRejected) as raised:
        run_import(engine, few, store_id, content)
    assert [error.code for error in raised.value.errors] == ["too_many"]
    assert catalog(engine, store_id) == {}


def test_a_dry_run_keeping_the_valid_rows_counts_them_and_writes_nothing(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_bytes(HEADER, ["Boot", "B-1", "physical"], ["Broken", "B-2", "vegetable"])
    result = run_import(engine, settings, store_id, content, dry_run=True)
    assert result == ImportResult(created=1, updated=0, rejected=1)
    assert catalog(engine, store_id) == {}


def test_the_default_still_rejects_everything_naming_only_the_later_row(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_bytes(HEADER, ["Boot", "DUP", "physical"], ["Clog", "DUP", "physical"])
    with pytest.raises(ImportRejected) as raised:
        run_import(engine, settings, store_id, content, keep_valid_rows=False)
    assert problems(raised.value.errors) == [(3, "sku", "duplicate_in_file")]


# -- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


MIXED = csv_bytes(
    [*HEADER, "slug"],
    ["Boot", "B-1", "physical", "boot"],
    ["Broken", "B-2", "vegetable", "broken"],
    ["Clog", "C-1", "digital", "clog"],
    ["Twin", "C-1", "digital", "twin"],
)


def job_count(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(jobs)).scalar_one())


def errors_of(api: StoreClient, job_id: str) -> list[Json]:
    errors: list[Json] = api.http.get(f"/pcm/jobs/{job_id}/errors").json()["data"]
    return errors


def test_an_import_keeping_the_valid_rows_succeeds_listing_the_others(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    queued = queue_import(api, MIXED, KEEP)
    assert queued["meta"]["error_policy"] == "reject_failed_rows"
    run_jobs(engine, settings)
    done = show_job(api, queued["id"])
    assert done["attributes"]["status"] == "success"
    assert done["meta"]["rows"] == {"created": 1, "updated": 0, "rejected": 3}
    listed = [(error["meta"]["row"], error["meta"]["code"]) for error in errors_of(api, done["id"])]
    assert listed == [(3, "invalid_value"), (4, "duplicate_in_file"), (5, "duplicate_in_file")]
    products = api.http.get("/pcm/products").json()["data"]
    assert [product["attributes"]["sku"] for product in products] == ["B-1"]

    rejected = rows_of(download(api, done["meta"]["error_file_location"]).content)
    assert [row[1:] for row in rejected] == [
        ["name", "sku", "commodity_type", "slug"],
        ["Broken", "B-2", "vegetable", "broken"],
        ["Clog", "C-1", "digital", "clog"],
        ["Twin", "C-1", "digital", "twin"],
    ]
    # Fixed, the rejected rows import as they are, `_error` column and all.
    fixed = [rejected[0], [rejected[1][0], "Broken", "B-2", "physical", "broken"], rejected[2]]
    again = queue_import(api, csv_bytes(*fixed), KEEP)
    run_jobs(engine, settings)
    assert show_job(api, again["id"])["meta"]["rows"] == {"created": 2, "updated": 0, "rejected": 0}


def test_an_import_with_no_row_left_fails_and_offers_its_rejected_rows(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    content = csv_bytes(HEADER, ["", "B-1", "physical"], ["Boot", "B-2", "vegetable"])
    queued = queue_import(api, content, KEEP)
    run_jobs(engine, settings)
    done = show_job(api, queued["id"])
    assert done["attributes"]["status"] == "failed"
    assert "rows" not in done["meta"] and done["meta"]["result_file_location"] is None
    assert len(errors_of(api, done["id"])) == 2
    assert len(rows_of(download(api, done["meta"]["error_file_location"]).content)) == 3


def test_the_default_policy_is_todays_all_or_nothing(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    for query in ("", "?error_policy=reject_everything"):
        queued = queue_import(api, MIXED, query)
        assert "error_policy" not in queued["meta"]
        run_jobs(engine, settings)
        done = show_job(api, queued["id"])
        assert done["attributes"]["status"] == "failed"
        assert "rows" not in done["meta"]
    assert api.http.get("/pcm/products").json()["meta"]["results"]["total"] == 0


@pytest.mark.parametrize("value", ["keep_going", "REJECT_FAILED_ROWS"])
def test_an_unknown_policy_is_a_400_naming_the_allowed_ones(
    api: StoreClient, engine: Engine, value: str
) -> None:
    response = post_import(api, MIXED, params={"error_policy": value})
    assert response.status_code == 400, response.text
    error = only_error(response)
    assert error["status"] == "400" and error["title"]
    assert "reject_everything" in error["detail"] and "reject_failed_rows" in error["detail"]
    assert repr(value) in error["detail"]
    assert job_count(engine) == 0


def test_an_idempotency_key_tells_the_policies_apart(api: StoreClient, engine: Engine) -> None:
    key = {"Idempotency-Key": "policy-matters"}
    first = queue_import(api, MIXED, headers=key)
    same = post_import(api, MIXED, "?error_policy=reject_everything", headers=key)
    assert same.status_code == 201 and same.json()["data"]["id"] == first["id"]
    other = post_import(api, MIXED, KEEP, headers=key)
    assert other.status_code == 422, other.text
    assert only_error(other)["meta"]["header"] == "Idempotency-Key"
    assert job_count(engine) == 1


def test_a_retry_keeps_the_policy(api: StoreClient, engine: Engine, settings: Settings) -> None:
    content = csv_bytes(HEADER, ["Boot", "B-1", "vegetable"])
    failed = queue_import(api, content, KEEP + "&dry_run=true")
    run_jobs(engine, settings)
    assert show_job(api, failed["id"])["attributes"]["status"] == "failed"
    retried = api.http.post(f"/pcm/jobs/{failed['id']}/retry")
    assert retried.status_code == 201, retried.text
    meta = retried.json()["data"]["meta"]
    assert (meta["error_policy"], meta["dry_run"]) == ("reject_failed_rows", True)
    assert meta["retried_from"] == failed["id"]


def test_a_dry_run_keeping_the_valid_rows_reports_them_and_writes_nothing(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    queued = queue_import(api, MIXED, KEEP + "&dry_run=true")
    assert (queued["meta"]["dry_run"], queued["meta"]["error_policy"]) == (
        True,
        "reject_failed_rows",
    )
    run_jobs(engine, settings)
    done = show_job(api, queued["id"])
    assert done["attributes"]["status"] == "success"
    assert done["meta"]["rows"] == {"created": 1, "updated": 0, "rejected": 3}
    assert done["meta"]["error_file_location"]
    assert api.http.get("/pcm/products").json()["meta"]["results"]["total"] == 0
