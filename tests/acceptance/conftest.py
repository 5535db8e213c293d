"""A running `pxm-jobs serve` (API plus embedded worker) per test, on each database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    service_environment,
    wait_until_serving,
)


@dataclass
class Service:
    base_url: str
    database_url: str
    directory: Path
    client: Client

    def environment(self, **extra: str) -> dict[str, str]:
        return service_environment(self.database_url, **extra)


def start_service(database_url: str, directory: Path, *arguments: str) -> Iterator[Service]:
    port = free_port()
    environment = bootstrapped_environment(database_url, port)
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve", *arguments], environment, directory) as process:
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        try:
            yield Service(base_url, database_url, directory, client)
        finally:
            client.close()


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    yield from start_service(database_url, tmp_path)


@pytest.fixture
def api_only_service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    yield from start_service(database_url, tmp_path, "--no-worker")
