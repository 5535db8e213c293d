"""Products: create, read, change and delete them; queue imports and exports of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import WithJsonSchema
from sqlalchemy import Connection, Engine
from starlette.datastructures import UploadFile

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import (
    EngineDep,
    ReadConnectionDep,
    SettingsDep,
    StoreIdDep,
    WriteConnectionDep,
)
from pxm_jobs.api.downloads import DownloadLinksDep
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.jobs.queueing import (
    REPLAYED_HEADER,
    IdempotencyKeyDep,
    key_reused,
    queue_job,
)
from pxm_jobs.api.jobs.routes import job_document
from pxm_jobs.api.jobs.schemas import JobDocument
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.products.rendering import (
    COMPONENT_PRODUCTS,
    render_included,
    render_products,
)
from pxm_jobs.api.products.schemas import (
    ProductCreate,
    ProductDocument,
    ProductExport,
    ProductListDocument,
    ProductUpdate,
)
from pxm_jobs.api.request_id import request_id_of
from pxm_jobs.catalog.errors import (
    CatalogError,
    ImportFileTooLarge,
    InvalidExportColumns,
    InvalidFilter,
    ProductNotFound,
    ProductRejected,
)
from pxm_jobs.catalog.filters import FilterTerm
from pxm_jobs.catalog.products.error_policy import (
    ErrorPolicy,
    UnknownErrorPolicy,
    read_error_policy,
)
from pxm_jobs.catalog.products.product_filter import parse_product_filter
from pxm_jobs.catalog.products.queries import Product, get_product, list_products
from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.products.writes import create_product, delete_product, update_product
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs.product_export import request_export
from pxm_jobs.jobs.product_import import request_import, store_upload
from pxm_jobs.queue.idempotency import IdempotencyKeyReused, RequestReplayed
from pxm_jobs.queue.lifecycle import enqueue_job
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.reads import get_job
from pxm_jobs.store.engine import read_transaction, write_transaction

router = APIRouter(tags=["products"])

UPLOAD_PART = "file"

ProductFilterQuery = Annotated[
    str | None,
    Query(
        description="Terms `op(attribute,value)` joined by `:`, such as "
        "`eq(sku,abc):like(name,*shoe*):eq(admin_attributes.bin,A-1)`; operators eq, like, "
        "in, and gt, ge, lt, le on id, created_at, updated_at and external_ref. Unusable "
        "ones are a 400.",
    ),
]
IncludeQuery = Annotated[
    str | None,
    Query(description="`component_products`: add the products bundles offer as `included`."),
]
# Read as text so that a bad value is a 400 naming the parameter, like every query parameter.
TemplateSlugsQuery = Annotated[
    str | None,
    Query(alias="useTemplateSlugs", description="Name custom-data columns by template slug."),
    WithJsonSchema({"type": "boolean", "default": False}),
]
ErrorPolicyQuery = Annotated[
    str | None,
    Query(
        description="`reject_everything` (the default, as in Elastic Path): one row with a "
        "problem and nothing is written. `reject_failed_rows`: the rows without problems apply, "
        "the others (and rows tied to them, such as both rows of a duplicate sku) are left out "
        "and listed in the job's errors and its file of rejected rows; the job fails only when "
        "no row is left.",
    ),
    WithJsonSchema({"type": "string", "enum": [policy.value for policy in ErrorPolicy]}),
]
# The upload is read by the route itself, after the token check, with tight form limits; the
# document still has to say what to send.
IMPORT_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [UPLOAD_PART],
                    "properties": {
                        UPLOAD_PART: {
                            "type": "string",
                            "format": "binary",
                            "description": "The CSV file, UTF-8, with a header row naming at "
                            "least name, sku and commodity_type; or a gzip of it, whatever its "
                            "name (the limits apply to the inflated CSV).",
                        }
                    },
                }
            }
        },
    }
}


@router.get("", response_model=ProductListDocument, responses=error_responses(400))
def list_store_products(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: ProductFilterQuery = None,
    include: IncludeQuery = None,
) -> dict[str, Any]:
    filters = read_filter(filter)
    included = _read_include(include)
    found, total = list_products(
        connection, store_id, filters=filters, limit=page.limit, offset=page.offset
    )
    document = list_document(request, render_products(connection, found), total, page)
    if included:
        document["included"] = render_included(connection, store_id, found)
    return document


@router.get("/{product_id}", response_model=ProductDocument, responses=error_responses(400, 404))
def show_product(
    product_id: str,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    include: IncludeQuery = None,
) -> dict[str, Any]:
    included = _read_include(include)
    product = find_product(connection, store_id, product_id)
    document: dict[str, Any] = {"data": render_products(connection, [product])[0]}
    if included:
        document["included"] = render_included(connection, store_id, [product])
    return document


def find_product(connection: Connection, store_id: str, product_id: str) -> Product:
    """The store's product named in the path, or the 404 an unknown or foreign id gets."""
    product = get_product(connection, store_id, require_uuid(product_id, "product"))
    if product is None:
        raise not_found("product")
    return product


def _read_include(raw: str | None) -> bool:
    """Whether `include` asks for component products; anything else it names is a 400."""
    if not raw:
        return False
    names = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = sorted(names - {COMPONENT_PRODUCTS})
    if unknown:
        raise ApiError(
            400,
            f"include={unknown[0]} is not offered; include=component_products is (files and "
            "main images belong to the Files API)",
            meta={"parameter": "include"},
        )
    return bool(names)


@router.post(
    "", status_code=201, response_model=ProductDocument, responses=error_responses(400, 422)
)
def create_store_product(
    body: ProductCreate, store_id: StoreIdDep, connection: WriteConnectionDep, settings: SettingsDep
) -> dict[str, Any]:
    attributes = body.data.attributes.given()
    limits = ProductLimits.from_settings(settings)
    with catalog_errors_as_http():
        product = create_product(
            connection,
            store_id,
            attributes,
            limits=limits,
            now=utc_now(),
            variations=body.data.variation_ids(),
        )
    return {"data": render_products(connection, [product])[0]}


@router.put(
    "/{product_id}", response_model=ProductDocument, responses=error_responses(400, 404, 422)
)
def update_store_product(
    product_id: str,
    body: ProductUpdate,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    path_id = require_uuid(product_id, "product")
    if body.data.id is not None and body.data.id != path_id:
        raise ApiError(
            422,
            f"data.id {body.data.id!r} does not match the product id in the path; "
            "leave it out or make them equal",
            title="Failed Validation",
            meta={"field": "data.id"},
        )
    limits = ProductLimits.from_settings(settings)
    with catalog_errors_as_http():
        product = update_product(
            connection,
            store_id,
            path_id,
            body.data.attributes.given(),
            limits=limits,
            now=utc_now(),
        )
    return {"data": render_products(connection, [product])[0]}


@router.delete(
    "/{product_id}", status_code=204, response_class=Response, responses=error_responses(404)
)
def delete_store_product(
    product_id: str, store_id: StoreIdDep, connection: WriteConnectionDep
) -> Response:
    with catalog_errors_as_http():
        delete_product(connection, store_id, require_uuid(product_id, "product"))
    return Response(status_code=204)


@router.post(
    "/export", status_code=201, response_model=JobDocument, responses=error_responses(400, 422)
)
def export_store_products(
    request: Request,
    response: Response,
    store_id: StoreIdDep,
    connection: WriteConnectionDep,
    links: DownloadLinksDep,
    idempotency_key: IdempotencyKeyDep,
    filter: ProductFilterQuery = None,
    use_template_slugs: TemplateSlugsQuery = None,
    body: ProductExport | None = None,
) -> dict[str, Any]:
    """Check the filter and columns now, and queue a `product-export` job for them."""
    try:
        asked = request_export(
            store_id,
            filter_text=filter,
            columns=body.columns() if body is not None else (),
            use_template_slugs=_read_flag("useTemplateSlugs", use_template_slugs),
            request_id=request_id_of(request),
        )
    except InvalidFilter as error:
        raise ApiError(400, error.detail, meta={"parameter": "filter"}) from None
    except InvalidExportColumns as error:
        raise ApiError(
            422, error.detail, title="Failed Validation", meta={"field": "columns"}
        ) from None
    job = queue_job(connection, asked.keyed(idempotency_key), response, utc_now())
    return {"data": job_document(connection, job, links=links)}


def read_filter(text: str | None, *, required: bool = False) -> list[FilterTerm]:
    """The terms of a product filter; a 400 naming the problem (an empty required one too)."""
    try:
        return parse_product_filter(text or "") if text or required else []
    except InvalidFilter as error:
        raise ApiError(400, error.detail, meta={"parameter": "filter"}) from None


def _read_flag(name: str, raw: str | None) -> bool:
    if raw is None or raw == "":
        return False
    if raw.lower() not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false, got {raw!r}")
    return raw.lower() == "true"


@contextmanager
def catalog_errors_as_http() -> Iterator[None]:
    """A missing product is a 404; a product that breaks the rules a 422 naming the field."""
    try:
        yield
    except ProductNotFound:
        raise not_found("product") from None
    except ProductRejected as error:
        first = error.problems[0] if error.problems else None
        meta = {"field": first.field, "code": first.code} if first and first.field else None
        raise ApiError(422, error.detail, title="Failed Validation", meta=meta) from None


@router.post(
    "/import",
    status_code=201,
    response_model=JobDocument,
    responses=error_responses(400, 422),
    openapi_extra=IMPORT_REQUEST_BODY,
)
async def import_products(
    request: Request,
    response: Response,
    store_id: StoreIdDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKeyDep,
    dry_run: Annotated[
        bool, Query(description="Validate and report as an import would, writing nothing.")
    ] = False,
    error_policy: ErrorPolicyQuery = None,
) -> dict[str, Any]:
    """Check the uploaded CSV now, store it, and queue a `product-import` job for it."""
    try:
        policy = read_error_policy(error_policy)
    except UnknownErrorPolicy as error:
        raise ApiError(400, error.detail, meta={"parameter": "error_policy"}) from None
    form = await request.form(max_files=4, max_fields=16)
    if len(form.getlist(UPLOAD_PART)) > 1:
        # Importing one of them silently would leave the caller guessing which.
        await form.close()
        raise ApiError(
            422,
            f"send exactly one multipart/form-data part named {UPLOAD_PART!r}; "
            f"this request has {len(form.getlist(UPLOAD_PART))}",
            title="Failed Validation",
            meta={"field": UPLOAD_PART},
        )
    upload = form.get(UPLOAD_PART)
    if not isinstance(upload, UploadFile):
        raise ApiError(
            422,
            f"send the CSV file as a multipart/form-data part named {UPLOAD_PART!r}",
            title="Failed Validation",
            meta={"field": UPLOAD_PART},
        )
    settings: Settings = request.app.state.settings
    try:
        job = await run_in_threadpool(
            _store_and_queue,
            engine,
            settings,
            store_id,
            upload.file,
            upload.filename or "import.csv",
            request_id_of(request),
            dry_run,
            policy,
            idempotency_key,
        )
    except RequestReplayed as replayed:
        # The upload was rolled back with the rest: the first request's job is the answer.
        response.headers[REPLAYED_HEADER] = "true"
        job = await run_in_threadpool(_show_replayed, engine, replayed.job)
    except IdempotencyKeyReused as reused:
        raise key_reused(reused) from None
    except ImportFileTooLarge as error:
        raise ApiError(413, error.detail) from None
    except CatalogError as error:
        raise ApiError(422, error.detail, title="Failed Validation") from None
    finally:
        await upload.close()
    return job


def _store_and_queue(
    engine: Engine,
    settings: Settings,
    store_id: str,
    file: BinaryIO,
    filename: str,
    request_id: str | None,
    dry_run: bool,
    error_policy: ErrorPolicy,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """One transaction: a file that fails its checks leaves neither a blob nor a job behind,
    and neither does one whose idempotency key finds the job of an earlier request.
    """
    with write_transaction(
        engine, lock_wait_seconds=settings.request_lock_wait_seconds
    ) as connection:
        upload = store_upload(connection, store_id, file, filename, settings)
        asked = request_import(
            store_id, upload, dry_run=dry_run, request_id=request_id, error_policy=error_policy
        )
        job = enqueue_job(connection, asked.keyed(idempotency_key), utc_now())
        return {"data": job_document(connection, job)}


def _show_replayed(engine: Engine, job: Job) -> dict[str, Any]:
    with read_transaction(engine) as connection:
        current = get_job(connection, job.store_id, job.id) or job
        return {"data": job_document(connection, current)}
