"""`POST /oauth/access_token`: bearer tokens for API keys.

The key is looked up in a short transaction of its own, and the secret checked after it has
ended, on the token guard's pool: a flood of wrong secrets holds no database connection and no
thread that other requests need.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from pxm_jobs.api.common_schemas import REQUEST_HEAD_ERRORS, error_responses
from pxm_jobs.api.deps import EngineDep, SettingsDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.token_guard import TokenGuard
from pxm_jobs.api.token_schemas import ClientIdField, ClientSecretField, GrantTypeField, TokenPublic
from pxm_jobs.catalog.text_rules import is_storable
from pxm_jobs.clock import utc_now
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.tenancy.errors import InvalidClient, MissingCredential, TenancyError
from pxm_jobs.tenancy.keys import ApiKey, find_active_key
from pxm_jobs.tenancy.tokens import (
    authenticate_key,
    check_token_request,
    grant_for,
    issue_token,
    needs_secret,
)

router = APIRouter(tags=["authentication"])


@router.post(
    "/oauth/access_token",
    response_model=TokenPublic,
    responses={**REQUEST_HEAD_ERRORS, **error_responses(401, 413, 422, 429, 500, 503)},
)
async def create_access_token(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    grant_type: GrantTypeField = None,
    client_id: ClientIdField = None,
    client_secret: ClientSecretField = None,
) -> dict[str, Any]:
    """A bearer token: admin for client credentials, storefront for an implicit grant."""
    try:
        check_token_request(grant_type, client_id, client_secret)
    except MissingCredential as error:
        raise ApiError(422, error.detail, title="Failed Validation") from None
    except TenancyError as error:
        raise ApiError(401, error.detail, title=error.message) from None
    assert grant_type is not None and client_id is not None
    guard: TokenGuard = request.app.state.token_guard
    address = request.client.host if request.client else "unknown"
    async with guard.exchange(client_id, address):
        found = await run_in_threadpool(_find_key, engine, client_id)
        check = partial(authenticate_key, found, grant_type, client_secret)
        try:
            key = await guard.hash(check) if needs_secret(grant_type) else check()
        except InvalidClient as error:
            guard.record_failure(client_id, address)
            raise ApiError(401, error.detail, title=error.message) from None
    token = issue_token(
        store_id=key.store_id,
        client_id=key.client_id,
        grant=grant_for(grant_type),
        signing_secret=request.app.state.signing_secret,
        lifetime_seconds=settings.token_lifetime_seconds,
        now=utc_now(),
    )
    return {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires": token.expires,
        "expires_in": token.expires_in,
        "identifier": token.identifier,
    }


def _find_key(engine: Engine, client_id: str) -> ApiKey | None:
    if not is_storable(client_id):
        return None  # no key has a NUL in its id, and PostgreSQL would refuse to look
    with read_transaction(engine) as connection:
        return find_active_key(connection, client_id)
