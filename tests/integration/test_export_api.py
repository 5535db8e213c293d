"""`POST /pcm/products/export`, the export job as the API shows it, and signed downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import Engine, update

from pxm_jobs.api import downloads
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.blobs import purge_expired_blobs
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import blobs
from pxm_jobs.tenancy.links import sign_download
from tests.store_client import StoreClient, sign_in, store_client

ROWS_PER_FILE = 2


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    small_parts = settings.model_copy(update={"export_rows_per_file": ROWS_PER_FILE})
    with store_client(small_parts, engine) as client:
        yield client


def add_products(api: StoreClient, count: int) -> None:
    for n in range(count):
        document = {
            "data": {
                "type": "product",
                "attributes": {"name": f"Shoe {n}", "sku": f"s-{n}", "commodity_type": "physical"},
            }
        }
        assert api.http.post("/pcm/products", json=document).status_code == 201


def run_jobs(engine: Engine, settings: Settings) -> None:
    """Run every pending job to its end, as the worker would."""
    small_parts = settings.model_copy(update={"export_rows_per_file": ROWS_PER_FILE})
    worker = Worker(engine, small_parts, RUNNERS)
    while (job := worker.claim()) is not None:
        worker.run(job)


def start_export(api: StoreClient, query: str = "", **kwargs: Any) -> dict[str, Any]:
    response = api.http.post(f"/pcm/products/export{query}", **kwargs)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()["data"]
    return job


def finished_export(
    api: StoreClient, engine: Engine, settings: Settings, query: str = "", **kwargs: Any
) -> dict[str, Any]:
    job = start_export(api, query, **kwargs)
    run_jobs(engine, settings)
    shown: dict[str, Any] = api.http.get(f"/pcm/jobs/{job['id']}").json()["data"]
    assert shown["attributes"]["status"] == "success", shown
    return shown


def download(api: StoreClient, url: str) -> Any:
    """GET without any credential, as a browser given the link would."""
    return api.http.get(url, headers={"Authorization": ""})


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


def only_error(response: Any) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    error: dict[str, Any] = errors[0]
    return error


def job_count(api: StoreClient) -> int:
    return int(api.http.get("/pcm/jobs").json()["meta"]["results"]["total"])


def test_an_export_is_a_pending_job_that_echoes_its_filter(api: StoreClient) -> None:
    job = start_export(api, "?filter=like(sku,s-*)", headers={"X-Request-ID": "export-1"})
    assert job["type"] == "pim-job"
    assert (job["attributes"]["type"], job["attributes"]["status"]) == ("product-export", "pending")
    assert job["meta"] == {
        "x_request_id": "export-1",
        "filter": "like(sku,s-*)",
        "file_locations": None,
        "queue_position": 1,
    }
    without = start_export(api)
    assert "filter" not in without["meta"] and without["meta"]["file_locations"] is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"headers": {"Content-Type": "application/json"}},
        {"json": {}},
        {"json": {"data": {"type": "product", "attributes": {"columns": ["sku"]}}}},
        {"json": {"data": {"data": {"type": "product", "attributes": {"columns": ["sku"]}}}}},
        {
            "json": {
                "data": {
                    "type": "product-export",
                    "attributes": {"columns": {"include": ["sku", "status"]}},
                }
            }
        },
    ],
    ids=[
        "no-body",
        "sdk-empty-json",
        "empty-object",
        "columns",
        "sdk-double-wrapped-columns",
        "ep-columns-include",
    ],
)
def test_the_bodies_clients_send_are_accepted(
    api: StoreClient, engine: Engine, settings: Settings, kwargs: dict[str, Any]
) -> None:
    add_products(api, 1)
    job = finished_export(api, engine, settings, "?useTemplateSlugs=true", **kwargs)
    [url] = job["meta"]["file_locations"]
    header = rows_of(download(api, url).content)[0]
    if "include" in str(kwargs):
        assert header == ["id", "external_ref", "name", "commodity_type", "sku", "status"]
    elif "columns" in str(kwargs):
        assert header == ["id", "external_ref", "name", "commodity_type", "sku"]
    else:
        assert header[:3] == ["id", "external_ref", "name"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?filter=eq(colour,red)", "'colour'"),
        ("?filter=gt(sku,1)", "gt cannot be used on sku"),
        ("?filter=eq(sku,a", "missing ')'"),
        ("?filter=eq(sku,a,b)", "exactly one value"),
        ("?filter=eq(sku,%00)", "NUL"),
        ("?useTemplateSlugs=maybe", "useTemplateSlugs"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_problem_and_creates_no_job(
    api: StoreClient, query: str, named: str
) -> None:
    response = api.http.post(f"/pcm/products/export{query}")
    assert response.status_code == 400
    assert named in only_error(response)["detail"]
    assert job_count(api) == 0


@pytest.mark.parametrize(
    "document",
    [
        {"data": {"type": "hierarchy", "attributes": {}}},
        {"data": {"type": "product", "attributes": {"columns": ["colour"]}}},
        {"data": {"type": "product", "attributes": {"columns": "sku"}}},
    ],
)
def test_a_bad_body_is_a_422_and_creates_no_job(api: StoreClient, document: Any) -> None:
    response = api.http.post("/pcm/products/export", json=document)
    assert response.status_code == 422, response.text
    assert job_count(api) == 0


def test_every_part_downloads_without_a_token(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    add_products(api, 5)
    job = finished_export(api, engine, settings, "?filter=like(sku,s-*)")
    locations = job["meta"]["file_locations"]
    assert len(locations) == 3
    skus = []
    for number, url in enumerate(locations, start=1):
        assert url.startswith("http://testserver/downloads/")
        assert urlsplit(url).path.endswith(f"/part_{number}.csv")
        response = download(api, url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="part_{number}.csv"'
        )
        assert int(response.headers["content-length"]) == len(response.content)
        header, *rows = rows_of(response.content)
        assert len(rows) <= ROWS_PER_FILE
        skus += [row[header.index("sku")] for row in rows]
    assert sorted(skus) == [f"s-{n}" for n in range(5)]
    assert "_files" not in str(job) and "blob_id" not in str(job)


def test_links_are_minted_afresh_on_every_read(
    api: StoreClient, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_products(api, 1)
    job = finished_export(api, engine, settings)
    [url] = job["meta"]["file_locations"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    now = utc_now().timestamp()
    assert (
        now + settings.download_link_seconds - 5 <= expires <= now + settings.download_link_seconds
    )
    later = utc_now() + timedelta(seconds=settings.download_link_seconds + 1)
    monkeypatch.setattr(downloads, "utc_now", lambda: later)
    expired = download(api, url)
    assert expired.status_code == 403 and "expired" in only_error(expired)["detail"]
    listed = api.http.get("/pcm/jobs").json()["data"]
    [fresh] = listed[0]["meta"]["file_locations"]
    assert fresh != url and download(api, fresh).status_code == 200


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    path = parts.path
    if "path" in changes:
        path = changes.pop("path")
    query.update(changes)
    return parts._replace(path=path, query=urlencode(query)).geturl()


def test_altered_and_forged_links_are_refused(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    add_products(api, 1)
    job = finished_export(api, engine, settings)
    [url] = job["meta"]["file_locations"]
    path = urlsplit(url).path
    file_id = path.split("/")[2]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    other_secret = sign_download(b"some other secret", file_id, "part_1.csv", expires)
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    # Each alteration changes a character for another one: the same one would be no alteration.
    other_first = "y" if signature[0] == "x" else "x"
    other_last = "1" if file_id[-1] == "0" else "0"
    for bad in [
        tampered(url, signature=other_first + signature[1:]),
        tampered(url, expires=str(expires + 86_400)),
        tampered(url, path=path.replace("part_1", "part_2")),
        tampered(url, path=path.replace(file_id, file_id[:-1] + other_last)),
        tampered(url, signature=other_secret),
        url.split("?")[0],
        url.split("&")[0],
    ]:
        response = download(api, bad)
        assert response.status_code == 403, bad
        assert only_error(response)["title"] == "Forbidden"
    assert download(api, url).status_code == 200


def test_files_past_retention_are_not_found_before_and_after_the_purge(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    add_products(api, 1)
    job = finished_export(api, engine, settings)
    with write_transaction(engine) as connection:
        connection.execute(update(blobs).values(expires_at=utc_now() - timedelta(seconds=1)))
    [url] = job["meta"]["file_locations"]
    assert download(api, url).status_code == 404
    with write_transaction(engine) as connection:
        assert purge_expired_blobs(connection, utc_now()) == 1
    [fresh] = api.http.get(f"/pcm/jobs/{job['id']}").json()["data"]["meta"]["file_locations"]
    gone = download(api, fresh)
    assert gone.status_code == 404 and "retention" in only_error(gone)["detail"]


def test_an_export_sees_only_its_stores_products(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    add_products(api, 2)
    _, token = sign_in(api.http, engine, "another shop")
    other = api.http.post(
        "/pcm/products/export", headers={"Authorization": f"Bearer {token}"}
    ).json()["data"]
    run_jobs(engine, settings)
    shown = api.http.get(f"/pcm/jobs/{other['id']}", headers={"Authorization": f"Bearer {token}"})
    assert shown.json()["data"]["meta"]["file_locations"] == [], "as in EP's example"
    assert api.http.get(f"/pcm/jobs/{other['id']}").status_code == 404


def test_a_cancelled_export_has_no_files(api: StoreClient) -> None:
    job = start_export(api)
    cancelled = api.http.post(f"/pcm/jobs/{job['id']}/cancel")
    assert cancelled.json()["data"]["meta"]["file_locations"] is None
