"""Signed download links: what verifies and what does not, without a database."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.tenancy.errors import InvalidDownloadLink
from pxm_jobs.tenancy.links import sign_download, verify_download
from pxm_jobs.tenancy.tokens import TOKEN_KEY_CONTEXT

SECRET = b"shared-signing-secret"
FILE_ID = "8f0c7c53-3f5e-4f41-9a55-0b8d8b0a5e11"
NAME = "part_1.csv"
NOW = datetime(2024, 1, 5, 13, 46, 41, tzinfo=UTC)
EXPIRES = int((NOW + timedelta(hours=1)).timestamp())
CLIENT_ID = "a-client-id"


def verify(
    *,
    secret: bytes = SECRET,
    file_id: str = FILE_ID,
    name: str = NAME,
    expires: str | None = str(EXPIRES),
    signature: str | None = None,
    now: datetime = NOW,
    client_id: str | None = CLIENT_ID,
) -> None:
    if signature is None:
        signature = sign_download(SECRET, FILE_ID, NAME, EXPIRES, CLIENT_ID)
    verify_download(secret, file_id, name, expires, signature, now, client_id)


def test_a_link_this_service_signed_verifies_until_it_expires() -> None:
    verify()
    verify(now=NOW + timedelta(minutes=59, seconds=59))
    with pytest.raises(InvalidDownloadLink) as raised:
        verify(now=NOW + timedelta(hours=1))
    assert "expired" in raised.value.detail


@pytest.mark.parametrize(
    "changes",
    [
        {"file_id": "8f0c7c53-3f5e-4f41-9a55-0b8d8b0a5e12"},
        {"name": "part_2.csv"},
        {"expires": str(EXPIRES + 3600)},
        {"expires": f"0{EXPIRES}"},
        {"expires": None},
        {"expires": "soon"},
        {"expires": "-1"},
        {"signature": ""},
        {"signature": "A" * 43},
        {"signature": "ünïcode"},
        {"secret": b"another-deployment"},
        {"file_id": FILE_ID.upper()},
        {"file_id": f"{FILE_ID}\n{EXPIRES}"},
        {"client_id": "another-client-id"},
        {"client_id": None},
        {"client_id": ""},
    ],
)
def test_an_altered_or_forged_link_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidDownloadLink) as raised:
        verify(**changes)  # type: ignore[arg-type]
    assert "expired" not in raised.value.detail


def test_link_signatures_use_a_key_of_their_own() -> None:
    """A signature made with the token key (or the raw secret) never verifies as a link."""
    message = f"{FILE_ID}\n{EXPIRES}\n{NAME}".encode()
    for key in (SECRET, hmac.new(SECRET, TOKEN_KEY_CONTEXT, hashlib.sha256).digest()):
        digest = hmac.new(key, message, hashlib.sha256).digest()
        forged = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        with pytest.raises(InvalidDownloadLink):
            verify(signature=forged)


@given(st.text(min_size=1, max_size=40), st.integers(1, 10**12 - 1))
def test_any_name_and_expiry_sign_and_verify(name: str, expires: int) -> None:
    signature = sign_download(SECRET, FILE_ID, name, expires, CLIENT_ID)
    assert signature.isascii() and "=" not in signature
    verify_download(
        SECRET, FILE_ID, name, str(expires), signature, datetime(1970, 1, 1, tzinfo=UTC), CLIENT_ID
    )
