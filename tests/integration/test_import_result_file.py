"""The result file of a successful product import (`meta.result_file_location`): each row
applied with its product's id, external_ref, sku and what was done; over HTTP, both databases."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.store.tables import blobs
from tests.job_api import csv_bytes, download, queue_import, rows_of, run_jobs, show_job
from tests.store_client import StoreClient, store_client

Json = dict[str, Any]
HEADER = ["name", "sku", "commodity_type", "external_ref"]
COLUMNS = ["row", "id", "external_ref", "sku", "action"]


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def finished(api: StoreClient, engine: Engine, settings: Settings, job: Json) -> Json:
    run_jobs(engine, settings)
    return show_job(api, job["id"])


def result_rows(api: StoreClient, job: Json) -> list[list[str]]:
    url = job["meta"]["result_file_location"]
    assert url and "signature=" in url
    response = download(api, url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = rows_of(response.content)
    assert rows[0] == COLUMNS
    return rows[1:]


def products_by_sku(api: StoreClient) -> dict[str, Json]:
    listed = api.http.get("/pcm/products", params={"page[limit]": "100"}).json()["data"]
    return {product["attributes"]["sku"]: product for product in listed}


def test_created_rows_carry_the_new_ids(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    content = (
        b"name,sku,commodity_type,external_ref,description\n"
        b'Boot,B-1,physical,ref-boot,"two\nlines"\n'
        b"Clog,C-1,digital,,\n"
    )
    done = finished(api, engine, settings, queue_import(api, content))
    assert done["attributes"]["status"] == "success"
    products = products_by_sku(api)
    assert result_rows(api, done) == [
        ["2", products["B-1"]["id"], "ref-boot", "B-1", "created"],
        ["4", products["C-1"]["id"], "", "C-1", "created"],  # its record starts on line 4
    ]


def test_updated_and_unchanged_rows_name_their_products_as_they_are_after(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    seed = csv_bytes(
        HEADER, ["Boot", "B-1", "physical", "ref-boot"], ["Clog", "C-1", "digital", "ref-clog"]
    )
    finished(api, engine, settings, queue_import(api, seed))
    before = products_by_sku(api)
    # No sku column: the result file still says each product's sku.
    content = csv_bytes(
        ["external_ref", "name", "commodity_type"],
        ["ref-clog", "Clog", "digital"],
        ["ref-boot", "Renamed boot", "physical"],
        ["ref-new", "Sandal", "physical"],
    )
    done = finished(api, engine, settings, queue_import(api, content))
    assert done["meta"]["rows"] == {"created": 1, "updated": 1}
    sandal = next(
        p
        for p in api.http.get("/pcm/products").json()["data"]
        if p["attributes"]["name"] == "Sandal"
    )
    assert result_rows(api, done) == [
        ["2", before["C-1"]["id"], "ref-clog", "C-1", "unchanged"],
        ["3", before["B-1"]["id"], "ref-boot", "B-1", "updated"],
        ["4", sandal["id"], "ref-new", "", "created"],
    ]


def test_rows_left_out_are_not_in_it(api: StoreClient, engine: Engine, settings: Settings) -> None:
    content = csv_bytes(HEADER, ["Boot", "B-1", "physical", ""], ["Broken", "B-2", "vegetable", ""])
    job = queue_import(api, content, "?error_policy=reject_failed_rows")
    done = finished(api, engine, settings, job)
    assert [row[0::4] for row in result_rows(api, done)] == [["2", "created"]]


def test_a_dry_run_says_what_it_would_do_without_made_up_ids(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    seed = csv_bytes(HEADER, ["Boot", "B-1", "physical", "ref-boot"])
    finished(api, engine, settings, queue_import(api, seed))
    boot = products_by_sku(api)["B-1"]
    content = csv_bytes(
        HEADER, ["Boot two", "B-1", "physical", "ref-boot"], ["Clog", "C-1", "digital", ""]
    )
    done = finished(api, engine, settings, queue_import(api, content, "?dry_run=true"))
    assert result_rows(api, done) == [
        ["2", boot["id"], "ref-boot", "B-1", "updated"],
        ["3", "", "", "C-1", "created"],
    ]
    assert list(products_by_sku(api)) == ["B-1"]


def test_only_successful_imports_have_one(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    queued = queue_import(api, csv_bytes(HEADER, ["Boot", "B-1", "vegetable", ""]))
    assert queued["meta"]["result_file_location"] is None
    done = finished(api, engine, settings, queued)
    assert done["attributes"]["status"] == "failed"
    assert done["meta"]["result_file_location"] is None
    export = api.http.post("/pcm/products/export").json()["data"]
    assert "result_file_location" not in export["meta"]


@pytest.mark.parametrize("escape", [False, True])
def test_formula_cells_are_escaped_as_exports_escape_them(
    settings: Settings, engine: Engine, escape: bool
) -> None:
    configured = settings.model_copy(update={"csv_escape_formulas": escape})
    with store_client(configured, engine) as api:
        content = csv_bytes(HEADER, ["Boot", "=SUM(A1)", "physical", "+ref"])
        done = finished(api, engine, configured, queue_import(api, content))
        [row] = result_rows(api, done)
        assert row[2:4] == (["'+ref", "'=SUM(A1)"] if escape else ["+ref", "=SUM(A1)"])


def blob_count(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(blobs)).scalar_one())


def test_the_file_commits_with_the_jobs_success_and_only_with_it(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    def fails_after_importing(context: JobContext, connection: Connection) -> Mapping[str, Any]:
        RUNNERS["product-import"](context, connection)
        raise JobFailed([JobErrorDetail(message="stopped after the import ran", code="test")])

    job = queue_import(api, csv_bytes(HEADER, ["Boot", "B-1", "physical", ""]))
    worker = Worker(engine, settings, {"product-import": fails_after_importing})
    claimed = worker.claim()
    assert claimed is not None
    worker.run(claimed)
    done = show_job(api, job["id"])
    assert done["attributes"]["status"] == "failed"
    assert done["meta"]["result_file_location"] is None
    assert blob_count(engine) == 1, "the upload only: the result file went with the products"
    assert api.http.get("/pcm/products").json()["meta"]["results"]["total"] == 0


def test_deleting_the_job_deletes_its_result_file(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    done = finished(
        api, engine, settings, queue_import(api, csv_bytes(HEADER, ["Boot", "B-1", "physical", ""]))
    )
    url = done["meta"]["result_file_location"]
    assert blob_count(engine) == 2
    assert api.http.delete(f"/pcm/jobs/{done['id']}").status_code == 204
    assert blob_count(engine) == 0
    assert download(api, url).status_code == 404
