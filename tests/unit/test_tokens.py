"""Bearer tokens verify only as issued, only with the deployment's secret, only until expiry."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from pxm_jobs.tenancy.errors import InvalidToken
from pxm_jobs.tenancy.tokens import Grant, IssuedToken, issue_token, verify_token

SIGNING_SECRET = b"deployment-signing-secret"
NOW = datetime(2024, 1, 5, 13, 46, 41, 695000, tzinfo=UTC)
LIFETIME_SECONDS = 3600
STORE_ID = "5b4d2f9e-3a4c-4d1b-9f6e-1c2d3e4f5a6b"
CLIENT_ID = "client-abc"


def _issue(grant: Grant = Grant.ADMIN, *, secret: bytes = SIGNING_SECRET) -> IssuedToken:
    return issue_token(
        store_id=STORE_ID,
        client_id=CLIENT_ID,
        grant=grant,
        signing_secret=secret,
        lifetime_seconds=LIFETIME_SECONDS,
        now=NOW,
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, object]:
    segment = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=="))
    return decoded


def test_an_admin_token_round_trips() -> None:
    issued = _issue(Grant.ADMIN)

    claims = verify_token(issued.access_token, SIGNING_SECRET, NOW)

    assert (claims.store_id, claims.client_id, claims.grant) == (STORE_ID, CLIENT_ID, Grant.ADMIN)
    assert claims.issued_at == NOW.replace(microsecond=0)
    assert claims.expires_at == NOW.replace(microsecond=0) + timedelta(seconds=LIFETIME_SECONDS)
    assert issued.identifier == "client_credentials"
    assert issued.expires_in == LIFETIME_SECONDS
    assert issued.expires == int(NOW.timestamp()) + LIFETIME_SECONDS


def test_a_storefront_token_carries_the_storefront_grant() -> None:
    issued = _issue(Grant.STOREFRONT)

    claims = verify_token(issued.access_token, SIGNING_SECRET, NOW)

    assert claims.grant is Grant.STOREFRONT
    assert issued.identifier == "implicit"


def test_every_token_has_its_own_id() -> None:
    first, second = _issue(), _issue()

    assert first.access_token != second.access_token
    first_claims = verify_token(first.access_token, SIGNING_SECRET, NOW)
    second_claims = verify_token(second.access_token, SIGNING_SECRET, NOW)
    assert first_claims.token_id != second_claims.token_id


def test_the_token_is_hidden_from_repr() -> None:
    issued = _issue()

    assert issued.access_token not in repr(issued)


def test_a_token_verifies_until_the_second_it_expires() -> None:
    issued = _issue()
    expiry = datetime.fromtimestamp(issued.expires, UTC)

    verify_token(issued.access_token, SIGNING_SECRET, expiry - timedelta(milliseconds=1))
    with pytest.raises(InvalidToken, match="expired") as raised:
        verify_token(issued.access_token, SIGNING_SECRET, expiry)
    assert "expired" in raised.value.detail
    with pytest.raises(InvalidToken):
        verify_token(issued.access_token, SIGNING_SECRET, expiry + timedelta(days=1))


def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = _issue(secret=b"some-other-deployment")

    with pytest.raises(InvalidToken) as raised:
        verify_token(forged.access_token, SIGNING_SECRET, NOW)
    assert "not issued by this service" in raised.value.detail


def test_an_altered_payload_is_refused() -> None:
    token = _issue(Grant.STOREFRONT).access_token
    header, _payload_segment, signature = token.split(".")
    payload = _payload(token)
    payload["grant"] = "admin"
    payload["store_id"] = "00000000-0000-4000-8000-000000000000"
    altered = ".".join([header, _b64(json.dumps(payload).encode()), signature])

    with pytest.raises(InvalidToken):
        verify_token(altered, SIGNING_SECRET, NOW)


def test_an_unsigned_token_is_refused() -> None:
    payload = _payload(_issue().access_token)
    unsigned = jwt.encode(payload, key=None, algorithm="none")

    with pytest.raises(InvalidToken):
        verify_token(unsigned, SIGNING_SECRET, NOW)


def test_a_token_signed_with_the_raw_secret_is_refused() -> None:
    # Download links are signed with the same secret; a token key derived from it keeps a
    # signature made for one use from passing for the other.
    long_secret = b"a-signing-secret-long-enough-for-hs256-keys"
    payload = _payload(_issue(secret=long_secret).access_token)
    raw_signed = jwt.encode(payload, long_secret, algorithm="HS256")

    with pytest.raises(InvalidToken):
        verify_token(raw_signed, long_secret, NOW)


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "a.b.c", "a.b", "Bearer x.y.z", "....", "é.é.é"],
)
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(token, SIGNING_SECRET, NOW)


def test_the_error_message_never_repeats_the_token() -> None:
    token = _issue(secret=b"other").access_token

    with pytest.raises(InvalidToken) as raised:
        verify_token(token, SIGNING_SECRET, NOW)
    assert token not in str(raised.value)
    assert token not in raised.value.detail
    assert str(raised.value) == "Invalid or expired token."
