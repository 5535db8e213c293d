"""Where jobs are and what went wrong (spec §3 [ext]): progress while running, finding jobs,
errors by code, and the file of rejected rows, over HTTP on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, update

from pxm_jobs.clock import format_timestamp, utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.reads import get_job
from pxm_jobs.queue.runner import JobContext, JobRunner
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import jobs
from tests.job_api import (
    csv_bytes,
    download,
    only_error,
    queue_import,
    rows_of,
    run_jobs,
    show_job,
)
from tests.store_client import StoreClient, store_client

Json = dict[str, Any]
HEADER = ["name", "sku", "commodity_type", "slug"]


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


# -- progress while running -----------------------------------------------------------------


class PausingRunner:
    """Runs the real job but stops at its first progress report until released."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.paused = threading.Event()
        self.release = threading.Event()

    def __call__(self, context: JobContext, connection: Connection) -> Mapping[str, Any]:
        def report(processed: int, total: int | None) -> None:
            context.report_progress(processed, total)
            if not self.paused.is_set():
                self.paused.set()
                assert self.release.wait(10), "the test never released the job"

        pausing = JobContext(job=context.job, settings=context.settings, report_progress=report)
        return self.runner(pausing, connection)


def queue_each_kind(api: StoreClient, kind: str) -> tuple[Json, dict[str, int | None]]:
    """A job of `kind`, and the progress it reports first."""
    if kind == "product-import":
        rows = [[f"Shoe {n}", f"s-{n}", "physical", f"shoe-{n}"] for n in range(3)]
        return queue_import(api, csv_bytes(HEADER, *rows)), {"processed": 3, "total": 3}
    if kind == "product-export":
        attributes = {"name": "A", "sku": "a", "commodity_type": "digital"}
        created = api.http.post(
            "/pcm/products", json={"data": {"type": "product", "attributes": attributes}}
        )
        assert created.status_code == 201, created.text
        return api.http.post("/pcm/products/export").json()["data"], {"processed": 1, "total": 1}
    source = api.http.post(
        "/pcm/hierarchies", json={"data": {"type": "hierarchy", "attributes": {"name": "Src"}}}
    ).json()["data"]
    for name in ("One", "Two"):
        api.http.post(
            f"/pcm/hierarchies/{source['id']}/nodes",
            json={"data": {"type": "node", "attributes": {"name": name}}},
        )
    job = api.http.post(f"/pcm/hierarchies/{source['id']}/duplicate_job").json()["data"]
    return job, {"processed": 0, "total": 2}


@pytest.mark.parametrize("kind", ["product-import", "product-export", "hierarchy-duplicate"])
def test_a_running_job_shows_its_progress(
    api: StoreClient, engine: Engine, settings: Settings, kind: str
) -> None:
    job, first_report = queue_each_kind(api, kind)
    pausing = PausingRunner(RUNNERS[kind])
    worker = Worker(engine, settings, {kind: pausing})
    claimed = worker.claim()
    assert claimed is not None and claimed.id == job["id"]
    running = threading.Thread(target=worker.run, args=(claimed,))
    running.start()
    try:
        assert pausing.paused.wait(10)
        shown = show_job(api, job["id"])
        assert shown["attributes"]["status"] == "started"
        assert shown["meta"]["progress"] == first_report
        with read_transaction(engine) as connection:
            row = get_job(connection, api.store_id, job["id"])
        assert row is not None
        # Other processes read it from the row, written at most once a second and not in a
        # job's first second: most jobs end sooner, and their progress goes with their end.
        assert (row.progress_processed, row.progress_total) == (None, None)
    finally:
        pausing.release.set()
        running.join()
    done = show_job(api, job["id"])
    assert done["attributes"]["status"] == "success"
    assert done["meta"]["progress"]["processed"] == done["meta"]["progress"]["total"]
    with read_transaction(engine) as connection:
        ended = get_job(connection, api.store_id, job["id"])
    assert ended is not None and ended.progress_processed == done["meta"]["progress"]["processed"]


# -- finding jobs ---------------------------------------------------------------------------


def set_times(engine: Engine, job_id: str, **times: Any) -> None:
    with write_transaction(engine) as connection:
        connection.execute(update(jobs).where(jobs.c.id == job_id).values(**times))


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_jobs_are_found_by_creation_time_and_sorted(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    base = utc_now() - timedelta(hours=3)
    made = [api.http.post("/pcm/products/export").json()["data"]["id"] for _ in range(3)]
    for hours, job_id in enumerate(made):
        set_times(engine, job_id, created_at=base + timedelta(hours=hours))
    middle = format_timestamp(base + timedelta(hours=1))
    assert ids(api.http.get("/pcm/jobs", params={"filter": f"gt(created_at,{middle})"})) == [
        made[2]
    ]
    assert ids(api.http.get("/pcm/jobs", params={"filter": f"lt(created_at,{middle})"})) == [
        made[0]
    ]
    window = f"gt(created_at,{format_timestamp(base)}):lt(created_at,{middle[:19]})"
    assert ids(api.http.get("/pcm/jobs", params={"filter": window})) == []
    assert ids(api.http.get("/pcm/jobs")) == made[::-1], "newest first by default"
    assert ids(api.http.get("/pcm/jobs", params={"sort": "created_at"})) == made

    set_times(engine, made[0], started_at=base + timedelta(hours=5))
    set_times(engine, made[2], started_at=base + timedelta(hours=4))
    started_first = ids(api.http.get("/pcm/jobs", params={"sort": "started_at"}))
    assert started_first == [made[2], made[0], made[1]], "never-started jobs come last"
    started_last = ids(api.http.get("/pcm/jobs", params={"sort": "-started_at"}))
    assert started_last == [made[0], made[2], made[1]]
    both = {"filter": "eq(type,product-export):in(status,pending,started)", "sort": "created_at"}
    assert ids(api.http.get("/pcm/jobs", params=both)) == made


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"sort": "name"}, "-created_at"),
        ({"filter": "gt(created_at,yesterday)"}, "2024-01-05T13:46:41.695Z"),
        ({"filter": "eq(created_at,2024-01-05)"}, "gt or lt"),
        ({"filter": "gt(status,pending)"}, "eq or in"),
    ],
)
def test_a_bad_filter_or_sort_is_a_400_saying_what_works(
    api: StoreClient, params: dict[str, str], named: str
) -> None:
    response = api.http.get("/pcm/jobs", params=params)
    assert response.status_code == 400
    assert named in only_error(response)["detail"]


# -- errors by code, and the file of rejected rows -------------------------------------------


def failed_import(api: StoreClient, engine: Engine, settings: Settings) -> Json:
    content = csv_bytes(
        HEADER,
        ["Good", "g-1", "physical", "good"],
        ["", "b-1", "vegetable", "bad one"],
        ["Twin", "g-1", "digital", "twin"],
        ["Fine", "f-1", "digital", "fine"],
    )
    job = queue_import(api, content)
    run_jobs(engine, settings)
    shown = show_job(api, job["id"])
    assert shown["attributes"]["status"] == "failed"
    return shown


def test_errors_carry_a_stable_code_and_can_be_filtered_by_it(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = failed_import(api, engine, settings)
    every = api.http.get(f"/pcm/jobs/{job['id']}/errors").json()
    codes = [error["meta"]["code"] for error in every["data"]]
    assert sorted(codes) == ["duplicate_in_file", "invalid_value", "invalid_value", "required"]
    only = api.http.get(
        f"/pcm/jobs/{job['id']}/errors", params={"filter": "eq(code,duplicate_in_file)"}
    ).json()
    assert only["meta"]["results"]["total"] == 1
    [duplicate] = only["data"]
    assert duplicate["meta"] == {
        "row": 4,
        "field": "sku",
        "value": "g-1",
        "code": "duplicate_in_file",
    }
    some = api.http.get(
        f"/pcm/jobs/{job['id']}/errors", params={"filter": "in(code,required,duplicate_in_file)"}
    )
    assert some.json()["meta"]["results"]["total"] == 2
    bad = api.http.get(f"/pcm/jobs/{job['id']}/errors", params={"filter": "eq(row,2)"})
    assert bad.status_code == 400 and "code" in only_error(bad)["detail"]


def test_a_failed_import_offers_its_rejected_rows_to_fix_and_import_again(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = failed_import(api, engine, settings)
    url = job["meta"]["error_file_location"]
    assert url and "signature=" in url
    response = download(api, url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = rows_of(response.content)
    assert rows[0] == ["_error", *HEADER]
    assert [row[1:] for row in rows[1:]] == [
        ["", "b-1", "vegetable", "bad one"],
        ["Twin", "g-1", "digital", "twin"],
    ]
    assert "name" in rows[1][0] and "commodity_type" in rows[1][0] and "; " in rows[1][0]
    assert "row 2" in rows[2][0]

    # Fixed in place, `_error` column and all, the rows import.
    fixed = [rows[0], [rows[1][0], "Bad", "b-1", "physical", "bad-one"], [*rows[2][:2], "t-1"]]
    fixed[2] += rows[2][3:]
    again = queue_import(api, csv_bytes(*fixed))
    run_jobs(engine, settings)
    assert show_job(api, again["id"])["attributes"]["status"] == "success"
    forged = url.replace("signature=", "signature=x")
    assert download(api, forged).status_code == 403


def test_only_failed_imports_have_a_file_of_rejected_rows(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = queue_import(api, csv_bytes(HEADER, ["Good", "g-1", "physical", "good"]))
    assert job["meta"]["error_file_location"] is None
    run_jobs(engine, settings)
    assert show_job(api, job["id"])["meta"]["error_file_location"] is None
    export = api.http.post("/pcm/products/export").json()["data"]
    assert "error_file_location" not in export["meta"]
