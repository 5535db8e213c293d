"""A user's webhook, end to end: `pxm-jobs serve` (and a `pxm-jobs worker` beside an API-only
one) tells a receiver on loopback of each job's start and end, with the job document the Jobs
API shows, and lists the attempts in the integration's logs."""

from __future__ import annotations

import time
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
from tests.webhook_receiver import Receiver, running_receiver

DEADLINE_SECONDS = 60.0
QUICK_WEBHOOKS = {
    "PXM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "PXM_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
    "PXM_WEBHOOK_TIMEOUT_SECONDS": "2",
    "PXM_WEBHOOK_POLL_SECONDS": "0.1",
}
CSV = b"name,sku,commodity_type\nTrail shoe,SHOE-1,physical\n"


def start(database_url: str, directory: Path, *, separate_worker: bool) -> Iterator[Service]:
    port = free_port()
    environment = bootstrapped_environment(database_url, port, **QUICK_WEBHOOKS)
    base_url = f"http://127.0.0.1:{port}"
    serve = ["serve", "--no-worker"] if separate_worker else ["serve"]
    with running(serve, environment, directory) as process:
        wait_until_serving(base_url, process)
        if not separate_worker:
            yield _signed_in(base_url, database_url, directory)
            return
        with running(["worker"], environment, directory):
            yield _signed_in(base_url, database_url, directory)


def _signed_in(base_url: str, database_url: str, directory: Path) -> Service:
    return Service(base_url, database_url, directory, Client(base_url, CLIENT_ID, CLIENT_SECRET))


@pytest.fixture(params=["serve", "serve --no-worker + worker"])
def service(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Service]:
    for running_service in start(database_url, tmp_path, separate_worker=request.param != "serve"):
        try:
            yield running_service
        finally:
            running_service.client.close()


def wait_for_events(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(receiver.first_arrivals()) < count:
        assert time.monotonic() < deadline, f"only {len(receiver.first_arrivals())} events came"
        time.sleep(0.05)


def without_query(url: str) -> str:
    return url.split("?", 1)[0]


def without_links(job: dict[str, Any]) -> dict[str, Any]:
    return {**job, "meta": {**job["meta"], "result_file_location": None}}


def test_a_webhook_is_told_of_each_job_with_the_job_document(service: Service) -> None:
    http = service.client.http
    answers = iter([500])  # the very first attempt fails, every later one succeeds

    def answer(_number: int, _body: dict[str, Any]) -> int:
        return next(answers, 200)

    with running_receiver(answer) as receiver:
        created = http.post(
            "/v2/integrations",
            json={
                "data": {
                    "type": "integration",
                    "name": "Imports and exports",
                    "integration_type": "webhook",
                    "enabled": True,
                    "observes": ["pim-job.started", "pim-job.succeeded", "pim-job.failed"],
                    "configuration": {"url": receiver.url, "secret_key": "s3cret"},
                }
            },
        )
        assert created.status_code == 201, created.text
        integration = created.json()["data"]
        imported = http.post("/pcm/products/import", files={"file": ("p.csv", CSV, "text/csv")})
        import_id = imported.json()["data"]["id"]
        service.client.wait_for_job(import_id)
        export_id = http.post("/pcm/products/export").json()["data"]["id"]
        service.client.wait_for_job(export_id)
        wait_for_events(receiver, 4)
        events = receiver.first_arrivals()

    told = {
        job_id: [got for got in events if got.job_id == job_id] for job_id in (import_id, export_id)
    }
    for job_events in told.values():
        assert [got.body["triggered_by"] for got in job_events] == [
            "pim-job.started",
            "pim-job.succeeded",
        ]
    assert all(got.headers["x-moltin-secret-key"] == "s3cret" for got in events)
    assert {got.body["integration"]["id"] for got in events} == {integration["id"]}
    shown = http.get(f"/pcm/jobs/{import_id}").json()["data"]
    succeeded = told[import_id][1].body["payload"]["data"]
    # Links are minted on each read: the same file, with its own expiry and signature.
    results = succeeded["meta"]["result_file_location"]
    assert without_query(results) == without_query(shown["meta"]["result_file_location"])
    assert without_links(succeeded) == without_links(shown), "the job document, as shown"
    assert httpx.get(results).content.splitlines()[0] == b"row,id,external_ref,sku,action"
    exported = told[export_id][1].body["payload"]["data"]
    [link] = exported["meta"]["file_locations"]
    assert link.startswith(service.base_url)
    download = httpx.get(link)
    assert download.status_code == 200 and b"SHOE-1" in download.content

    logs = http.get(f"/v2/integrations/{integration['id']}/logs").json()
    attempts = sorted((log["succeeded"], log["status_code"]) for log in logs["data"])
    assert attempts == [(False, 500)] + [(True, 200)] * 4
    jobs = http.get(f"/v2/integrations/{integration['id']}/jobs").json()["data"]
    assert {job["meta"]["status"] for job in jobs} == {"delivered"}
    assert sorted(job["id"] for job in jobs) == sorted(got.event_id for got in events)
