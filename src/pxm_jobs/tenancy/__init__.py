"""Tenancy: stores, their API keys, the shared signing secret and bearer tokens.

Functions take a SQLAlchemy `Connection` and never commit; the caller owns the transaction.
Nothing here knows about HTTP: the API layer maps `TenancyError` subclasses to statuses.
"""

from pxm_jobs.tenancy.errors import (
    InvalidClient,
    InvalidDownloadLink,
    InvalidKeyFormat,
    InvalidStoreName,
    InvalidToken,
    MissingCredential,
    TenancyError,
    UnknownStore,
    UnsupportedGrantType,
)
from pxm_jobs.tenancy.keys import ApiKey, find_active_key, revoke_key
from pxm_jobs.tenancy.links import sign_download, verify_download
from pxm_jobs.tenancy.signing import load_signing_secret
from pxm_jobs.tenancy.stores import (
    StoreCredentials,
    StoreSummary,
    count_stores,
    create_api_key,
    create_store,
    ensure_store_with_keys,
    list_stores,
)
from pxm_jobs.tenancy.tokens import (
    Grant,
    IssuedToken,
    TokenClaims,
    ensure_key_active,
    exchange_credentials,
    verify_token,
)

__all__ = [
    "ApiKey",
    "Grant",
    "InvalidClient",
    "InvalidDownloadLink",
    "InvalidKeyFormat",
    "InvalidStoreName",
    "InvalidToken",
    "IssuedToken",
    "MissingCredential",
    "StoreCredentials",
    "StoreSummary",
    "TenancyError",
    "TokenClaims",
    "UnknownStore",
    "UnsupportedGrantType",
    "count_stores",
    "create_api_key",
    "create_store",
    "ensure_key_active",
    "ensure_store_with_keys",
    "exchange_credentials",
    "find_active_key",
    "list_stores",
    "load_signing_secret",
    "revoke_key",
    "sign_download",
    "verify_download",
    "verify_token",
]
