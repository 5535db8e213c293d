"""API keys: a public client id and a secret kept only as a slow hash; revocable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from secrets import token_urlsafe
from typing import Any, Final

from sqlalchemy import Connection, Row, insert, select, update

from pxm_jobs.clock import utc_now
from pxm_jobs.store.tables import api_keys

CLIENT_ID_MAX_LENGTH: Final = 64
# Random bytes behind each generated value: about 32 and 40 url-safe characters.
CLIENT_ID_BYTES: Final = 24
CLIENT_SECRET_BYTES: Final = 30


@dataclass(frozen=True)
class ApiKey:
    client_id: str
    store_id: str
    secret_hash: str = field(repr=False)
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_row(cls, row: Row[Any]) -> ApiKey:
        return cls(row.client_id, row.store_id, row.secret_hash, row.created_at, row.revoked_at)


def generate_client_id() -> str:
    return _command_line_token(CLIENT_ID_BYTES)


def generate_client_secret() -> str:
    return _command_line_token(CLIENT_SECRET_BYTES)


def _command_line_token(nbytes: int) -> str:
    """A random URL-safe token that does not start with `-`: given to a command
    (`pxm-jobs keys revoke <client_id>`), one that did would be taken for an option. Drawing
    again keeps the others equally likely; one draw in 64 starts with `-`."""
    while (token := token_urlsafe(nbytes)).startswith("-"):
        pass
    return token


def find_key(connection: Connection, client_id: str) -> ApiKey | None:
    """The key with this client id, revoked or not."""
    row = connection.execute(select(api_keys).where(api_keys.c.client_id == client_id)).first()
    return None if row is None else ApiKey.from_row(row)


def find_active_key(connection: Connection, client_id: str) -> ApiKey | None:
    """The key with this client id if it exists and is not revoked."""
    row = connection.execute(
        select(api_keys).where(api_keys.c.client_id == client_id, api_keys.c.revoked_at.is_(None))
    ).first()
    return None if row is None else ApiKey.from_row(row)


def find_oldest_active_key(connection: Connection, store_id: str) -> str | None:
    """The client id of the store's oldest key that is not revoked; None if it has none."""
    found = connection.execute(
        select(api_keys.c.client_id)
        .where(api_keys.c.store_id == store_id, api_keys.c.revoked_at.is_(None))
        .order_by(api_keys.c.created_at, api_keys.c.client_id)
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else str(found)


def insert_key(connection: Connection, *, store_id: str, client_id: str, secret_hash: str) -> None:
    """Add a key to a store; the caller has hashed the secret and checked the store exists."""
    connection.execute(
        insert(api_keys).values(
            client_id=client_id,
            store_id=store_id,
            secret_hash=secret_hash,
            created_at=utc_now(),
            revoked_at=None,
        )
    )


def revoke_key(connection: Connection, client_id: str) -> bool:
    """Stop the key working, tokens already issued with it included; False if it is unknown.

    Revoking a revoked key changes nothing and answers True: the key exists and is revoked.
    """
    connection.execute(
        update(api_keys)
        .where(api_keys.c.client_id == client_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return find_key(connection, client_id) is not None
