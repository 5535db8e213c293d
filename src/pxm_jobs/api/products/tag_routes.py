"""The Tags API: the tags the store's products carry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, StoreIdDep
from pxm_jobs.api.errors import not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.products.schemas import TagDocument, TagListDocument
from pxm_jobs.catalog.products.tags import Tag, get_tag, list_tags
from pxm_jobs.clock import format_timestamp

router = APIRouter(tags=["tags"])


def render_tag(tag: Tag) -> dict[str, Any]:
    return {
        "type": "tag",
        "id": tag.id,
        "attributes": {"value": tag.value},
        "meta": {
            "created_at": format_timestamp(tag.created_at),
            "updated_at": format_timestamp(tag.updated_at),
            "owner": "store",
        },
    }


@router.get("", response_model=TagListDocument, responses=error_responses(400))
def list_store_tags(
    request: Request, store_id: StoreIdDep, connection: ReadConnectionDep, page: PageDep
) -> dict[str, Any]:
    found, total = list_tags(connection, store_id, limit=page.limit, offset=page.offset)
    return list_document(request, [render_tag(tag) for tag in found], total, page)


@router.get("/{tag_id}", response_model=TagDocument, responses=error_responses(404))
def show_tag(tag_id: str, store_id: StoreIdDep, connection: ReadConnectionDep) -> dict[str, Any]:
    tag = get_tag(connection, store_id, require_uuid(tag_id, "tag"))
    if tag is None:
        raise not_found("tag")
    return {"data": render_tag(tag)}
