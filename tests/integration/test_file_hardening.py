"""Files in and out: every file the service writes imports back (parts and rejected rows are
capped by bytes too), formula cells are kept or escaped as configured, and uploads that cannot
be read say why."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from tests.store_client import StoreClient, store_client

MAX_BYTES = 12_000
LONG = "x" * 1500


def small(settings: Settings, **extra: Any) -> Settings:
    return settings.model_copy(update={"import_max_bytes": MAX_BYTES, **extra})


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(small(settings), engine) as client:
        yield client


def run_jobs(engine: Engine, settings: Settings) -> None:
    worker = Worker(engine, settings, RUNNERS)
    while (job := worker.claim()) is not None:
        worker.run(job)


def create(api: StoreClient, n: int, name: str | None = None, description: str = LONG) -> None:
    attributes = {
        "name": name or f"Boot {n}",
        "sku": f"B-{n}",
        "commodity_type": "physical",
        "description": description,
        "slug": f"boot-{n}",
    }
    response = api.http.post(
        "/pcm/products", json={"data": {"type": "product", "attributes": attributes}}
    )
    assert response.status_code == 201, response.text


def finished(api: StoreClient, engine: Engine, settings: Settings, response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    run_jobs(engine, settings)
    job: dict[str, Any] = api.http.get(f"/pcm/jobs/{response.json()['data']['id']}").json()["data"]
    return job


def fetch(api: StoreClient, url: str) -> bytes:
    response = api.http.get(url, headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    return response.content


def upload(api: StoreClient, content: bytes, name: str = "f.csv") -> Any:
    return api.http.post("/pcm/products/import", files={"file": (name, content, "text/csv")})


def test_export_parts_are_cut_by_bytes_and_each_imports_back(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    for n in range(20):  # about 30 KB of CSV, in parts of at most 12 KB
        create(api, n)
    job = finished(api, engine, small(settings), api.http.post("/pcm/products/export"))
    assert job["attributes"]["status"] == "success", job
    parts = [fetch(api, url) for url in job["meta"]["file_locations"]]
    assert len(parts) >= 3
    assert all(len(part) <= MAX_BYTES for part in parts)
    rows = [row for part in parts for row in list(csv.reader(io.StringIO(part.decode())))[1:]]
    assert sorted(row[0] for row in rows) == sorted({row[0] for row in rows}) and len(rows) == 20
    for part in parts:
        assert upload(api, part, "part.csv").status_code == 201


def test_a_file_of_rejected_rows_fits_the_import_limit(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    bad_rows = "".join(f"Boot {n},B-{n},vegetable,{'y' * 1000}\n" for n in range(11))
    content = f"name,sku,commodity_type,description\n{bad_rows}".encode()
    assert len(content) <= MAX_BYTES
    job = finished(api, engine, small(settings), upload(api, content))
    assert job["attributes"]["status"] == "failed"
    rejected = fetch(api, job["meta"]["error_file_location"])
    assert len(rejected) <= MAX_BYTES
    assert upload(api, rejected, "rejected_rows.csv").status_code == 201
    # Every row was checked: the progress says so, not the last thousand it reported.
    assert job["meta"]["progress"] == {"processed": 11, "total": 11}


def test_two_file_parts_are_refused(api: StoreClient) -> None:
    files = [("file", ("a.csv", b"name,sku,commodity_type\n")), ("file", ("b.csv", b"x\n"))]
    response = api.http.post("/pcm/products/import", files=files)
    assert response.status_code == 422, response.text
    assert "exactly one" in response.json()["errors"][0]["detail"]


def test_a_utf16_file_is_named_as_such(api: StoreClient) -> None:
    content = "name,sku,commodity_type\nBoot,B-1,physical\n".encode("utf-16")
    response = upload(api, content)
    assert response.status_code == 422, response.text
    detail = response.json()["errors"][0]["detail"]
    assert "UTF-16" in detail and "UTF-8" in detail


FORMULAS = ["=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx", "'=kept", "plain"]


@pytest.mark.parametrize("escape", [False, True])
def test_formula_cells_are_kept_or_escaped_reversibly(
    settings: Settings, engine: Engine, escape: bool
) -> None:
    configured = small(settings, csv_escape_formulas=escape)
    with store_client(configured, engine) as api:
        for n, name in enumerate(FORMULAS):
            create(api, n, name=name, description="d")
        job = finished(api, engine, configured, api.http.post("/pcm/products/export"))
        [part] = [fetch(api, url) for url in job["meta"]["file_locations"]]
        names = [row[2] for row in list(csv.reader(io.StringIO(part.decode(), newline="")))[1:]]
        if escape:
            assert sorted(names) == sorted(
                "'" + name if name != "plain" else name for name in FORMULAS
            )
        else:
            assert sorted(names) == sorted(FORMULAS)  # byte-faithful by default
        # The round trip holds either way: importing the export changes nothing.
        again = finished(api, engine, configured, upload(api, part))
        assert again["attributes"]["status"] == "success", again
        assert again["meta"]["rows"] == {"created": 0, "updated": 0}
