"""Access log lines without the credentials some URLs carry.

A download link's `signature` is a credential: whoever has the URL has the file until it
expires. The server's access log writes every request's path and query string, so the values
of such parameters are blanked before a line is written.
"""

from __future__ import annotations

import logging
import re
from typing import Final

ACCESS_LOGGER: Final = "uvicorn.access"
REDACTED: Final = "[redacted]"
_CREDENTIAL_PARAMETER = re.compile(
    r"([?&](?:signature|access_token|client_secret|token)=)[^&\s]*", re.IGNORECASE
)


def redact_credentials(text: str) -> str:
    """`text` with the value of every credential query parameter replaced by `[redacted]`."""
    return _CREDENTIAL_PARAMETER.sub(rf"\g<1>{REDACTED}", text)


class CredentialRedaction(logging.Filter):
    """Blanks credentials in the arguments of a log record, where request paths go."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_credentials(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install_access_log_redaction() -> None:
    """Add the redaction to the access logger, once however many apps a process creates.

    A filter on the logger survives the logging configuration the server applies at start.
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, CredentialRedaction) for existing in logger.filters):
        logger.addFilter(CredentialRedaction())
