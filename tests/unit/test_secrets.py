"""Client secrets are stored as slow, salted hashes that only the right secret verifies."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from pxm_jobs.tenancy.secrets import (
    DUMMY_HASH,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    hash_client_secret,
    verify_client_secret,
)

pytestmark = pytest.mark.real_secret_cost

SECRET = "s3cret-value-of-forty-characters-or-so-x"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_the_right_secret_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_client_secret(SECRET)

    assert verify_client_secret(SECRET, stored)
    assert not verify_client_secret(SECRET + "x", stored)
    assert not verify_client_secret(SECRET[:-1], stored)
    assert not verify_client_secret("", stored)


def test_the_stored_hash_never_contains_the_secret() -> None:
    stored = hash_client_secret(SECRET)

    assert SECRET not in stored
    assert _b64(SECRET.encode()) not in stored


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_client_secret(SECRET), hash_client_secret(SECRET)

    assert first != second
    assert verify_client_secret(SECRET, first)
    assert verify_client_secret(SECRET, second)


def test_the_parameters_are_kept_in_the_stored_hash() -> None:
    scheme, n, r, p, _salt, _digest = hash_client_secret(SECRET).split("$")

    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P)


def test_a_hash_made_with_other_parameters_still_verifies() -> None:
    # Raising the cost later must not lock out keys hashed with the old cost.
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(SECRET.encode(), salt=salt, n=2**10, r=4, p=2, dklen=32)
    stored = f"scrypt${2**10}$4$2${_b64(salt)}${_b64(digest)}"

    assert verify_client_secret(SECRET, stored)
    assert not verify_client_secret("other", stored)


def test_non_ascii_secrets_round_trip() -> None:
    secret = "pässwörd-密码-🔑"
    stored = hash_client_secret(secret)

    assert verify_client_secret(secret, stored)
    assert not verify_client_secret("passwort-密码-🔑", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-secret",
        "scrypt$16384$8$1$c2FsdA",
        "bcrypt$16384$8$1$c2FsdA$ZGlnZXN0",
        "scrypt$many$8$1$c2FsdA$ZGlnZXN0",
        "scrypt$16384$8$1$$ZGlnZXN0",
        "scrypt$16384$8$1$c2FsdA$",
        "scrypt$16384$8$1$not base64!$ZGlnZXN0",
        "scrypt$3$8$1$c2FsdA$ZGlnZXN0",  # n must be a power of two
        "scrypt$1073741824$8$1$c2FsdA$ZGlnZXN0",  # would need far more memory than allowed
    ],
)
def test_an_unreadable_stored_hash_verifies_nothing(stored: str) -> None:
    assert not verify_client_secret(SECRET, stored)


def test_the_dummy_hash_costs_what_a_real_hash_costs() -> None:
    _scheme, n, r, p, _salt, _digest = DUMMY_HASH.split("$")

    assert (int(n), int(r), int(p)) == (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    assert not verify_client_secret(SECRET, DUMMY_HASH)


def test_hashing_is_deliberately_slow() -> None:
    stored = hash_client_secret(SECRET)
    started = time.perf_counter()
    verify_client_secret(SECRET, stored)
    elapsed = time.perf_counter() - started

    # A fast hash (a plain SHA-256) takes microseconds; scrypt at these settings takes tens of ms.
    assert elapsed > 0.005
    assert elapsed < 1.0
