"""Client secrets at rest: a slow, salted scrypt hash, never the secret itself.

A stored hash reads `scrypt$<n>$<r>$<p>$<salt>$<digest>` (base64url, no padding), so the cost
can be raised later without breaking hashes already stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Final

SCHEME = "scrypt"
# About 30 ms and 16 MiB per hash: slow enough to make guessing leaked hashes expensive, quick
# enough that a token exchange stays well under a tenth of a second.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
DIGEST_BYTES: Final = 32
# Refuse stored parameters that would need more memory than this, instead of exhausting a process.
SCRYPT_MAX_MEMORY_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class _ScryptHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def hash_client_secret(secret: str) -> str:
    """The string to store for `secret`: scrypt with a fresh random salt and its parameters."""
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return _format(_ScryptHash(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, digest))


def verify_client_secret(secret: str, stored_hash: str) -> bool:
    """Whether `secret` is the one `stored_hash` was made from; False for any unreadable hash."""
    parsed = _parse(stored_hash)
    if parsed is None:
        return False
    try:
        digest = _scrypt(secret, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.digest))
    except ValueError:  # parameters out of range or over the memory limit
        return False
    return hmac.compare_digest(digest, parsed.digest)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, length: int = DIGEST_BYTES) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=SCRYPT_MAX_MEMORY_BYTES,
        dklen=length,
    )


def _format(value: _ScryptHash) -> str:
    return "$".join(
        [SCHEME, str(value.n), str(value.r), str(value.p), _b64(value.salt), _b64(value.digest)]
    )


def _parse(stored_hash: str) -> _ScryptHash | None:
    parts = stored_hash.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:  # binascii.Error is a ValueError too
        return None
    if not salt or not digest:
        return None
    return _ScryptHash(n, r, p, salt, digest)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# Verified against when the client is unknown, so that an unknown client id costs the same time
# as a wrong secret and a caller cannot tell from the clock which client ids exist.
DUMMY_HASH: Final = hash_client_secret(base64.urlsafe_b64encode(os.urandom(30)).decode())
