"""The Integrations API: a store's webhooks for job events, their deliveries and their logs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import ReadConnectionDep, SettingsDep, StoreIdDep, WriteConnectionDep
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.integrations.rendering import (
    log_list_document,
    render_delivery,
    render_integration,
    render_log,
)
from pxm_jobs.api.integrations.schemas import (
    IntegrationCreate,
    IntegrationDocument,
    IntegrationJobListDocument,
    IntegrationListDocument,
    IntegrationLogListDocument,
    IntegrationUpdate,
)
from pxm_jobs.api.pagination import Page, PageDep, list_document
from pxm_jobs.catalog.integrations.errors import (
    IntegrationNotFound,
    InvalidIntegration,
)
from pxm_jobs.catalog.integrations.logs import find_delivery_seq, list_deliveries, list_logs
from pxm_jobs.catalog.integrations.records import (
    Integration,
    TargetPolicy,
    create_integration,
    delete_integration,
    get_integration,
    list_integrations,
    update_integration,
)
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings

router = APIRouter(tags=["integrations"])


@contextmanager
def integration_errors_as_http() -> Iterator[None]:
    try:
        yield
    except IntegrationNotFound:
        raise not_found("integration") from None
    except InvalidIntegration as error:
        raise ApiError(
            422, error.detail, title="Failed Validation", meta={"field": error.field}
        ) from None


def target_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy(allow_private=settings.webhook_allow_private_targets)


def find_integration(connection: Connection, store_id: str, integration_id: str) -> Integration:
    found = get_integration(connection, store_id, require_uuid(integration_id, "integration"))
    if found is None:
        raise not_found("integration")
    return found


@router.get("", response_model=IntegrationListDocument, responses=error_responses(400))
def list_store_integrations(
    request: Request, store_id: StoreIdDep, connection: ReadConnectionDep, page: PageDep
) -> dict[str, Any]:
    found, total = list_integrations(connection, store_id, limit=page.limit, offset=page.offset)
    base = str(request.base_url)
    return list_document(request, [render_integration(item, base) for item in found], total, page)


@router.post(
    "", status_code=201, response_model=IntegrationDocument, responses=error_responses(400, 422)
)
def create_store_integration(
    request: Request,
    body: IntegrationCreate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Create a webhook; it is told of the job events it observes from now on."""
    with integration_errors_as_http():
        created = create_integration(
            connection, store_id, body.data.given(), target_policy(settings), utc_now()
        )
    return {"data": render_integration(created, str(request.base_url))}


@router.get("/logs", response_model=IntegrationLogListDocument, responses=error_responses(400))
def list_store_logs(
    request: Request, store_id: StoreIdDep, connection: ReadConnectionDep, page: PageDep
) -> dict[str, Any]:
    """Every delivery attempt of the store's integrations, newest first."""
    found, total = list_logs(connection, store_id, limit=page.limit, offset=page.offset)
    return _logs_document(request, found, total, page)


@router.get("/{integration_id}", response_model=IntegrationDocument, responses=error_responses(404))
def show_integration(
    request: Request, integration_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    found = find_integration(connection, store_id, integration_id)
    return {"data": render_integration(found, str(request.base_url))}


@router.put(
    "/{integration_id}",
    response_model=IntegrationDocument,
    responses=error_responses(400, 404, 422),
)
def update_store_integration(
    request: Request,
    integration_id: str,
    body: IntegrationUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Change the fields given, keep the others; disabling one pauses its deliveries."""
    path_id = require_uuid(integration_id, "integration")
    if body.data.id is not None and body.data.id != path_id:
        raise ApiError(
            422,
            f"data.id {body.data.id!r} does not match the id in the path; leave it out or make "
            "them equal",
            title="Failed Validation",
            meta={"field": "data.id"},
        )
    with integration_errors_as_http():
        updated = update_integration(
            connection, store_id, path_id, body.data.given(), target_policy(settings), utc_now()
        )
    return {"data": render_integration(updated, str(request.base_url))}


@router.delete(
    "/{integration_id}", status_code=204, response_class=Response, responses=error_responses(404)
)
def delete_store_integration(
    integration_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    """Delete the integration with its undelivered events and its logs."""
    with integration_errors_as_http():
        delete_integration(connection, store_id, require_uuid(integration_id, "integration"))
    return Response(status_code=204)


@router.get(
    "/{integration_id}/logs",
    response_model=IntegrationLogListDocument,
    responses=error_responses(400, 404),
)
def list_integration_logs(
    request: Request,
    integration_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    """The integration's delivery attempts, newest first."""
    integration = find_integration(connection, store_id, integration_id)
    found, total = list_logs(
        connection, store_id, integration_id=integration.id, limit=page.limit, offset=page.offset
    )
    return _logs_document(request, found, total, page)


@router.get(
    "/{integration_id}/jobs",
    response_model=IntegrationJobListDocument,
    responses=error_responses(400, 404),
)
def list_integration_jobs(
    request: Request,
    integration_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    """The integration's events ("integration jobs"), newest first, and how each stands."""
    integration = find_integration(connection, store_id, integration_id)
    found, total = list_deliveries(
        connection, store_id, integration.id, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_delivery(item) for item in found], total, page)


@router.get(
    "/{integration_id}/jobs/{integration_job_id}/logs",
    response_model=IntegrationLogListDocument,
    responses=error_responses(400, 404),
)
def list_integration_job_logs(
    request: Request,
    integration_id: str,
    integration_job_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
) -> dict[str, Any]:
    """The attempts at delivering one event, newest first."""
    integration = find_integration(connection, store_id, integration_id)
    delivery_seq = find_delivery_seq(
        connection, store_id, integration.id, require_uuid(integration_job_id, "integration job")
    )
    if delivery_seq is None:
        raise not_found("integration job")
    found, total = list_logs(
        connection, store_id, delivery_seq=delivery_seq, limit=page.limit, offset=page.offset
    )
    return _logs_document(request, found, total, page)


def _logs_document(request: Request, found: list[Any], total: int, page: Page) -> dict[str, Any]:
    return log_list_document(
        list_document(request, [render_log(log) for log in found], total, page)
    )
