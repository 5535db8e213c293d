"""Export as a user runs it: filter, export, download every part without a token, edit a part,
import it back; tampered links refused. Real processes, real HTTP, both databases."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import Service
from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)

ROWS_PER_FILE = 3
PRODUCTS_CSV = (
    "external_ref,name,sku,slug,commodity_type,description,status,upc_ean,tags\r\n"
    'exp-ref-0,"Shoe, ""trail""",exp-0,exp-0,physical,"Two\r\nlines",live,000123,"a,b"\r\n'
    "exp-ref-1,Ботинок,exp-1,exp-1,digital,,draft,,\r\n"
    "exp-ref-2,靴,exp-2,exp-2,physical,Plain,draft,0042,c\r\n"
    "exp-ref-3,Boot 3,exp-3,exp-3,physical,,draft,,\r\n"
    "exp-ref-4,Boot 4,exp-4,exp-4,physical,,draft,,\r\n"
    "exp-ref-5,Boot 5,exp-5,exp-5,physical,,draft,,\r\n"
    "exp-ref-6,Boot 6,exp-6,exp-6,physical,,draft,,\r\n"
    "other-ref,Hat,hat-1,hat-1,physical,,draft,,\r\n"
).encode()


@pytest.fixture
def small_parts_service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    """A service whose exports have parts of a few rows, so that there are several."""
    port = free_port()
    environment = bootstrapped_environment(
        database_url, port, PXM_EXPORT_ROWS_PER_FILE=str(ROWS_PER_FILE)
    )
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve"], environment, tmp_path) as process:
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        try:
            yield Service(base_url, database_url, tmp_path, client)
        finally:
            client.close()


def import_and_wait(client: Client, content: bytes) -> dict[str, Any]:
    created = client.import_csv(content)
    assert created.status_code == 201, created.text
    done = client.wait_for_job(created.json()["data"]["id"])
    assert done["attributes"]["status"] == "success", done
    return done


def products_by_sku(client: Client) -> dict[str, dict[str, Any]]:
    listed = client.http.get("/pcm/products", params={"page[limit]": 100}).json()
    return {item["attributes"]["sku"]: item for item in listed["data"]}


def test_export_download_edit_and_import_back(small_parts_service: Service) -> None:
    service = small_parts_service
    client = service.client
    import_and_wait(client, PRODUCTS_CSV)
    before = products_by_sku(client)

    # As the JavaScript SDK sends it: a JSON content type and no body.
    created = client.http.post(
        "/pcm/products/export",
        params={"filter": "like(sku,exp-*)", "useTemplateSlugs": "false"},
        headers={"Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"]["meta"]["filter"] == "like(sku,exp-*)"
    job = client.wait_for_job(created.json()["data"]["id"])
    assert job["attributes"]["status"] == "success", job
    locations = job["meta"]["file_locations"]
    assert len(locations) == 3

    parts = []
    with httpx.Client(timeout=30) as anonymous:  # no bearer token anywhere
        for url in locations:
            assert url.startswith(service.base_url + "/")
            response = anonymous.get(url)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            assert "attachment" in response.headers["content-disposition"]
            parts.append(response.content)
        tampered = anonymous.get(locations[0].replace("expires=", "expires=9"))
        assert tampered.status_code == 403
        assert tampered.json()["errors"][0]["status"] == "403"

    exported = [list(csv.reader(io.StringIO(part.decode(), newline=""))) for part in parts]
    header = exported[0][0]
    skus = sorted(row[header.index("sku")] for part in exported for row in part[1:])
    assert skus == [f"exp-{n}" for n in range(7)]

    # An unedited part imports back changing nothing.
    unchanged = import_and_wait(client, parts[0])
    assert unchanged["meta"]["rows"] == {"created": 0, "updated": 0}
    assert products_by_sku(client) == before

    # An edited part applies exactly its edit.
    edited = [list(row) for row in exported[1]]
    edited_sku = edited[1][header.index("sku")]
    edited[1][header.index("name")] = "Renamed, with a comma"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(edited)
    applied = import_and_wait(client, buffer.getvalue().encode())
    assert applied["meta"]["rows"] == {"created": 0, "updated": 1}
    after = products_by_sku(client)
    assert after[edited_sku]["attributes"] == {
        **before[edited_sku]["attributes"],
        "name": "Renamed, with a comma",
    }
    assert {sku: item for sku, item in after.items() if sku != edited_sku} == {
        sku: item for sku, item in before.items() if sku != edited_sku
    }
