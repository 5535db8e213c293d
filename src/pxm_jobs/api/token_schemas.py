"""The token endpoint on the wire: its form fields and the token it answers with."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from pydantic import Field

from pxm_jobs.api.common_schemas import PublicModel

# Optional to the framework: a missing field is the tenancy layer's 422, which names the field
# the grant type needs, and an unknown grant type is its 401.
GrantTypeField = Annotated[
    str | None,
    Form(
        description="`client_credentials` for an admin token, `implicit` for a storefront one.",
        examples=["client_credentials"],
    ),
]
ClientIdField = Annotated[str | None, Form(description="The public id of an API key.")]
ClientSecretField = Annotated[
    str | None, Form(description="The key's secret; needed by `client_credentials` only.")
]


class TokenPublic(PublicModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires: int = Field(description="When the token expires, in unix seconds.")
    expires_in: int = Field(description="Seconds from now until it expires.")
    identifier: Literal["client_credentials", "implicit"] = Field(
        description="The grant type the token was issued for."
    )
