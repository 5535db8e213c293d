"""Steering jobs over HTTP (spec §4 [ext]): dry runs, retries, deletes, pruning; both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.queue.retention import prune_finished_jobs
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import blobs, job_errors, jobs
from tests.factories import make_stores, queue_jobs
from tests.job_api import csv_bytes, only_error, queue_import, run_jobs, show_job
from tests.store_client import StoreClient, store_client

Json = dict[str, Any]
HEADER = ["name", "sku", "commodity_type"]
GOOD = csv_bytes(HEADER, ["Shoe", "s-1", "physical"], ["Boot", "b-1", "digital"])
BAD = csv_bytes(HEADER, ["Shoe", "s-1", "physical"], ["", "b-1", "vegetable"])


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def product_count(api: StoreClient) -> int:
    return int(api.http.get("/pcm/products").json()["meta"]["results"]["total"])


def errors_of(api: StoreClient, job_id: str) -> list[Json]:
    errors: list[Json] = api.http.get(f"/pcm/jobs/{job_id}/errors").json()["data"]
    return errors


def count_rows(engine: Engine, table: Any) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


# -- dry runs -------------------------------------------------------------------------------


def test_a_dry_run_reports_like_a_real_import_and_writes_nothing(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    dry = queue_import(api, GOOD, "?dry_run=true")
    assert dry["meta"]["dry_run"] is True and dry["attributes"]["status"] == "pending"
    run_jobs(engine, settings)
    dry_done = show_job(api, dry["id"])
    assert dry_done["attributes"]["status"] == "success"
    assert product_count(api) == 0, "a dry run writes nothing"
    real = queue_import(api, GOOD)
    run_jobs(engine, settings)
    real_done = show_job(api, real["id"])
    assert dry_done["meta"]["rows"] == real_done["meta"]["rows"] == {"created": 2, "updated": 0}
    assert dry_done["meta"]["progress"] == real_done["meta"]["progress"]
    assert product_count(api) == 2


def test_a_dry_run_fails_with_the_errors_of_a_real_import(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    dry = queue_import(api, BAD, "?dry_run=true")
    real = queue_import(api, BAD)
    run_jobs(engine, settings)
    for job in (dry, real):
        assert show_job(api, job["id"])["attributes"]["status"] == "failed"

    def strip(errors: list[Json]) -> list[Json]:
        return [{"attributes": e["attributes"], "meta": e["meta"]} for e in errors]

    assert strip(errors_of(api, dry["id"])) == strip(errors_of(api, real["id"]))
    assert len(errors_of(api, dry["id"])) == 2
    assert show_job(api, dry["id"])["meta"]["error_file_location"]
    assert product_count(api) == 0


# -- retries --------------------------------------------------------------------------------


def test_a_failed_import_is_retried_from_its_stored_file(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    taken = api.http.post(
        "/pcm/products",
        json={
            "data": {
                "type": "product",
                "attributes": {"name": "Old", "sku": "s-1", "commodity_type": "physical"},
            }
        },
    ).json()["data"]
    failed = queue_import(api, GOOD, headers={"X-Request-ID": "first"})
    run_jobs(engine, settings)
    assert show_job(api, failed["id"])["attributes"]["status"] == "failed"
    assert api.http.delete(f"/pcm/products/{taken['id']}").status_code == 204

    response = api.http.post(f"/pcm/jobs/{failed['id']}/retry", headers={"X-Request-ID": "again"})
    assert response.status_code == 201, response.text
    retry = response.json()["data"]
    assert retry["id"] != failed["id"]
    assert retry["attributes"] == {**retry["attributes"], "type": "product-import"}
    assert retry["attributes"]["status"] == "pending"
    assert retry["meta"]["retried_from"] == failed["id"]
    assert retry["meta"]["x_request_id"] == "again"
    run_jobs(engine, settings)
    done = show_job(api, retry["id"])
    assert done["attributes"]["status"] == "success"
    assert done["meta"]["rows"] == {"created": 2, "updated": 0}
    assert show_job(api, failed["id"])["attributes"]["status"] == "failed", "left as it was"


def test_a_cancelled_export_and_duplicate_are_retried_with_their_input(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    export = api.http.post("/pcm/products/export?filter=eq(sku,s-1)").json()["data"]
    source = api.http.post(
        "/pcm/hierarchies", json={"data": {"type": "hierarchy", "attributes": {"name": "Src"}}}
    ).json()["data"]
    body = {"data": {"type": "hierarchy", "attributes": {"name": "Copy"}}}
    copy = api.http.post(f"/pcm/hierarchies/{source['id']}/duplicate_job", json=body).json()
    for job in (export, copy["data"]):
        assert api.http.post(f"/pcm/jobs/{job['id']}/cancel").status_code == 200

    export_retry = api.http.post(f"/pcm/jobs/{export['id']}/retry").json()["data"]
    assert export_retry["meta"]["filter"] == "eq(sku,s-1)"
    assert export_retry["meta"]["retried_from"] == export["id"]
    copy_retry = api.http.post(f"/pcm/jobs/{copy['data']['id']}/retry").json()["data"]
    assert copy_retry["meta"]["copied_from"] == source["id"]
    new_id = copy_retry["meta"]["hierarchy_id"]
    assert new_id != copy["data"]["meta"]["hierarchy_id"], "a retry promises a hierarchy of its own"
    run_jobs(engine, settings)
    assert show_job(api, export_retry["id"])["attributes"]["status"] == "success"
    assert show_job(api, copy_retry["id"])["attributes"]["status"] == "success"
    shown = api.http.get(f"/pcm/hierarchies/{new_id}").json()["data"]
    assert shown["attributes"]["name"] == "Copy"


def test_only_failed_or_cancelled_jobs_can_be_retried(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    pending = queue_import(api, GOOD)
    refused = api.http.post(f"/pcm/jobs/{pending['id']}/retry")
    assert refused.status_code == 422
    assert only_error(refused)["detail"] == (
        "only failed or cancelled jobs can be retried; this job is pending"
    )
    run_jobs(engine, settings)
    assert api.http.post(f"/pcm/jobs/{pending['id']}/retry").status_code == 422
    assert api.http.post("/pcm/jobs/00000000-0000-4000-8000-000000000000/retry").status_code == 404
    assert api.http.post("/pcm/job/not-a-uuid/retry").status_code == 404


def test_a_copy_whose_source_is_gone_cannot_be_retried(api: StoreClient) -> None:
    source = api.http.post(
        "/pcm/hierarchies", json={"data": {"type": "hierarchy", "attributes": {"name": "Src"}}}
    ).json()["data"]
    copy = api.http.post(f"/pcm/hierarchies/{source['id']}/duplicate_job").json()["data"]
    api.http.post(f"/pcm/jobs/{copy['id']}/cancel")
    api.http.delete(f"/pcm/hierarchies/{source['id']}")
    refused = api.http.post(f"/pcm/jobs/{copy['id']}/retry")
    assert refused.status_code == 422 and "no longer exists" in only_error(refused)["detail"]


# -- deleting and pruning -------------------------------------------------------------------


def test_a_finished_job_is_deleted_with_its_errors_and_files(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    failed = queue_import(api, BAD)
    run_jobs(engine, settings)
    assert count_rows(engine, job_errors) == 2
    assert count_rows(engine, blobs) == 2, "the upload and the file of rejected rows"
    response = api.http.delete(f"/pcm/jobs/{failed['id']}")
    assert response.status_code == 204 and response.content == b""
    assert api.http.get(f"/pcm/jobs/{failed['id']}").status_code == 404
    assert api.http.delete(f"/pcm/jobs/{failed['id']}").status_code == 404
    assert (count_rows(engine, job_errors), count_rows(engine, blobs)) == (0, 0)


def test_a_retry_keeps_the_upload_its_original_shared(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    original = queue_import(api, GOOD)
    api.http.post(f"/pcm/jobs/{original['id']}/cancel")
    retry = api.http.post(f"/pcm/jobs/{original['id']}/retry").json()["data"]
    assert api.http.delete(f"/pcm/jobs/{original['id']}").status_code == 204
    run_jobs(engine, settings)
    assert show_job(api, retry["id"])["attributes"]["status"] == "success"
    assert api.http.delete(f"/pcm/job/{retry['id']}").status_code == 204
    assert count_rows(engine, blobs) == 0


def test_pending_and_started_jobs_cannot_be_deleted(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    first = queue_import(api, GOOD)
    second = queue_import(api, GOOD)
    worker = Worker(engine, settings, RUNNERS)
    started = worker.claim()
    assert started is not None and started.id == first["id"]
    for job, advice in ((first, "wait until it ends"), (second, "cancel it first")):
        refused = api.http.delete(f"/pcm/jobs/{job['id']}")
        assert refused.status_code == 422
        assert advice in only_error(refused)["detail"]
    worker.run(started)
    assert show_job(api, first["id"])["attributes"]["status"] == "success"


def test_pruning_deletes_only_jobs_finished_before_the_retention(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    old_failure = queue_import(api, BAD)
    run_jobs(engine, settings)
    recent = queue_import(api, GOOD)
    run_jobs(engine, settings)
    [store] = make_stores(engine, 1)
    pending, started = queue_jobs(engine, store, 2, start=utc_now() - timedelta(days=400))
    long_ago = utc_now() - timedelta(days=settings.job_retention_days, seconds=1)
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs).where(jobs.c.id == old_failure["id"]).values(completed_at=long_ago)
        )
        # Old creation times, and even a stray completion time, never make a live job prunable.
        connection.execute(
            update(jobs)
            .where(jobs.c.id == started.id)
            .values(status=JobStatus.STARTED, completed_at=long_ago)
        )
    worker = Worker(engine, settings, RUNNERS)
    assert worker.housekeeper.prune_old_jobs() == 1
    assert worker.housekeeper.prune_old_jobs() == 0, "at most once per interval"
    assert api.http.get(f"/pcm/jobs/{old_failure['id']}").status_code == 404
    assert show_job(api, recent["id"])["attributes"]["status"] == "success"
    with read_transaction(engine) as connection:
        left = set(connection.execute(select(jobs.c.id)).scalars())
    assert left == {recent["id"], pending.id, started.id}
    assert count_rows(engine, job_errors) == 0
    assert count_rows(engine, blobs) == 2, "only the recent import's upload and results are left"


def test_pruning_goes_in_batches(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    queued = queue_jobs(engine, store, 5)
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs)
            .where(jobs.c.id.in_([job.id for job in queued]))
            .values(status=JobStatus.CANCELLED, completed_at=utc_now() - timedelta(days=1))
        )
    with write_transaction(engine) as connection:
        assert prune_finished_jobs(connection, utc_now(), limit=2) == 2
    with write_transaction(engine) as connection:
        assert prune_finished_jobs(connection, utc_now(), limit=10) == 3
    assert count_rows(engine, jobs) == 0
