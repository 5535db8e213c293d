"""Bearer tokens: issued for API keys, verifiable by any process that holds the signing secret.

A token is a JWT signed with HS256. Its key is derived from the shared signing secret, so every
process of a deployment verifies it without a lookup, while a download-link signature made with
the same secret can never pass for a token. Revocation is checked per request against the key.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

import jwt
from sqlalchemy import Connection, select

from pxm_jobs.store.tables import api_keys
from pxm_jobs.tenancy.errors import (
    InvalidClient,
    InvalidToken,
    MissingCredential,
    UnsupportedGrantType,
)
from pxm_jobs.tenancy.keys import ApiKey, find_active_key
from pxm_jobs.tenancy.secrets import DUMMY_HASH, verify_client_secret

ALGORITHM: Final = "HS256"
ISSUER: Final = "pxm-jobs"
TOKEN_KEY_CONTEXT: Final = b"pxm-jobs/access-token/v1"
CLIENT_CREDENTIALS: Final = "client_credentials"
IMPLICIT: Final = "implicit"


class Grant(StrEnum):
    ADMIN = "admin"  # client_credentials: may call the admin (`/pcm`) endpoints
    STOREFRONT = "storefront"  # implicit: public, read-only storefront access


GRANTS_BY_TYPE: Final = {CLIENT_CREDENTIALS: Grant.ADMIN, IMPLICIT: Grant.STOREFRONT}
GRANT_VALUES: Final = frozenset(grant.value for grant in Grant)
# The last second a datetime can hold, so that reading a claim never overflows.
MAX_UNIX_SECONDS: Final = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires: int  # unix seconds
    expires_in: int  # seconds
    identifier: str  # the grant type it was issued for


@dataclass(frozen=True)
class TokenClaims:
    store_id: str
    client_id: str
    grant: Grant
    token_id: str
    issued_at: datetime
    expires_at: datetime


def exchange_credentials(
    connection: Connection,
    *,
    grant_type: str | None,
    client_id: str | None,
    client_secret: str | None,
    signing_secret: bytes,
    lifetime_seconds: int,
    now: datetime,
) -> IssuedToken:
    """A token for an active key: admin for `client_credentials`, storefront for `implicit`.

    The three steps in one call; the API takes them one by one, so that no database connection
    is held while the secret is hashed.
    """
    check_token_request(grant_type, client_id, client_secret)
    assert grant_type is not None and client_id is not None
    key = authenticate_key(find_active_key(connection, client_id), grant_type, client_secret)
    return issue_token(
        store_id=key.store_id,
        client_id=key.client_id,
        grant=GRANTS_BY_TYPE[grant_type],
        signing_secret=signing_secret,
        lifetime_seconds=lifetime_seconds,
        now=now,
    )


def check_token_request(
    grant_type: str | None, client_id: str | None, client_secret: str | None
) -> None:
    """Raise MissingCredential or UnsupportedGrantType unless the fields fit the grant type."""
    if not grant_type:
        raise MissingCredential(
            "grant_type", "Send grant_type=client_credentials or grant_type=implicit."
        )
    if grant_type not in GRANTS_BY_TYPE:
        raise UnsupportedGrantType()
    if not client_id:
        raise MissingCredential("client_id", f"Send client_id; grant_type={grant_type} needs it.")
    if grant_type == CLIENT_CREDENTIALS and not client_secret:
        raise MissingCredential(
            "client_secret", f"Send client_secret; grant_type={grant_type} needs it."
        )


def needs_secret(grant_type: str) -> bool:
    return grant_type == CLIENT_CREDENTIALS


def authenticate_key(key: ApiKey | None, grant_type: str, client_secret: str | None) -> ApiKey:
    """The key, if the request proves it may use it; raises InvalidClient. Slow (scrypt) for
    client credentials, and as slow whether or not the key exists."""
    if not needs_secret(grant_type):
        # A storefront token needs only the public client id, so there is no secret to check.
        if key is None:
            raise InvalidClient()
        return key
    # Hash even when the key is unknown or revoked, so every refusal costs the same time.
    matches = verify_client_secret(
        client_secret or "", DUMMY_HASH if key is None else key.secret_hash
    )
    if key is None or not matches:
        raise InvalidClient()
    return key


def grant_for(grant_type: str) -> Grant:
    return GRANTS_BY_TYPE[grant_type]


def issue_token(
    *,
    store_id: str,
    client_id: str,
    grant: Grant,
    signing_secret: bytes,
    lifetime_seconds: int,
    now: datetime,
) -> IssuedToken:
    """Sign a token for a key already authenticated; `exchange_credentials` is the way in."""
    issued_at = int(now.timestamp())
    expires = issued_at + lifetime_seconds
    payload = {
        "iss": ISSUER,
        "sub": client_id,
        "store_id": store_id,
        "grant": grant.value,
        "jti": uuid.uuid4().hex,
        "iat": issued_at,
        "exp": expires,
    }
    access_token = jwt.encode(payload, _token_key(signing_secret), algorithm=ALGORITHM)
    identifier = CLIENT_CREDENTIALS if grant is Grant.ADMIN else IMPLICIT
    return IssuedToken(access_token, expires, lifetime_seconds, identifier)


def verify_token(token: str, signing_secret: bytes, now: datetime) -> TokenClaims:
    """The claims of a token this deployment issued and that has not expired at `now`."""
    try:
        payload = jwt.decode(
            token,
            _token_key(signing_secret),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # Time is checked below against the caller's `now`, which PyJWT cannot be given.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidTokenError:
        raise InvalidToken(
            "The token is malformed or was not issued by this service; "
            "get one from POST /oauth/access_token."
        ) from None
    claims = _read_claims(payload)
    if now >= claims.expires_at:
        raise InvalidToken("The token expired; get a new one from POST /oauth/access_token.")
    return claims


def ensure_key_active(connection: Connection, claims: TokenClaims) -> None:
    """Refuse a token whose key has been revoked since it was issued: one primary-key lookup."""
    store_id = connection.execute(
        select(api_keys.c.store_id).where(
            api_keys.c.client_id == claims.client_id, api_keys.c.revoked_at.is_(None)
        )
    ).scalar_one_or_none()
    if store_id != claims.store_id:
        raise InvalidToken(
            "The API key this token was issued for has been revoked; "
            "get a token with an active key."
        )


def _token_key(signing_secret: bytes) -> bytes:
    return hmac.new(signing_secret, TOKEN_KEY_CONTEXT, hashlib.sha256).digest()


def _read_claims(payload: dict[str, Any]) -> TokenClaims:
    store_id, client_id, token_id = payload.get("store_id"), payload.get("sub"), payload.get("jti")
    grant, issued_at, expires = payload.get("grant"), payload.get("iat"), payload.get("exp")
    if not (
        isinstance(store_id, str)
        and isinstance(client_id, str)
        and isinstance(token_id, str)
        and grant in GRANT_VALUES
        and isinstance(issued_at, int)
        and isinstance(expires, int)
        and 0 <= issued_at <= expires <= MAX_UNIX_SECONDS
    ):
        # Only a token signed with our key gets here, so this is a bug or a leaked key.
        raise InvalidToken("The token lacks the claims this service puts in every token.")
    return TokenClaims(
        store_id=store_id,
        client_id=client_id,
        grant=Grant(grant),
        token_id=token_id,
        issued_at=datetime.fromtimestamp(issued_at, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )
