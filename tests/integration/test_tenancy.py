"""Stores, keys, the signing secret and tokens against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import pytest
from sqlalchemy import Connection, Engine, func, select

from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import api_keys, service_secrets, stores
from pxm_jobs.tenancy.errors import (
    InvalidClient,
    InvalidStoreName,
    InvalidToken,
    MissingCredential,
    UnknownStore,
    UnsupportedGrantType,
)
from pxm_jobs.tenancy.keys import find_active_key, revoke_key
from pxm_jobs.tenancy.signing import load_signing_secret
from pxm_jobs.tenancy.stores import (
    StoreCredentials,
    count_stores,
    create_api_key,
    create_store,
    ensure_store_with_keys,
    list_stores,
)
from pxm_jobs.tenancy.tokens import (
    Grant,
    IssuedToken,
    ensure_key_active,
    exchange_credentials,
    verify_token,
)
from tests.databases import BLOCKED_TIMEOUT_SECONDS, wait_until_blocked

SIGNING_SECRET = b"integration-signing-secret"
LIFETIME_SECONDS = 3600
RACERS = 6

T = TypeVar("T")


def _create_store(engine: Engine, name: str = "Acme") -> StoreCredentials:
    with write_transaction(engine) as connection:
        return create_store(connection, name)


def _exchange(
    engine: Engine,
    grant_type: str | None,
    client_id: str | None,
    client_secret: str | None = None,
) -> IssuedToken:
    with read_transaction(engine) as connection:
        return exchange_credentials(
            connection,
            grant_type=grant_type,
            client_id=client_id,
            client_secret=client_secret,
            signing_secret=SIGNING_SECRET,
            lifetime_seconds=LIFETIME_SECONDS,
            now=utc_now(),
        )


def _revoke(engine: Engine, client_id: str) -> bool:
    with write_transaction(engine) as connection:
        return revoke_key(connection, client_id)


# Stores and keys


def test_a_new_store_is_listed_with_its_key(engine: Engine) -> None:
    credentials = _create_store(engine, "  Acme  ")

    with read_transaction(engine) as connection:
        [summary] = list_stores(connection)
        stored_hash = connection.execute(
            select(api_keys.c.secret_hash).where(api_keys.c.client_id == credentials.client_id)
        ).scalar_one()

    assert summary.id == credentials.store_id
    assert summary.name == "Acme"
    assert summary.client_ids == (credentials.client_id,)
    assert 30 <= len(credentials.client_id) <= 64
    assert len(credentials.client_secret) >= 40
    assert credentials.client_secret not in stored_hash
    assert credentials.client_secret not in repr(credentials)


def test_stores_are_listed_oldest_first_with_every_active_key(engine: Engine) -> None:
    first = _create_store(engine, "First")
    second = _create_store(engine, "Second")
    with write_transaction(engine) as connection:
        extra_id, extra_secret = create_api_key(connection, first.store_id)

    with read_transaction(engine) as connection:
        summaries = list_stores(connection)
        total = count_stores(connection)

    assert total == 2
    assert [summary.id for summary in summaries] == [first.store_id, second.store_id]
    assert summaries[0].client_ids == (first.client_id, extra_id)
    assert summaries[1].client_ids == (second.client_id,)
    claims = verify_token(
        _exchange(engine, "client_credentials", extra_id, extra_secret).access_token,
        SIGNING_SECRET,
        utc_now(),
    )
    assert claims.store_id == first.store_id


def test_a_key_for_an_unknown_store_is_refused(engine: Engine) -> None:
    with write_transaction(engine) as connection, pytest.raises(UnknownStore):
        create_api_key(connection, "00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_a_store_needs_a_sensible_name(engine: Engine, name: str) -> None:
    with write_transaction(engine) as connection, pytest.raises(InvalidStoreName):
        create_store(connection, name)


def test_bootstrap_is_idempotent(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        first = ensure_store_with_keys(connection, "bootstrap-id", "bootstrap-secret")
    with write_transaction(engine) as connection:
        second = ensure_store_with_keys(connection, "bootstrap-id", "bootstrap-secret")
        [summary] = list_stores(connection)

    assert first == second == summary.id
    assert summary.name == "bootstrap"
    assert summary.client_ids == ("bootstrap-id",)
    issued = _exchange(engine, "client_credentials", "bootstrap-id", "bootstrap-secret")
    assert verify_token(issued.access_token, SIGNING_SECRET, utc_now()).store_id == first


def test_bootstrap_replaces_a_changed_secret(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        store_id = ensure_store_with_keys(connection, "bootstrap-id", "old-secret")
    with write_transaction(engine) as connection:
        again = ensure_store_with_keys(connection, "bootstrap-id", "new-secret")
        total = count_stores(connection)

    assert (again, total) == (store_id, 1)
    _exchange(engine, "client_credentials", "bootstrap-id", "new-secret")
    with pytest.raises(InvalidClient):
        _exchange(engine, "client_credentials", "bootstrap-id", "old-secret")


def test_bootstrap_brings_back_a_revoked_key(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        store_id = ensure_store_with_keys(connection, "bootstrap-id", "bootstrap-secret")
    assert _revoke(engine, "bootstrap-id")
    with write_transaction(engine) as connection:
        again = ensure_store_with_keys(connection, "bootstrap-id", "bootstrap-secret")

    assert again == store_id
    _exchange(engine, "client_credentials", "bootstrap-id", "bootstrap-secret")


def test_revoking_a_key_takes_it_out_of_service(engine: Engine) -> None:
    credentials = _create_store(engine)

    assert _revoke(engine, credentials.client_id)
    assert _revoke(engine, credentials.client_id)  # already revoked: still a known key
    assert not _revoke(engine, "no-such-client")
    with read_transaction(engine) as connection:
        assert find_active_key(connection, credentials.client_id) is None
        [summary] = list_stores(connection)
    assert summary.client_ids == ()


# Tokens


def test_client_credentials_give_an_admin_token_for_the_keys_store(engine: Engine) -> None:
    credentials = _create_store(engine)

    issued = _exchange(
        engine, "client_credentials", credentials.client_id, credentials.client_secret
    )
    claims = verify_token(issued.access_token, SIGNING_SECRET, utc_now())

    assert issued.identifier == "client_credentials"
    assert issued.expires_in == LIFETIME_SECONDS
    assert claims.store_id == credentials.store_id
    assert claims.client_id == credentials.client_id
    assert claims.grant is Grant.ADMIN
    with read_transaction(engine) as connection:
        ensure_key_active(connection, claims)


def test_implicit_gives_a_storefront_token_from_the_client_id_alone(engine: Engine) -> None:
    credentials = _create_store(engine)

    issued = _exchange(engine, "implicit", credentials.client_id)
    claims = verify_token(issued.access_token, SIGNING_SECRET, utc_now())

    assert issued.identifier == "implicit"
    assert claims.grant is Grant.STOREFRONT
    assert claims.store_id == credentials.store_id


def test_an_unknown_client_and_a_wrong_secret_look_the_same(engine: Engine) -> None:
    credentials = _create_store(engine)

    with pytest.raises(InvalidClient) as unknown:
        _exchange(engine, "client_credentials", "no-such-client", credentials.client_secret)
    with pytest.raises(InvalidClient) as wrong:
        _exchange(engine, "client_credentials", credentials.client_id, "wrong-secret")
    with pytest.raises(InvalidClient):
        _exchange(engine, "implicit", "no-such-client")

    assert (str(unknown.value), unknown.value.detail) == (str(wrong.value), wrong.value.detail)
    assert credentials.client_secret not in unknown.value.detail


def test_a_revoked_key_gets_no_token_and_its_tokens_stop_working(engine: Engine) -> None:
    credentials = _create_store(engine)
    issued = _exchange(
        engine, "client_credentials", credentials.client_id, credentials.client_secret
    )

    _revoke(engine, credentials.client_id)

    with pytest.raises(InvalidClient):
        _exchange(engine, "client_credentials", credentials.client_id, credentials.client_secret)
    with pytest.raises(InvalidClient):
        _exchange(engine, "implicit", credentials.client_id)
    # The signature is still good; only the per-request key check can refuse the token.
    claims = verify_token(issued.access_token, SIGNING_SECRET, utc_now())
    with read_transaction(engine) as connection, pytest.raises(InvalidToken) as raised:
        ensure_key_active(connection, claims)
    assert "revoked" in raised.value.detail


def test_revoking_one_key_leaves_the_stores_other_keys_working(engine: Engine) -> None:
    credentials = _create_store(engine)
    with write_transaction(engine) as connection:
        other_id, other_secret = create_api_key(connection, credentials.store_id)
    other_claims = verify_token(
        _exchange(engine, "client_credentials", other_id, other_secret).access_token,
        SIGNING_SECRET,
        utc_now(),
    )

    _revoke(engine, credentials.client_id)

    with read_transaction(engine) as connection:
        ensure_key_active(connection, other_claims)


@pytest.mark.parametrize("grant_type", ["password", "refresh_token", "CLIENT_CREDENTIALS"])
def test_an_unknown_grant_type_is_refused(engine: Engine, grant_type: str) -> None:
    credentials = _create_store(engine)

    with pytest.raises(UnsupportedGrantType):
        _exchange(engine, grant_type, credentials.client_id, credentials.client_secret)


@pytest.mark.parametrize(
    ("grant_type", "client_id", "client_secret", "field"),
    [
        (None, "id", "secret", "grant_type"),
        ("client_credentials", None, "secret", "client_id"),
        ("client_credentials", "id", None, "client_secret"),
        ("client_credentials", "id", "", "client_secret"),
        ("implicit", "", None, "client_id"),
    ],
)
def test_a_missing_field_is_named(
    engine: Engine,
    grant_type: str | None,
    client_id: str | None,
    client_secret: str | None,
    field: str,
) -> None:
    with pytest.raises(MissingCredential) as raised:
        _exchange(engine, grant_type, client_id, client_secret)

    assert raised.value.field == field
    assert field in raised.value.detail


@pytest.mark.real_secret_cost
def test_an_unknown_client_costs_as_much_time_as_a_wrong_secret(engine: Engine) -> None:
    credentials = _create_store(engine)
    unknown: list[float] = []
    wrong: list[float] = []

    # Alternate the two so that drift in machine load hits both samples alike.
    for _ in range(15):
        unknown.append(_time_refusal(engine, "no-such-client", credentials.client_secret))
        wrong.append(_time_refusal(engine, credentials.client_id, "wrong-secret"))

    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, f"unknown/wrong median time ratio {ratio:.2f}"


def _time_refusal(engine: Engine, client_id: str, client_secret: str) -> float:
    started = time.perf_counter()
    with pytest.raises(InvalidClient):
        _exchange(engine, "client_credentials", client_id, client_secret)
    return time.perf_counter() - started


# The signing secret


def test_a_configured_signing_secret_wins_and_nothing_is_stored(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        secret = load_signing_secret(connection, "configured-secret")
        stored = connection.execute(select(func.count()).select_from(service_secrets)).scalar()

    assert (secret, stored) == (b"configured-secret", 0)


def test_the_signing_secret_is_created_once_and_kept(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        first = load_signing_secret(connection, None)
    with write_transaction(engine) as connection:
        second = load_signing_secret(connection, None)
        stored = connection.execute(select(func.count()).select_from(service_secrets)).scalar()

    assert first == second
    assert len(first) >= 32
    assert stored == 1


def test_processes_starting_at_once_share_one_signing_secret(engine: Engine) -> None:
    barrier = threading.Barrier(RACERS)

    def load() -> bytes:
        barrier.wait()
        with write_transaction(engine) as connection:
            return load_signing_secret(connection, None)

    with ThreadPoolExecutor(RACERS) as pool:
        values = {future.result() for future in [pool.submit(load) for _ in range(RACERS)]}

    assert len(values) == 1
    with read_transaction(engine) as connection:
        stored = connection.execute(select(service_secrets.c.value)).scalars().all()
    assert [value.encode() for value in stored] == list(values)


def test_a_secret_stored_while_others_look_for_it_is_the_one_they_all_get(
    engine: Engine,
) -> None:
    # Every racer reads no secret, then tries to store its own while the first is uncommitted.
    def load() -> bytes:
        with write_transaction(engine) as connection:
            return load_signing_secret(connection, None)

    with _blocked_behind(engine, load) as (first_connection, racers):
        held = load_signing_secret(first_connection, None)

    assert {racer.result(timeout=BLOCKED_TIMEOUT_SECONDS) for racer in racers} == {held}


def test_servers_bootstrapping_at_once_agree_on_one_store(engine: Engine) -> None:
    def ensure() -> str:
        with write_transaction(engine) as connection:
            return ensure_store_with_keys(connection, "bootstrap-id", "bootstrap-secret")

    with _blocked_behind(engine, ensure) as (first_connection, racers):
        held = ensure_store_with_keys(first_connection, "bootstrap-id", "bootstrap-secret")

    assert {racer.result(timeout=BLOCKED_TIMEOUT_SECONDS) for racer in racers} == {held}
    with read_transaction(engine) as connection:
        assert connection.execute(select(stores.c.id)).scalars().all() == [held]


@contextmanager
def _blocked_behind(
    engine: Engine, call: Callable[[], T]
) -> Iterator[tuple[Connection, list[Future[T]]]]:
    """Run `call` in racing threads that start while the body's write transaction is open.

    The body writes in the transaction it is given; the racers are let go only once each is
    blocked on it (seen in `pg_locks` on PostgreSQL; SQLite queues every writer at BEGIN).
    """
    with ThreadPoolExecutor(RACERS) as pool, write_transaction(engine) as first_connection:
        racers: list[Future[T]] = []
        yield first_connection, racers
        racers.extend(pool.submit(call) for _ in range(RACERS))
        wait_until_blocked(engine, RACERS)
        assert not any(racer.done() for racer in racers)
    assert all(racer.done() for racer in racers)
