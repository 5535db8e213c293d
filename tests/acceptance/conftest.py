"""Running `pxm-jobs serve` processes (API plus embedded worker), on each database.

`service` starts one for the test alone. `shared_service` gives the test a store of its own in
a service that such tests share, one per database and test process: stores never see each
other's data, so a test that only talks to its own store needs no process of its own, and
starting one is most of the cost of an acceptance test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine, write_transaction
from pxm_jobs.tenancy.stores import create_store
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
from tests.conftest import DATABASES
from tests.databases import copy_sqlite, fresh_postgres_database


@dataclass
class Service:
    base_url: str
    database_url: str
    directory: Path
    client: Client
    # The keys of the test's store, as its `client` signed in with.
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

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


@dataclass
class RunningService:
    """A service that tests share, and a way into its database to add stores."""

    base_url: str
    database_url: str
    engine: Engine


@pytest.fixture(scope="session", params=DATABASES)
def running_service(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    directory = tmp_path_factory.mktemp("shared-service")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = copy_sqlite(sqlite_template, directory)
        else:
            request.getfixturevalue("postgres_url")  # skips, or fails under CI, without a server
            # A database of its own: other tests empty the test process's one as they begin.
            database_url = stack.enter_context(fresh_postgres_database())
        engine = make_engine(Settings(database_url=database_url))
        stack.callback(engine.dispose)
        service = stack.enter_context(contextmanager(start_service)(database_url, directory))
        yield RunningService(service.base_url, database_url, engine)


@pytest.fixture
def shared_service(running_service: RunningService, tmp_path: Path) -> Iterator[Service]:
    with write_transaction(running_service.engine) as connection:
        store = create_store(connection, f"test-{tmp_path.name}")
    client = Client(running_service.base_url, store.client_id, store.client_secret)
    try:
        yield Service(
            running_service.base_url,
            running_service.database_url,
            tmp_path,
            client,
            store.client_id,
            store.client_secret,
        )
    finally:
        client.close()
