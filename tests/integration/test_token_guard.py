"""The token endpoint under abuse: no connection held while hashing, bounded hashing, and
failed attempts throttled per client id and per address with 429 and Retry-After."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pxm_jobs.api import auth
from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.tenancy.stores import StoreCredentials, create_store
from tests.tenants import exchange

WAIT_SECONDS = 30


@pytest.fixture
def guarded(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "token_failures_per_client": "5/minute",
            "token_failures_per_address": "12/minute",
            "token_hash_concurrency": 1,
            "token_hash_queue": 1,
            # Held back or not, a 429 reads the same; `test_a_refusal_is_held_back...` covers it.
            "token_refusal_pause_seconds": 0,
        }
    )


@pytest.fixture
def http(guarded: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(guarded, engine=engine, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def credentials(engine: Engine) -> StoreCredentials:
    with write_transaction(engine) as connection:
        return create_store(connection, "shop")


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["errors"][0]["detail"]


def test_wrong_secrets_for_one_client_id_are_throttled(
    http: TestClient, credentials: StoreCredentials
) -> None:
    client_id = credentials.client_id
    statuses = [
        exchange(http, "client_credentials", client_id, "wrong").status_code for _ in range(5)
    ]
    assert statuses == [401] * 5
    assert_throttled(exchange(http, "client_credentials", client_id, "wrong"))
    # The right secret waits out the window too: a guesser learns nothing from it.
    assert_throttled(exchange(http, "client_credentials", client_id, credentials.client_secret))


def test_failures_from_one_address_are_throttled_whatever_the_client_id(
    http: TestClient, credentials: StoreCredentials
) -> None:
    answers = [
        exchange(http, "client_credentials", f"made-up-{n}", "wrong").status_code for n in range(12)
    ]
    assert answers == [401] * 12
    assert_throttled(exchange(http, "implicit", "made-up-again"))


def test_no_connection_is_held_while_a_secret_is_hashed(
    http: TestClient, engine: Engine, credentials: StoreCredentials, monkeypatch: Any
) -> None:
    hashing, release = threading.Event(), threading.Event()
    checked_out: list[int] = []
    real = auth.authenticate_key

    def slow_check(*args: Any) -> Any:
        hashing.set()
        assert release.wait(WAIT_SECONDS)
        return real(*args)

    monkeypatch.setattr(auth, "authenticate_key", slow_check)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(exchange, http, "client_credentials", credentials.client_id, "x")
        assert hashing.wait(WAIT_SECONDS)
        checked_out.append(engine.pool.checkedout())  # type: ignore[attr-defined]
        second = pool.submit(exchange, http, "client_credentials", credentials.client_id, "y")
        # One hashing, one queued: the next is told to come back rather than pile up.
        while not (http.app.state.token_guard._in_flight >= 2 or second.done()):  # type: ignore[attr-defined]
            threading.Event().wait(0.01)
        assert_throttled(exchange(http, "client_credentials", credentials.client_id, "z"))
        release.set()
        assert first.result().status_code == 401
        assert second.result().status_code == 401
    assert checked_out == [0], "the token request held a database connection while hashing"


def hold_hashing(monkeypatch: Any) -> tuple[threading.Event, threading.Event]:
    """Make every secret check wait for `release`; `hashing` is set once one has begun."""
    hashing, release = threading.Event(), threading.Event()
    real = auth.authenticate_key

    def held_check(*args: Any) -> Any:
        hashing.set()
        assert release.wait(WAIT_SECONDS)
        return real(*args)

    monkeypatch.setattr(auth, "authenticate_key", held_check)
    return hashing, release


def test_exchanges_under_way_count_against_the_address_limit(
    guarded: Settings, engine: Engine, monkeypatch: Any
) -> None:
    """Simultaneous guesses from one address get no more hashes than its limit, even before
    any of them has failed."""
    burst = guarded.model_copy(
        update={"token_failures_per_address": "2/minute", "token_hash_queue": 4}
    )
    hashing, release = hold_hashing(monkeypatch)
    app = create_app(burst, engine=engine, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as http, ThreadPoolExecutor(2) as pool:
        guard = app.state.token_guard
        first = pool.submit(exchange, http, "client_credentials", "guess-1", "x")
        assert hashing.wait(WAIT_SECONDS)
        second = pool.submit(exchange, http, "client_credentials", "guess-2", "x")
        while not (guard._in_flight >= 2 or second.done()):
            threading.Event().wait(0.01)
        # Room in the hashing queue, no failure recorded yet: the two under way fill the limit.
        third = exchange(http, "client_credentials", "guess-3", "x")
        release.set()
        assert first.result().status_code == second.result().status_code == 401
    assert_throttled(third)
    assert "this address" in third.json()["errors"][0]["detail"]


def test_a_throttled_address_is_refused_before_its_request_is_read(http: TestClient) -> None:
    for n in range(12):
        assert exchange(http, "client_credentials", f"made-up-{n}", "wrong").status_code == 401
    # Without a form the endpoint would answer 422; the address is refused before that.
    refused = http.post("/oauth/access_token", headers={"X-Request-ID": "flood-1"})
    assert_throttled(refused)
    assert refused.headers["X-Request-ID"] == "flood-1"
    assert refused.json()["errors"][0]["title"] == "Too Many Requests"
    assert "this address" in refused.json()["errors"][0]["detail"]


def test_a_refusal_is_held_back_without_holding_up_other_requests(
    guarded: Settings, engine: Engine, credentials: StoreCredentials, monkeypatch: Any
) -> None:
    """A 429 waits (at most its Retry-After) before it is sent, and other requests are
    answered meanwhile: the pause holds no thread and not the event loop."""
    app = create_app(guarded, engine=engine, run_worker=False)
    paused, release = threading.Event(), threading.Event()
    pauses: list[int] = []

    async def held_pause(retry_after_seconds: int) -> None:
        pauses.append(retry_after_seconds)
        paused.set()
        while not release.is_set():
            await asyncio.sleep(0.01)

    with TestClient(app, raise_server_exceptions=False) as http, ThreadPoolExecutor(1) as pool:
        for _ in range(5):
            exchange(http, "client_credentials", credentials.client_id, "wrong")
        monkeypatch.setattr(app.state.token_guard, "pause_refusal", held_pause)
        refused = pool.submit(exchange, http, "client_credentials", credentials.client_id, "x")
        assert paused.wait(WAIT_SECONDS)
        try:
            # Another store's key: its client id has no failures to its name.
            with write_transaction(engine) as connection:
                other_store = create_store(connection, "other shop")
            other = exchange(http, "implicit", other_store.client_id)
        finally:
            release.set()
        assert other.status_code == 200, other.text
        assert_throttled(refused.result())
    assert pauses == [int(refused.result().headers["Retry-After"])]


def test_a_client_id_no_key_can_have_is_an_unknown_client(
    http: TestClient, credentials: StoreCredentials
) -> None:
    # A NUL cannot be stored, so no key has one: PostgreSQL is not even asked.
    key = credentials.client_id
    for grant, secret in [("client_credentials", credentials.client_secret), ("implicit", None)]:
        response = exchange(http, grant, key + "\x00", secret)
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["detail"]
    assert exchange(http, "client_credentials", key, credentials.client_secret).status_code == 200
