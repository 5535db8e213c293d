"""The modifiers of a variation option: create, read, change, delete and list them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, SettingsDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.variations.errors import catalog_errors_as_http
from pxm_jobs.api.variations.option_routes import OPTION_PATH, find_option
from pxm_jobs.api.variations.rendering import render_modifier
from pxm_jobs.api.variations.schemas import (
    ModifierCreate,
    ModifierDocument,
    ModifierListDocument,
    ModifierUpdate,
)
from pxm_jobs.api.variations.variation_routes import refuse_other_id
from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.variations.modifiers import (
    create_modifier,
    delete_modifier,
    get_modifier,
    list_modifiers,
    update_modifier,
)
from pxm_jobs.clock import utc_now

router = APIRouter(tags=["variations"])

MODIFIERS_PATH = OPTION_PATH + "/modifiers"
# Named apart from price books' `{modifier_id}`: another resource, another id.
MODIFIER_PATH = MODIFIERS_PATH + "/{variation_modifier_id}"


@router.get(
    MODIFIERS_PATH, response_model=ModifierListDocument, responses=error_responses(400, 404)
)
def list_option_modifiers(
    request: Request,
    variation_id: str,
    option_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    """The option's modifiers, oldest first."""
    option = find_option(connection, store_id, variation_id, option_id)
    found, total = list_modifiers(
        connection, store_id, option.id, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_modifier(item) for item in found], total, page)


@router.post(
    MODIFIERS_PATH,
    status_code=201,
    response_model=ModifierDocument,
    responses=error_responses(400, 404, 422),
)
def create_option_modifier(
    variation_id: str,
    option_id: str,
    body: ModifierCreate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """One modifier of each type per option; a second of a type is a 422."""
    with catalog_errors_as_http():
        modifier = create_modifier(
            connection,
            store_id,
            require_uuid(variation_id, "variation"),
            require_uuid(option_id, "variation option"),
            body.data.attributes.given(),
            limits=ProductLimits.from_settings(settings),
            now=utc_now(),
        )
    return {"data": render_modifier(modifier)}


@router.get(MODIFIER_PATH, response_model=ModifierDocument, responses=error_responses(404))
def show_option_modifier(
    variation_id: str,
    option_id: str,
    variation_modifier_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
) -> dict[str, Any]:
    option = find_option(connection, store_id, variation_id, option_id)
    modifier = get_modifier(
        connection, store_id, option.id, require_uuid(variation_modifier_id, "modifier")
    )
    if modifier is None:
        raise not_found("modifier")
    return {"data": render_modifier(modifier)}


@router.put(
    MODIFIER_PATH, response_model=ModifierDocument, responses=error_responses(400, 404, 422)
)
def update_option_modifier(
    variation_id: str,
    option_id: str,
    variation_modifier_id: str,
    body: ModifierUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Change the fields given; a modifier that keeps its type keeps the others."""
    path_id = require_uuid(variation_modifier_id, "modifier")
    refuse_other_id(body.data.id, path_id)
    with catalog_errors_as_http():
        modifier = update_modifier(
            connection,
            store_id,
            require_uuid(variation_id, "variation"),
            require_uuid(option_id, "variation option"),
            path_id,
            body.data.attributes.given(),
            limits=ProductLimits.from_settings(settings),
            now=utc_now(),
        )
    return {"data": render_modifier(modifier)}


@router.delete(
    MODIFIER_PATH, status_code=204, response_class=Response, responses=error_responses(404, 422)
)
def delete_option_modifier(
    variation_id: str,
    option_id: str,
    variation_modifier_id: str,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
) -> Response:
    """A 422 while a product names the modifier's variation (pim.yaml: a modifier in use)."""
    with catalog_errors_as_http():
        delete_modifier(
            connection,
            store_id,
            require_uuid(variation_id, "variation"),
            require_uuid(option_id, "variation option"),
            require_uuid(variation_modifier_id, "modifier"),
        )
    return Response(status_code=204)
