"""`page[limit]` and `page[offset]` on every list, and the list envelope they shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import WithJsonSchema

from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.public_url import public_base_url

DEFAULT_PAGE_LIMIT = 25
LIMIT_PARAMETER = "page[limit]"
OFFSET_PARAMETER = "page[offset]"

# Read as text and checked here, not by the framework: a bad value is the contract's 400 naming
# the parameter, and the maxima are settings. The document shows the integers they must be; its
# maxima are set from the settings when it is built (`api/openapi.py`).
PageLimitQuery = Annotated[
    str | None,
    Query(
        alias=LIMIT_PARAMETER,
        description=f"Items per page (default {DEFAULT_PAGE_LIMIT}); otherwise a 400.",
    ),
    WithJsonSchema({"type": "integer", "minimum": 1, "default": DEFAULT_PAGE_LIMIT}),
]
PageOffsetQuery = Annotated[
    str | None,
    Query(alias=OFFSET_PARAMETER, description="Items to skip (default 0); otherwise a 400."),
    WithJsonSchema({"type": "integer", "minimum": 0, "default": 0}),
]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _read_bound(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}")
    return value


def read_page(
    request: Request, limit: PageLimitQuery = None, offset: PageOffsetQuery = None
) -> Page:
    settings = request.app.state.settings
    return Page(
        limit=_read_bound(limit, LIMIT_PARAMETER, DEFAULT_PAGE_LIMIT, 1, settings.page_limit_max),
        offset=_read_bound(offset, OFFSET_PARAMETER, 0, 0, settings.page_offset_max),
    )


PageDep = Annotated[Page, Depends(read_page)]


def list_document(
    request: Request, data: list[dict[str, Any]], total: int, page: Page
) -> dict[str, Any]:
    """`{"data", "meta": {"results", "page"}, "links"}` for one page of a list."""
    last_offset = max(0, (total - 1) // page.limit * page.limit)

    base = public_base_url(request) + request.url.path.lstrip("/")

    def link(offset: int) -> str:
        query = request.url.include_query_params(
            **{OFFSET_PARAMETER: offset, LIMIT_PARAMETER: page.limit}
        ).query
        return f"{base}?{query}"

    links: dict[str, str | None] = {
        "first": link(0),
        "prev": link(max(0, page.offset - page.limit)) if page.offset > 0 else None,
        "next": link(page.offset + page.limit) if page.offset + page.limit < total else None,
        "last": link(last_offset),
    }
    return {
        "data": data,
        "meta": {
            "results": {"total": total},
            "page": {
                "limit": page.limit,
                "offset": page.offset,
                "current": page.offset // page.limit + 1,
                "total": max(1, -(-total // page.limit)),
            },
        },
        "links": links,
    }
