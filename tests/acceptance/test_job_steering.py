"""The extensions as a user drives them: real API and worker processes, real HTTP, both databases.

An API without a worker takes an import twice under one Idempotency-Key, a waiting request
sees the separate worker process pick the job up, the failed import's rejected rows download
without a token, and the retry (keyed too) succeeds once the conflict is gone.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.acceptance.conftest import Service
from tests.acceptance.service import running

CONTENT = b"name,sku,commodity_type\nTrail shoe,SHOE-1,physical\nRoad shoe,SHOE-2,physical\n"


def wait_until_finished(http: httpx.Client, job_id: str) -> dict[str, Any]:
    """Long-poll with ?wait until the job ends, as a client of the extension would."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = http.get(f"/pcm/jobs/{job_id}", params={"wait": 20}).json()["data"]
        if job["attributes"]["status"] in ("success", "failed", "cancelled"):
            return job
    raise AssertionError(f"job {job_id} did not finish")


def test_keyed_imports_waits_and_retries_across_processes(api_only_service: Service) -> None:
    http = api_only_service.client.http
    taken = http.post(
        "/pcm/products",
        json={
            "data": {
                "type": "product",
                "attributes": {"name": "Old", "sku": "SHOE-1", "commodity_type": "physical"},
            }
        },
    ).json()["data"]
    keyed = {"Idempotency-Key": "import-2024-01-05"}
    files = {"file": ("products.csv", CONTENT, "text/csv")}
    first = http.post("/pcm/products/import", files=files, headers=keyed)
    again = http.post("/pcm/products/import", files=files, headers=keyed)
    assert first.status_code == again.status_code == 201
    job_id = first.json()["data"]["id"]
    assert again.json()["data"]["id"] == job_id
    assert again.headers["Idempotent-Replayed"] == "true"
    assert http.get("/pcm/jobs").json()["meta"]["queue"]["pending"] == 1

    started = time.monotonic()
    still = http.get(f"/pcm/jobs/{job_id}", params={"wait": 0.5}).json()["data"]
    assert still["attributes"]["status"] == "pending" and time.monotonic() - started >= 0.45

    with running(["worker"], api_only_service.environment(), api_only_service.directory):
        failed = wait_until_finished(http, job_id)
        assert failed["attributes"]["status"] == "failed"
        [error] = http.get(f"/pcm/jobs/{job_id}/errors").json()["data"]
        assert error["meta"]["code"] == "already_exists" and error["meta"]["row"] == 2
        rejected = httpx.get(failed["meta"]["error_file_location"])
        assert rejected.status_code == 200
        assert rejected.text.splitlines()[1].endswith("Trail shoe,SHOE-1,physical")

        assert http.delete(f"/pcm/products/{taken['id']}").status_code == 204
        retry_key = {"Idempotency-Key": "retry-2024-01-05"}
        retry = http.post(f"/pcm/jobs/{job_id}/retry", headers=retry_key)
        retried_again = http.post(f"/pcm/jobs/{job_id}/retry", headers=retry_key)
        assert retry.status_code == retried_again.status_code == 201
        retry_id = retry.json()["data"]["id"]
        assert retried_again.json()["data"]["id"] == retry_id
        assert retry.json()["data"]["meta"]["retried_from"] == job_id
        done = wait_until_finished(http, retry_id)
        assert done["attributes"]["status"] == "success"
        assert done["meta"]["rows"] == {"created": 2, "updated": 0}
        assert done["meta"]["progress"] == {"processed": 2, "total": 2}

        metrics = httpx.get(f"{api_only_service.base_url}/metrics").text
        assert 'pxm_jobs_jobs{status="success",type="product-import"} 1.0' in metrics
        assert "pxm_jobs_workers_alive 1.0" in metrics

    products = http.get("/pcm/products", params={"filter": "like(sku,SHOE-*)"}).json()
    assert products["meta"]["results"]["total"] == 2
    assert http.delete(f"/pcm/jobs/{job_id}").status_code == 204
    assert http.get(f"/pcm/jobs/{job_id}").status_code == 404
