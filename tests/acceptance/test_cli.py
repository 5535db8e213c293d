"""The command line as an operator uses it: stores, keys, and the first start without keys."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.acceptance.conftest import Service
from tests.acceptance.service import (
    Client,
    free_port,
    running,
    service_environment,
    wait_until_serving,
)


def pxm_jobs(service: Service, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pxm_jobs", *arguments],
        env=service.environment(),
        cwd=service.directory,
        capture_output=True,
        text=True,
    )


def test_stores_are_created_listed_and_their_keys_revoked(service: Service) -> None:
    created = pxm_jobs(service, "stores", "create", "Outdoor shop")
    assert created.returncode == 0, created.stderr
    keys = json.loads(created.stdout)
    listed = [json.loads(line) for line in pxm_jobs(service, "stores", "list").stdout.splitlines()]
    mine = [store for store in listed if store["store_id"] == keys["store_id"]]
    assert mine and mine[0]["name"] == "Outdoor shop"
    assert mine[0]["client_ids"] == [keys["client_id"]]

    client = Client(service.base_url, keys["client_id"], keys["client_secret"])
    try:
        assert client.http.get("/pcm/jobs").status_code == 200
        revoked = pxm_jobs(service, "keys", "revoke", keys["client_id"])
        assert revoked.returncode == 0, revoked.stderr
        assert client.http.get("/pcm/jobs").status_code == 401, "a revoked key's token stops"
    finally:
        client.close()
    with httpx.Client(base_url=service.base_url) as anonymous:
        refused = anonymous.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": keys["client_id"],
                "client_secret": keys["client_secret"],
            },
        )
    assert refused.status_code == 401
    unknown = pxm_jobs(service, "keys", "revoke", "no-such-client")
    assert unknown.returncode != 0 and "no-such-client" in unknown.stderr


def test_a_first_start_without_keys_creates_a_store_and_prints_its_keys(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    environment = service_environment(database_url, PXM_PORT=str(port))
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve"], environment, tmp_path) as process:
        wait_until_serving(base_url, process)
        log: Path = process.log_path  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while "client_secret:" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        text = log.read_text()
        client_id = re.search(r"client_id:\s+(\S+)", text)
        client_secret = re.search(r"client_secret:\s+(\S+)", text)
        assert client_id and client_secret
        client = Client(base_url, client_id[1], client_secret[1])
        try:
            assert client.http.get("/pcm/jobs").status_code == 200
        finally:
            client.close()
