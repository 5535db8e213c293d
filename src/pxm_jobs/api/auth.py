"""`POST /oauth/access_token`: bearer tokens for API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, SettingsDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.token_schemas import ClientIdField, ClientSecretField, GrantTypeField, TokenPublic
from pxm_jobs.clock import utc_now
from pxm_jobs.tenancy.errors import MissingCredential, TenancyError
from pxm_jobs.tenancy.tokens import exchange_credentials

router = APIRouter(tags=["authentication"])


@router.post(
    "/oauth/access_token",
    response_model=TokenPublic,
    responses=error_responses(400, 401, 413, 422, 500),
)
def create_access_token(
    request: Request,
    connection: ReadConnectionDep,
    settings: SettingsDep,
    grant_type: GrantTypeField = None,
    client_id: ClientIdField = None,
    client_secret: ClientSecretField = None,
) -> dict[str, Any]:
    """A bearer token: admin for client credentials, storefront for an implicit grant."""
    try:
        token = exchange_credentials(
            connection,
            grant_type=grant_type,
            client_id=client_id,
            client_secret=client_secret,
            signing_secret=request.app.state.signing_secret,
            lifetime_seconds=settings.token_lifetime_seconds,
            now=utc_now(),
        )
    except MissingCredential as error:
        raise ApiError(422, error.detail, title="Failed Validation") from None
    except TenancyError as error:
        raise ApiError(401, error.detail, title=error.message) from None
    return {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires": token.expires,
        "expires_in": token.expires_in,
        "identifier": token.identifier,
    }
