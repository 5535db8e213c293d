"""One in-process API per test module and database, with a fresh store for each test.

Starting the app and emptying the database for every test costs over a second each; modules
of many small API tests share one app (and one database) instead, and each test signs in to a
store of its own, which no other store's rows can reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine
from tests.databases import copy_sqlite, empty_postgres
from tests.store_client import StoreClient, sign_in


@dataclass(frozen=True)
class ModuleServer:
    app: FastAPI
    engine: Engine
    settings: Settings

    def new_store(self, name: str = "shop") -> StoreClient:
        """A client signed in as the admin of a new, empty store."""
        http = TestClient(self.app, raise_server_exceptions=False)
        store_id, token = sign_in(http, self.engine, name)
        http.headers["Authorization"] = f"Bearer {token}"
        return StoreClient(http, store_id)


def serve_module(
    request: pytest.FixtureRequest, sqlite_template: Path, directory: Path
) -> Iterator[ModuleServer]:
    """The body of a module-scoped fixture parametrized over the databases."""
    if request.param == "sqlite":
        database_url = copy_sqlite(sqlite_template, directory)
    else:
        database_url = request.getfixturevalue("postgres_url")
        emptied = make_engine(Settings(database_url=database_url))
        empty_postgres(emptied)
        emptied.dispose()
    settings = Settings(database_url=database_url, signing_secret="test-signing-secret")
    engine = make_engine(settings)
    app = create_app(settings, engine=engine, run_worker=False)
    try:
        # Entered once, so the app's lifespan runs for the whole module.
        with TestClient(app, raise_server_exceptions=False):
            yield ModuleServer(app, engine, settings)
    finally:
        engine.dispose()
