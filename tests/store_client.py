"""An in-process API client signed in as the admin of a fresh store, for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.tenancy.stores import create_store


@dataclass
class StoreClient:
    http: TestClient
    store_id: str


def sign_in(http: TestClient, engine: Engine, name: str = "shop") -> tuple[str, str]:
    """A new store and an admin token for it: `(store_id, token)`."""
    with write_transaction(engine) as connection:
        credentials = create_store(connection, name)
    response = http.post(
        "/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    return credentials.store_id, str(response.json()["access_token"])


@contextmanager
def store_client(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    """The API without a worker (jobs stay pending unless a test runs them), as a store admin."""
    app = create_app(settings, engine=engine, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as http:
        store_id, token = sign_in(http, engine)
        http.headers["Authorization"] = f"Bearer {token}"
        yield StoreClient(http, store_id)
