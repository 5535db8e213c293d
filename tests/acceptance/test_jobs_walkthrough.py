"""The README walkthrough, as a user runs it: real processes, real HTTP, both databases."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.acceptance.conftest import Service
from tests.acceptance.service import Client, running
from tests.product_files import products_csv

EXAMPLE_CSV = (
    b"external_ref,name,sku,slug,commodity_type,description,status,mpn,upc_ean\n"
    b'tab-0,Tablet 0,tab-sku-0,tab-0,physical,"A blue item, the ""blue"" one",draft,M-0,0400\n'
    b"tab-1,Tablet 1,tab-sku-1,tab-1,digital,Plain,live,M-1,0401\n"
    b"tab-2,Tablet 2,tab-sku-2,tab-2,physical,,LIVE,,\n"
)


@pytest.fixture
def service(shared_service: Service) -> Service:
    """A store of the test's own, in a service that other tests share."""
    return shared_service


def test_import_runs_to_success_and_products_can_be_read(service: Service) -> None:
    client = service.client
    created = client.http.post(
        "/pcm/products/import",
        files={"file": ("products.csv", EXAMPLE_CSV, "text/csv")},
        headers={"X-Request-ID": "walkthrough-1"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["X-Request-ID"] == "walkthrough-1"
    job = created.json()["data"]
    assert job["type"] == "pim-job"
    assert job["attributes"]["type"] == "product-import"
    assert job["attributes"]["status"] == "pending"
    assert job["meta"]["x_request_id"] == "walkthrough-1"

    done = client.wait_for_job(job["id"])
    assert done["attributes"]["status"] == "success", done
    assert done["attributes"]["started_at"] and done["attributes"]["completed_at"]
    assert done["attributes"]["completed_at"].endswith("Z")
    assert done["meta"]["rows"] == {"created": 3, "updated": 0}

    errors = client.http.get(f"/pcm/jobs/{job['id']}/errors").json()
    assert errors["data"] == [] and errors["meta"]["results"]["total"] == 0

    products = client.http.get("/pcm/products", params={"filter": "like(sku,tab-sku-*)"}).json()
    assert products["meta"]["results"]["total"] == 3
    by_sku = {item["attributes"]["sku"]: item for item in products["data"]}
    first = by_sku["tab-sku-0"]["attributes"]
    assert first["description"] == 'A blue item, the "blue" one'
    assert first["upc_ean"] == "0400", "leading zeros are kept"
    assert by_sku["tab-sku-2"]["attributes"]["status"] == "live"
    one = client.http.get(f"/pcm/products/{by_sku['tab-sku-1']['id']}")
    assert one.status_code == 200 and one.json()["data"]["attributes"]["name"] == "Tablet 1"

    listed = client.http.get("/pcm/jobs").json()
    assert [item["id"] for item in listed["data"]] == [job["id"]]
    singular = client.http.get(f"/pcm/job/{job['id']}")
    assert singular.status_code == 200 and singular.json()["data"]["id"] == job["id"]


def test_a_generated_file_of_every_plain_column_imports(service: Service) -> None:
    created = service.client.import_csv(products_csv(5))
    assert created.status_code == 201, created.text
    done = service.client.wait_for_job(created.json()["data"]["id"])
    assert done["attributes"]["status"] == "success"


def test_a_bad_row_fails_the_whole_import_with_located_errors(service: Service) -> None:
    client = service.client
    content = (
        b"name,sku,commodity_type,slug\n"
        b"Good,good-1,physical,good-1\n"
        b"Bad,bad-1,vegetable,bad-1\n"
        b",dup,physical,dup\n"
    )
    created = client.import_csv(content)
    assert created.status_code == 201, created.text
    done = client.wait_for_job(created.json()["data"]["id"])
    assert done["attributes"]["status"] == "failed"
    errors = client.http.get(f"/pcm/jobs/{done['id']}/errors").json()["data"]
    located = {(error["meta"]["row"], error["meta"]["field"]) for error in errors}
    assert (3, "commodity_type") in located
    assert (4, "name") in located
    assert all(
        error["type"] == "pim-job-error" and error["attributes"]["message"] for error in errors
    )
    products = client.http.get("/pcm/products").json()
    assert products["meta"]["results"]["total"] == 0, "a failed import writes nothing"


def test_request_time_checks_create_no_job(service: Service) -> None:
    client = service.client
    missing = client.import_csv(b"name,sku\nA,a\n")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["detail"] == "missing required csv header: commodity_type"
    unknown = client.import_csv(b"name,sku,commodity_type,colour\nA,a,physical,red\n")
    assert unknown.status_code == 422 and "colour" in unknown.json()["errors"][0]["detail"]
    latin1 = client.import_csv("name,sku,commodity_type\nCaf\xe9,a,physical\n".encode("latin-1"))
    assert latin1.status_code == 422
    empty = client.import_csv(b"")
    assert empty.status_code == 422
    no_part = client.http.post(
        "/pcm/products/import", files={"upload": ("x.csv", b"a", "text/csv")}
    )
    assert no_part.status_code == 422
    assert client.http.get("/pcm/jobs").json()["meta"]["results"]["total"] == 0


def test_tokens_are_checked(service: Service) -> None:
    with httpx.Client(base_url=service.base_url) as anonymous:
        unauthorized = anonymous.get("/pcm/jobs")
        assert unauthorized.status_code == 401
        assert unauthorized.json()["errors"][0]["status"] == "401"
        assert unauthorized.headers["X-Request-ID"]
        forged = anonymous.get("/pcm/jobs", headers={"Authorization": "Bearer not.a.token"})
        assert forged.status_code == 401
        storefront = anonymous.post(
            "/oauth/access_token",
            data={"grant_type": "implicit", "client_id": "acceptance-client"},
        )
        assert storefront.status_code == 200 and storefront.json()["identifier"] == "implicit"
        token = storefront.json()["access_token"]
        refused = anonymous.get("/pcm/jobs", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403
        wrong = anonymous.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": "acceptance-client",
                "client_secret": "wrong",
            },
        )
        assert wrong.status_code == 401 and wrong.json()["errors"][0]["detail"]


def test_every_error_is_enveloped(service: Service) -> None:
    client = service.client.http
    unknown = client.get("/pcm/nowhere")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["status"] == "404"
    assert client.delete("/pcm/jobs").json()["errors"][0]["status"] == "405"
    assert client.get("/pcm/jobs/not-a-uuid").status_code == 404
    assert client.get("/pcm/jobs", params={"page[limit]": "1000"}).status_code == 400
    bad_offset = client.get("/pcm/jobs", params={"page[offset]": "x"})
    assert bad_offset.status_code == 400 and "page[offset]" in bad_offset.text
    sdk_style = client.get("/pcm/jobs?page[limit]=5&page[total_method]=exact")
    assert sdk_style.status_code == 200


def test_stores_never_see_each_others_jobs(service: Service) -> None:
    created = service.client.import_csv(products_csv(5))
    job_id = created.json()["data"]["id"]
    output = subprocess.run(
        [sys.executable, "-m", "pxm_jobs", "stores", "create", "other"],
        env=service.environment(),
        cwd=service.directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    keys = json.loads(output)
    assert set(keys) == {"store_id", "client_id", "client_secret"}
    other = Client(service.base_url, keys["client_id"], keys["client_secret"])
    try:
        assert other.http.get(f"/pcm/jobs/{job_id}").status_code == 404
        assert other.http.post(f"/pcm/jobs/{job_id}/cancel").status_code == 404
        assert other.http.get(f"/pcm/jobs/{job_id}/errors").status_code == 404
        assert other.http.get("/pcm/jobs").json()["meta"]["results"]["total"] == 0
    finally:
        other.close()


def test_pending_jobs_cancel_and_a_separate_worker_runs_the_rest(
    api_only_service: Service,
) -> None:
    client = api_only_service.client
    first = client.import_csv(products_csv(5)).json()["data"]
    second = client.import_csv(EXAMPLE_CSV).json()["data"]
    shown = client.http.get(f"/pcm/jobs/{second['id']}").json()["data"]
    assert shown["meta"]["queue_position"] == 2
    queue = client.http.get("/pcm/jobs").json()["meta"]["queue"]
    assert queue["pending"] == 2 and queue["workers_alive"] == 0

    cancelled = client.http.post(f"/pcm/jobs/{first['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["attributes"]["status"] == "cancelled"
    again = client.http.post(f"/pcm/job/{first['id']}/cancel", json={})
    assert again.status_code == 200

    environment = api_only_service.environment()
    with running(["worker"], environment, api_only_service.directory):
        done = client.wait_for_job(second["id"])
    assert done["attributes"]["status"] == "success"
    late = client.http.post(f"/pcm/jobs/{second['id']}/cancel")
    assert late.status_code == 422
    assert "success" in late.json()["errors"][0]["detail"]
    never_ran = client.http.get(f"/pcm/jobs/{first['id']}").json()["data"]
    assert never_ran["attributes"]["status"] == "cancelled"
    assert never_ran["attributes"]["started_at"] is None
