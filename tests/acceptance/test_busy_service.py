"""A large import in flight: the API stays responsive, and SIGTERM lets the job finish."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx

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
from tests.product_files import products_csv

BIG_ROWS = 49_999


def generated_csv(rows: int, prefix: str) -> bytes:
    return products_csv(rows, prefix)


def test_requests_succeed_while_a_large_import_writes(service: Service) -> None:
    client = service.client
    big = client.import_csv(generated_csv(BIG_ROWS, "big"))
    assert big.status_code == 201
    statuses: list[int] = []
    done = threading.Event()

    def keep_asking() -> None:
        with httpx.Client(base_url=service.base_url, headers=client.http.headers) as http:
            while not done.is_set():
                statuses.append(http.get("/pcm/jobs").status_code)
                statuses.append(http.get("/pcm/products", params={"page[limit]": 5}).status_code)

    askers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for asker in askers:
        asker.start()
    small = [client.import_csv(generated_csv(5, f"small{n}")) for n in range(3)]
    finished = client.wait_for_job(big.json()["data"]["id"], timeout=300)
    done.set()
    for asker in askers:
        asker.join()
    assert [response.status_code for response in small] == [201, 201, 201]
    assert finished["attributes"]["status"] == "success"
    assert statuses and set(statuses) == {200}, "no request may fail while the import writes"
    for response in small:
        later = client.wait_for_job(response.json()["data"]["id"])
        assert later["attributes"]["status"] == "success"


def test_sigterm_lets_the_running_import_finish(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    environment = bootstrapped_environment(database_url, port)
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve"], environment, tmp_path) as process:
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        job_id = client.import_csv(generated_csv(BIG_ROWS, "term")).json()["data"]["id"]
        deadline = time.monotonic() + 60
        while client.http.get(f"/pcm/jobs/{job_id}").json()["data"]["attributes"]["status"] == (
            "pending"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        client.close()
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert process.wait(timeout=120) in (0, -signal.SIGTERM)
    with running(["serve", "--no-worker"], environment, tmp_path) as process:
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        job = client.http.get(f"/pcm/jobs/{job_id}").json()["data"]
        client.close()
    assert job["attributes"]["status"] == "success"
    assert job["meta"]["rows"]["created"] == BIG_ROWS
