"""The secret every process of a deployment signs tokens and download links with."""

from __future__ import annotations

from secrets import token_urlsafe
from typing import Final

from sqlalchemy import Connection, select

from pxm_jobs.store.tables import service_secrets
from pxm_jobs.tenancy.inserts import insert_if_absent

SIGNING_SECRET_NAME: Final = "signing_secret"
SIGNING_SECRET_BYTES: Final = 32


def load_signing_secret(connection: Connection, configured: str | None) -> bytes:
    """The configured secret, else the one kept in the database, created by the first caller.

    Call it in a write transaction: when many processes start at once on a fresh database,
    exactly one value is stored and every process gets that one.
    """
    if configured:
        return configured.encode("utf-8")
    stored = _read_signing_secret(connection)
    if stored is None:
        insert_if_absent(
            connection,
            service_secrets,
            {"name": SIGNING_SECRET_NAME, "value": token_urlsafe(SIGNING_SECRET_BYTES)},
        )
        # Read back rather than trust our own value: another process may have won the insert.
        stored = _read_signing_secret(connection)
    if stored is None:
        raise RuntimeError("the signing secret vanished right after it was stored")
    return stored.encode("utf-8")


def _read_signing_secret(connection: Connection) -> str | None:
    return connection.execute(
        select(service_secrets.c.value).where(service_secrets.c.name == SIGNING_SECRET_NAME)
    ).scalar_one_or_none()
