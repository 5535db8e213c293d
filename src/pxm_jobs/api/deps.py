"""What routes depend on: the engine, a connection, and the caller's store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from pxm_jobs.api.errors import ApiError
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.tenancy.errors import InvalidToken
from pxm_jobs.tenancy.tokens import Grant, TokenClaims, ensure_key_active, verify_token

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# Declares the bearer scheme in /openapi.json. It never refuses a request itself
# (`auto_error=False`): `admin_store_id` does, with the contract's 401 and 403 answers.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    description="An admin token from POST /oauth/access_token (grant_type=client_credentials).",
    auto_error=False,
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def reading_connection(engine: EngineDep) -> Iterator[Connection]:
    with read_transaction(engine) as connection:
        yield connection


def writing_connection(engine: EngineDep, settings: SettingsDep) -> Iterator[Connection]:
    # A lock held by a long job is met with 503 and Retry-After after a short wait.
    with write_transaction(
        engine, lock_wait_seconds=settings.request_lock_wait_seconds
    ) as connection:
        yield connection


ReadConnectionDep = Annotated[Connection, Depends(reading_connection)]
# Committed before the response is sent (FastAPI otherwise ends a yield dependency after it):
# a client told 201 must find what it created on its next request, and a failed commit must
# be the answer, not a 201 already on its way.
WriteConnectionDep = Annotated[Connection, Depends(writing_connection, scope="function")]


def _bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(
            401,
            "this endpoint needs an Authorization: Bearer <token> header; "
            "get a token from POST /oauth/access_token",
            headers=BEARER_CHALLENGE,
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "the Authorization header must be 'Bearer <token>'", headers=BEARER_CHALLENGE
        )
    return token.strip()


def admin_claims(
    request: Request,
    engine: EngineDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> TokenClaims:
    """The claims of an admin (client credentials) token; 401 without one, 403 for storefront."""
    token = _bearer_token(request)
    try:
        claims = verify_token(token, request.app.state.signing_secret, utc_now())
        with read_transaction(engine) as connection:
            ensure_key_active(connection, claims)
    except InvalidToken as error:
        raise ApiError(401, error.detail, headers=BEARER_CHALLENGE) from None
    if claims.grant is not Grant.ADMIN:
        raise ApiError(
            403,
            "storefront (implicit) tokens cannot use admin endpoints; "
            "get a token with grant_type=client_credentials",
            title="Forbidden",
        )
    return claims


AdminClaimsDep = Annotated[TokenClaims, Depends(admin_claims)]


def admin_store_id(claims: AdminClaimsDep) -> str:
    """The store of the caller's admin token."""
    return claims.store_id


StoreIdDep = Annotated[str, Depends(admin_store_id)]
