"""What every endpoint shares on the wire: the error envelope, and the meta and links of lists.

Response models, here and in the other `*_schemas.py` modules, describe the documents the
renderers build. Routes name them as `response_model`, so FastAPI checks every answer against
them and `/openapi.json` shows their exact shape. A key a renderer may leave out is typed
`| MISSING`, never `| None`: on this wire an absent key and a null are different answers
(`started_at` is null until a job starts; a product without a description has no key for it).
Public models forbid extra keys, so a key a renderer adds without documenting it fails the tests
instead of vanishing from the answer.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import MISSING, BaseModel, ConfigDict, Field

# A response of the type every OpenAPI operation may declare: FastAPI's `responses=` argument.
Responses = dict[int | str, dict[str, Any]]


class PublicModel(BaseModel):
    """A document or part of one the service sends; exactly these keys, in this order."""

    model_config = ConfigDict(extra="forbid")


class ErrorObject(PublicModel):
    status: str = Field(description="The HTTP status, as a string.", examples=["422"])
    title: str = Field(examples=["Failed Validation"])
    detail: str = Field(description="What to change for the request to succeed.")
    request_id: str | MISSING = Field(
        default=MISSING, description="The X-Request-ID of the request; quote it when reporting."
    )
    meta: dict[str, Any] | MISSING = Field(
        default=MISSING, description="Where the problem is, e.g. the field or parameter."
    )


class ErrorDocument(PublicModel):
    """The JSON:API error envelope every 4xx and 5xx answer carries."""

    errors: list[ErrorObject] = Field(min_length=1)


class ResultsMeta(PublicModel):
    total: int = Field(ge=0, description="How many items the whole list holds.")


class PageMeta(PublicModel):
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    current: int = Field(ge=1, description="The 1-based number of this page.")
    total: int = Field(ge=1, description="How many pages the list has (at least 1).")


class ListMeta(PublicModel):
    results: ResultsMeta
    page: PageMeta


class ListLinks(PublicModel):
    """Absolute URLs of the first, previous, next and last page; null where there is none."""

    first: str
    prev: str | None
    next: str | None
    last: str


class RelatedLink(PublicModel):
    related: str


class RelatedLinks(PublicModel):
    links: RelatedLink


_ERROR_DESCRIPTIONS: Final = {
    400: (
        "A malformed request: HTTP the server cannot read (a bad Content-Length, say), bad"
        " JSON, or a query parameter out of range or unreadable."
    ),
    401: "No bearer token, or one that is malformed, forged, expired or of a revoked key.",
    403: "A storefront (implicit) token on an admin endpoint, or a forged or expired link.",
    404: "No such resource in the caller's store (ids of other stores included).",
    409: "Another resource already holds a value that must be unique; `detail` names it.",
    413: "The request body is larger than allowed.",
    414: "The request line (path and query) is longer than allowed; `detail` gives the limit.",
    422: "The request is well-formed but breaks a rule; `detail` names it.",
    429: "Too many failed token requests lately, or too many at once; see Retry-After.",
    431: "The request has more headers than allowed; `detail` gives the limit.",
    500: "The service failed; the answer carries a request_id and never a stack trace.",
    503: "The database is unavailable or busy for a moment; nothing changed, see Retry-After.",
}


def error_responses(*statuses: int) -> Responses:
    """The OpenAPI `responses` of these error statuses, each with the error envelope.

    The envelope is named by reference rather than as a `model`: FastAPI builds a serializer
    for each model response of each route of each app, a thousand of them for the same
    document, which no answer uses (`install_openapi` adds the envelope's schemas).
    """
    return {
        status: {"description": _ERROR_DESCRIPTIONS[status], "content": _ERROR_CONTENT}
        for status in statuses
    }


_ERROR_CONTENT: Final = {
    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorDocument"}}
}


def error_schemas() -> dict[str, Any]:
    """The OpenAPI component schemas of the error envelope, by name."""
    schema = ErrorDocument.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    return {**schema.pop("$defs", {}), "ErrorDocument": schema}


# Every route can answer these before it runs: the HTTP parser's 400 to a request it cannot read
# and the limits on the request's line and header count (`request_head`).
REQUEST_HEAD_ERRORS: Final = error_responses(400, 414, 431)

# Every /pcm endpoint can answer these: they come from the request's head, the token check, the
# body limit and the last-resort handler and database faults, before or after the route runs.
ADMIN_ERRORS: Final = {**REQUEST_HEAD_ERRORS, **error_responses(401, 403, 413, 500, 503)}
