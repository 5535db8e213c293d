"""A SQLite file deleted under a running service: it refuses writes and stops, loudly."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)

EXIT_DATABASE_REPLACED = 3
STOP_TIMEOUT_SECONDS = 30


def test_a_deleted_database_file_stops_the_service(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("only SQLite keeps the database in a file the service opened")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve"], bootstrapped_environment(database_url, port), tmp_path) as process:
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        product = {"name": "Boot", "sku": "B-1", "commodity_type": "physical"}
        document = {"data": {"type": "product", "attributes": product}}
        assert client.http.post("/pcm/products", json=document).status_code == 201
        os.remove(str(make_url(database_url).database))
        refused = client.http.post("/pcm/products", json=document)
        client.close()
        assert refused.status_code == 503, refused.text
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while process.poll() is None:
            assert time.monotonic() < deadline, "the service kept running without its file"
            time.sleep(0.1)
        assert process.returncode == EXIT_DATABASE_REPLACED
        log = process.log_path.read_text()  # type: ignore[attr-defined]
        assert "CRITICAL" in log and "was deleted" in log
