"""Download links: a file's identity, an expiry time and the API key that minted the link,
signed so that no token is needed; revoking the key ends its links too.

The signature is an HMAC-SHA256 under a key derived from the shared signing secret with a label
of its own, so every process verifies any link, and a link signature can never pass for a token
(nor a token for a link). Verification compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from typing import Final

from pxm_jobs.tenancy.errors import InvalidDownloadLink

LINK_KEY_CONTEXT: Final = b"pxm-jobs/download-link/v2"
# A blob id is a UUID, an expiry a whole number and a client id url-safe text: none can hold the
# separator, so no two different links sign the same message.
_FILE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EXPIRES = re.compile(r"0|[1-9][0-9]{0,11}")
_CLIENT_ID = re.compile(r"[^\n]{1,64}")


def sign_download(
    signing_secret: bytes, file_id: str, name: str, expires: int, client_id: str = ""
) -> str:
    """The signature of a link to file `file_id`, saved as `name`, valid until `expires` while
    the key `client_id` is active.

    `expires` is in unix seconds. Without a client id the signature verifies as no link.
    """
    message = f"{file_id}\n{expires}\n{client_id}\n{name}".encode()
    digest = hmac.new(_link_key(signing_secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_download(
    signing_secret: bytes,
    file_id: str,
    name: str,
    expires: str | None,
    signature: str | None,
    now: datetime,
    client_id: str | None = None,
) -> None:
    """Raise InvalidDownloadLink unless this service signed exactly this link and it is live.

    Whether its key is still active is for the caller to check: that takes the database.
    """
    if (
        not signature
        or not client_id
        or _CLIENT_ID.fullmatch(client_id) is None
        or expires is None
        or _FILE_ID.fullmatch(file_id) is None
        or _EXPIRES.fullmatch(expires) is None
    ):
        raise InvalidDownloadLink()
    expected = sign_download(signing_secret, file_id, name, int(expires), client_id)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise InvalidDownloadLink()
    if now.timestamp() >= int(expires):
        raise InvalidDownloadLink(
            "This download link has expired; read the job again for fresh links."
        )


def _link_key(signing_secret: bytes) -> bytes:
    return hmac.new(signing_secret, LINK_KEY_CONTEXT, hashlib.sha256).digest()
