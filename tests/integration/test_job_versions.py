"""ETags and `If-None-Match` on jobs and job lists, and lists that wait for a change
(README "Waiting without polling"), on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.lifecycle import cancel_job
from pxm_jobs.store.engine import write_transaction
from tests.hierarchy_trees import add_products
from tests.job_api import run_jobs
from tests.store_client import StoreClient, store_client

Json = dict[str, Any]


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def queue_export(api: StoreClient) -> Json:
    response = api.http.post("/pcm/products/export")
    assert response.status_code == 201, response.text
    job: Json = response.json()["data"]
    return job


def test_a_job_and_a_list_carry_an_etag_that_answers_304_while_nothing_changed(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = queue_export(api)
    shown = api.http.get(f"/pcm/jobs/{job['id']}")
    listed = api.http.get("/pcm/jobs")
    etag, list_etag = shown.headers["ETag"], listed.headers["ETag"]
    assert etag.startswith('W/"') and list_etag.startswith('W/"')

    again = api.http.get(f"/pcm/jobs/{job['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.content
    assert api.http.get("/pcm/jobs", headers={"If-None-Match": list_etag}).status_code == 304

    run_jobs(engine, settings)
    changed = api.http.get(f"/pcm/jobs/{job['id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json()["data"]["attributes"]["status"] == "success"
    assert api.http.get("/pcm/jobs", headers={"If-None-Match": list_etag}).status_code == 200


def test_a_job_with_links_keeps_its_etag_though_its_links_are_fresh_on_every_read(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    with write_transaction(engine) as connection:
        add_products(connection, api.store_id, 1)  # an export of nothing has no files
    job = queue_export(api)
    run_jobs(engine, settings)
    first = api.http.get(f"/pcm/jobs/{job['id']}")
    assert first.json()["data"]["meta"]["file_locations"]
    second = api.http.get(
        f"/pcm/jobs/{job['id']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert second.status_code == 304


def test_a_waiting_list_answers_when_a_job_of_it_moves(api: StoreClient, engine: Engine) -> None:
    job = queue_export(api)
    etag = api.http.get("/pcm/jobs").headers["ETag"]
    answered = threading.Event()
    result: list[Any] = []

    def wait() -> None:
        result.append(
            api.http.get("/pcm/jobs", params={"wait": 20}, headers={"If-None-Match": etag})
        )
        answered.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    # Nothing changed yet: the list is still waiting.
    assert not answered.wait(0.3)
    started = time.monotonic()
    with write_transaction(engine) as connection:
        cancel_job(connection, api.store_id, job["id"], utc_now())
    assert answered.wait(10)
    waiter.join()
    assert time.monotonic() - started < 1.5, "the cancel rang the list's bell"
    (response,) = result
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert response.json()["data"][0]["attributes"]["status"] == "cancelled"


def test_a_waiting_list_shows_a_job_queued_meanwhile(api: StoreClient) -> None:
    etag = api.http.get("/pcm/jobs").headers["ETag"]
    result: list[Any] = []
    waiter = threading.Thread(
        target=lambda: result.append(
            api.http.get("/pcm/jobs", params={"wait": 20}, headers={"If-None-Match": etag})
        )
    )
    waiter.start()
    job = queue_export(api)
    waiter.join(10)
    (response,) = result
    # Any change of the list's version answers the wait, and the version covers the queue's
    # meta too (pending jobs, live workers), which may change first; a client then waits on
    # the new version, as here, until the job it looks for is in it.
    for _ in range(3):
        if [item["id"] for item in response.json()["data"]] == [job["id"]]:
            break
        response = api.http.get(
            "/pcm/jobs", params={"wait": 20}, headers={"If-None-Match": response.headers["ETag"]}
        )
    assert [item["id"] for item in response.json()["data"]] == [job["id"]]


def test_a_list_whose_version_is_already_new_is_answered_at_once(api: StoreClient) -> None:
    etag = api.http.get("/pcm/jobs").headers["ETag"]
    queue_export(api)
    started = time.monotonic()
    response = api.http.get("/pcm/jobs", params={"wait": 30}, headers={"If-None-Match": etag})
    assert response.status_code == 200 and len(response.json()["data"]) == 1
    assert time.monotonic() - started < 1


def test_a_list_wait_that_runs_out_answers_304(api: StoreClient) -> None:
    queue_export(api)
    etag = api.http.get("/pcm/jobs").headers["ETag"]
    started = time.monotonic()
    response = api.http.get("/pcm/jobs", params={"wait": 0.5}, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert 0.45 <= time.monotonic() - started < 1.5


def test_a_finished_job_with_the_version_given_is_answered_at_once(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    job = queue_export(api)
    run_jobs(engine, settings)
    etag = api.http.get(f"/pcm/jobs/{job['id']}").headers["ETag"]
    started = time.monotonic()
    response = api.http.get(
        f"/pcm/jobs/{job['id']}", params={"wait": 30}, headers={"If-None-Match": etag}
    )
    assert response.status_code == 304 and time.monotonic() - started < 1


def test_the_list_of_another_store_does_not_change_with_this_one(
    api: StoreClient, settings: Settings, engine: Engine
) -> None:
    with store_client(settings, engine) as other:
        etag = other.http.get("/pcm/jobs").headers["ETag"]
        queue_export(api)
        response = other.http.get(
            "/pcm/jobs", params={"wait": 0.5}, headers={"If-None-Match": etag}
        )
        assert response.status_code == 304
