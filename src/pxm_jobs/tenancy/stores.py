"""Stores, the tenants of the service, and the keys that open them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, delete, func, insert, select, update

from pxm_jobs.clock import utc_now
from pxm_jobs.store.tables import api_keys, stores
from pxm_jobs.tenancy.errors import InvalidKeyFormat, InvalidStoreName, UnknownStore
from pxm_jobs.tenancy.inserts import insert_if_absent
from pxm_jobs.tenancy.keys import (
    CLIENT_ID_MAX_LENGTH,
    find_key,
    generate_client_id,
    generate_client_secret,
    insert_key,
)
from pxm_jobs.tenancy.secrets import hash_client_secret, verify_client_secret

STORE_NAME_MAX_LENGTH: Final = 255
BOOTSTRAP_STORE_NAME: Final = "bootstrap"


@dataclass(frozen=True)
class StoreCredentials:
    """A new store and its first key; the only time the secret is ever available."""

    store_id: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class StoreSummary:
    id: str
    name: str
    created_at: datetime
    # Client ids of the store's unrevoked keys, oldest first.
    client_ids: tuple[str, ...]


def create_store(connection: Connection, name: str) -> StoreCredentials:
    """A new store with one fresh key."""
    store_id = _insert_store(connection, name)
    client_id, client_secret = generate_client_id(), generate_client_secret()
    insert_key(
        connection,
        store_id=store_id,
        client_id=client_id,
        secret_hash=hash_client_secret(client_secret),
    )
    return StoreCredentials(store_id, client_id, client_secret)


def create_api_key(connection: Connection, store_id: str) -> tuple[str, str]:
    """Another key for an existing store: `(client_id, client_secret)`, the secret shown once."""
    exists = connection.execute(select(stores.c.id).where(stores.c.id == store_id)).first()
    if exists is None:
        raise UnknownStore()
    client_id, client_secret = generate_client_id(), generate_client_secret()
    insert_key(
        connection,
        store_id=store_id,
        client_id=client_id,
        secret_hash=hash_client_secret(client_secret),
    )
    return client_id, client_secret


def list_stores(connection: Connection) -> list[StoreSummary]:
    """Every store, oldest first, with the client ids of its active keys."""
    client_ids: defaultdict[str, list[str]] = defaultdict(list)
    keys = connection.execute(
        select(api_keys.c.store_id, api_keys.c.client_id)
        .where(api_keys.c.revoked_at.is_(None))
        .order_by(api_keys.c.created_at, api_keys.c.client_id)
    )
    for key in keys:
        client_ids[key.store_id].append(key.client_id)
    rows = connection.execute(
        select(stores.c.id, stores.c.name, stores.c.created_at).order_by(
            stores.c.created_at, stores.c.id
        )
    )
    return [
        StoreSummary(row.id, row.name, row.created_at, tuple(client_ids[row.id])) for row in rows
    ]


def count_stores(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(stores)).scalar_one()


def ensure_store_with_keys(
    connection: Connection,
    client_id: str,
    client_secret: str,
    name: str = BOOTSTRAP_STORE_NAME,
) -> str:
    """The id of the store that `client_id` opens, with `client_secret` as its working secret.

    Run at every start with the configured bootstrap keys: the first run creates the store, later
    runs repair a changed secret or a revoked key, and runs racing on one database agree on one
    store. The store's name is only used when it is created.
    """
    _check_key_format(client_id, client_secret)
    key = find_key(connection, client_id)
    if key is None:
        store_id = _insert_store(connection, name)
        inserted = insert_if_absent(
            connection,
            api_keys,
            {
                "client_id": client_id,
                "store_id": store_id,
                "secret_hash": hash_client_secret(client_secret),
                "created_at": utc_now(),
                "revoked_at": None,
            },
        )
        if inserted:
            return store_id
        # Another process created the key first; drop our store and repair theirs below.
        connection.execute(delete(stores).where(stores.c.id == store_id))
        key = find_key(connection, client_id)
        if key is None:
            raise RuntimeError("the bootstrap key vanished right after a conflicting insert")
    changes: dict[str, object] = {}
    if not verify_client_secret(client_secret, key.secret_hash):
        changes["secret_hash"] = hash_client_secret(client_secret)
    if not key.is_active:
        changes["revoked_at"] = None
    if changes:
        connection.execute(
            update(api_keys).where(api_keys.c.client_id == client_id).values(**changes)
        )
    return key.store_id


def _insert_store(connection: Connection, name: str) -> str:
    clean_name = name.strip()
    if not 1 <= len(clean_name) <= STORE_NAME_MAX_LENGTH:
        raise InvalidStoreName(
            f"Give the store a name of 1 to {STORE_NAME_MAX_LENGTH} characters, not only spaces."
        )
    store_id = str(uuid.uuid4())
    connection.execute(insert(stores).values(id=store_id, name=clean_name, created_at=utc_now()))
    return store_id


def _check_key_format(client_id: str, client_secret: str) -> None:
    if not 1 <= len(client_id) <= CLIENT_ID_MAX_LENGTH or client_id.strip() != client_id:
        raise InvalidKeyFormat(
            f"Use a client_id of 1 to {CLIENT_ID_MAX_LENGTH} characters "
            "without leading or trailing spaces."
        )
    if not client_secret:
        raise InvalidKeyFormat("Use a non-empty client_secret.")
