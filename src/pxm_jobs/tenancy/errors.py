"""What can go wrong in tenancy: one base class, each message its class's docstring.

The API layer maps these to statuses; nothing here knows about HTTP. A `detail` tells a person
what to fix and never carries a secret.
"""

from __future__ import annotations


class TenancyError(Exception):
    """The request was refused by the tenancy rules."""

    detail = "Check the store, key or token sent with the request."

    def __init__(self, detail: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The first line of the class docstring: a short, fixed title for the problem."""
        return (type(self).__doc__ or "").strip().splitlines()[0]


class InvalidClient(TenancyError):
    """Invalid client credentials."""

    # One class and one detail for an unknown client, a wrong secret and a revoked key, so that a
    # caller cannot learn which client ids exist.
    detail = (
        "The client_id and client_secret do not match an active API key of any store; "
        "check both values or ask an operator for a new key."
    )


class UnsupportedGrantType(TenancyError):
    """Unsupported grant type."""

    detail = (
        "Use grant_type=client_credentials with client_id and client_secret for an admin token, "
        "or grant_type=implicit with client_id for a storefront token."
    )


class MissingCredential(TenancyError):
    """A required field is missing."""

    detail = "Send every field the grant type needs."

    def __init__(self, field: str, detail: str) -> None:
        self.field = field  # the form field to send
        super().__init__(detail)


class InvalidToken(TenancyError):
    """Invalid or expired token."""

    detail = (
        "Send 'Authorization: Bearer <token>' with a token from POST /oauth/access_token; "
        "get a new one if it expired."
    )


class UnknownStore(TenancyError):
    """Store not found."""

    detail = "Use the id of an existing store; list them to find it."


class InvalidStoreName(TenancyError):
    """Invalid store name."""

    detail = "Give the store a name of 1 to 255 characters."


class InvalidKeyFormat(TenancyError):
    """Invalid API key format."""

    detail = "Use a client_id of 1 to 64 characters and a non-empty client_secret."


class InvalidDownloadLink(TenancyError):
    """Invalid or expired download link."""

    # One answer for a forged link and an altered one: a caller learns nothing about which part
    # of it was wrong.
    detail = (
        "This download link was not issued by this service or was changed; "
        "read the job again for fresh links."
    )
