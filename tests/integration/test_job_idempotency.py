"""Idempotency-Key on every job-creating request (spec §4 [ext]), on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.idempotency import RequestReplayed, fingerprint_request
from pxm_jobs.queue.lifecycle import NewJob, enqueue_job
from pxm_jobs.queue.models import Job
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import blobs, jobs
from tests.factories import make_stores
from tests.job_api import csv_bytes, only_error, post_import, queue_import
from tests.store_client import StoreClient, sign_in, store_client

KEY = {"Idempotency-Key": "3f0c8f8e-retry-me"}
PRODUCTS = csv_bytes(["name", "sku", "commodity_type"], ["Shoe", "s-1", "physical"])


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def job_count(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(jobs)).scalar_one())


def blob_count(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(blobs)).scalar_one())


def test_a_retried_import_returns_the_first_job_and_stores_the_file_once(
    api: StoreClient, engine: Engine
) -> None:
    first = post_import(api, PRODUCTS, headers=KEY)
    again = post_import(api, PRODUCTS, headers=KEY)
    assert first.status_code == again.status_code == 201
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (job_count(engine), blob_count(engine)) == (1, 1)
    without_key = post_import(api, PRODUCTS)
    assert without_key.json()["data"]["id"] != first.json()["data"]["id"]


def test_the_same_key_with_a_different_request_is_a_422_that_queues_nothing(
    api: StoreClient, engine: Engine
) -> None:
    first = queue_import(api, PRODUCTS, headers=KEY)
    other_file = post_import(api, PRODUCTS + b"Boot,b-1,physical\r\n", headers=KEY)
    assert other_file.status_code == 422
    error = only_error(other_file)
    assert first["id"] in error["detail"] and "new key" in error["detail"]
    assert error["meta"]["header"] == "Idempotency-Key"
    dry_run = post_import(api, PRODUCTS, "?dry_run=true", headers=KEY)
    assert dry_run.status_code == 422, "dry_run changes what is asked"
    export = api.http.post("/pcm/products/export", headers=KEY)
    assert export.status_code == 422, "a key belongs to one kind of request"
    assert (job_count(engine), blob_count(engine)) == (1, 1)


def test_exports_duplicates_and_retries_honour_keys(api: StoreClient, engine: Engine) -> None:
    export = [
        api.http.post("/pcm/products/export?filter=eq(sku,s-1)", headers={"Idempotency-Key": "e"})
        for _ in range(2)
    ]
    assert export[0].json()["data"]["id"] == export[1].json()["data"]["id"]
    other_filter = api.http.post(
        "/pcm/products/export?filter=eq(sku,s-2)", headers={"Idempotency-Key": "e"}
    )
    assert other_filter.status_code == 422

    source = api.http.post(
        "/pcm/hierarchies", json={"data": {"type": "hierarchy", "attributes": {"name": "Shoes"}}}
    ).json()["data"]
    body = {"data": {"type": "hierarchy", "attributes": {"name": "Copy"}}}
    path = f"/pcm/hierarchies/{source['id']}/duplicate_job"
    copies = [api.http.post(path, json=body, headers={"Idempotency-Key": "d"}) for _ in range(2)]
    assert copies[0].status_code == copies[1].status_code == 201
    first_copy, second_copy = (copy.json()["data"] for copy in copies)
    assert first_copy["id"] == second_copy["id"]
    assert first_copy["meta"]["hierarchy_id"] == second_copy["meta"]["hierarchy_id"]
    renamed = {"data": {"type": "hierarchy", "attributes": {"name": "Other"}}}
    assert api.http.post(path, json=renamed, headers={"Idempotency-Key": "d"}).status_code == 422

    cancelled = api.http.post(f"/pcm/jobs/{export[0].json()['data']['id']}/cancel").json()["data"]
    retries = [
        api.http.post(f"/pcm/jobs/{cancelled['id']}/retry", headers={"Idempotency-Key": "r"})
        for _ in range(2)
    ]
    assert retries[0].status_code == retries[1].status_code == 201
    assert retries[0].json()["data"]["id"] == retries[1].json()["data"]["id"]
    assert job_count(engine) == 3


def test_keys_belong_to_their_store(api: StoreClient, engine: Engine) -> None:
    mine = queue_import(api, PRODUCTS, headers=KEY)
    _, token = sign_in(api.http, engine, "another shop")
    theirs = post_import(api, PRODUCTS, headers={**KEY, "Authorization": f"Bearer {token}"})
    assert theirs.status_code == 201 and theirs.json()["data"]["id"] != mine["id"]


def test_a_key_is_free_again_after_24_hours(api: StoreClient, engine: Engine) -> None:
    first = queue_import(api, PRODUCTS, headers=KEY)
    with write_transaction(engine) as connection:
        connection.execute(
            update(jobs)
            .where(jobs.c.id == first["id"])
            .values(created_at=utc_now() - timedelta(hours=24, seconds=1))
        )
    later = post_import(api, PRODUCTS + b"Boot,b-1,physical\r\n", headers=KEY)
    assert later.status_code == 201 and later.json()["data"]["id"] != first["id"]
    again = post_import(api, PRODUCTS + b"Boot,b-1,physical\r\n", headers=KEY)
    assert again.json()["data"]["id"] == later.json()["data"]["id"]


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there"])
def test_an_unusable_key_is_a_400(api: StoreClient, engine: Engine, key: str) -> None:
    response = post_import(api, PRODUCTS, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in only_error(response)["detail"]
    assert job_count(engine) == 0


def test_requests_racing_with_one_key_queue_one_job(engine: Engine) -> None:
    [store] = make_stores(engine, 1)
    fingerprint = fingerprint_request("test-job", {"n": 1})
    new = NewJob(
        store_id=store,
        type="test-job",
        input={},
        meta={},
        idempotency_key="race",
        fingerprint=fingerprint,
    )
    start = threading.Barrier(8)
    created: list[Job] = []
    replayed: list[Job] = []
    lock = threading.Lock()

    def submit() -> None:
        start.wait()
        try:
            with write_transaction(engine) as connection:
                job = enqueue_job(connection, new, utc_now())
            with lock:
                created.append(job)
        except RequestReplayed as replay:
            with lock:
                replayed.append(replay.job)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1 and len(replayed) == 7
    assert {job.id for job in replayed} == {created[0].id}
    assert job_count(engine) == 1
