"""Products: read them, and queue imports of them from CSV files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from pxm_jobs.api.deps import EngineDep, ReadConnectionDep, StoreIdDep
from pxm_jobs.api.errors import ApiError, not_found
from pxm_jobs.api.ids import require_uuid
from pxm_jobs.api.jobs import job_document
from pxm_jobs.api.pagination import PageDep, list_document
from pxm_jobs.api.product_rendering import render_product
from pxm_jobs.api.request_id import request_id_of
from pxm_jobs.catalog.errors import CatalogError, ImportFileTooLarge, InvalidFilter
from pxm_jobs.catalog.products import get_product, list_products, parse_product_filter
from pxm_jobs.catalog.upload_check import ImportFileChecker
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.models import JobType
from pxm_jobs.queue.transitions import NewJob, enqueue_job
from pxm_jobs.store.blobs import CHUNK_BYTES, write_blob
from pxm_jobs.store.engine import write_transaction

router = APIRouter(tags=["products"])

UPLOAD_PART = "file"


@router.get("")
def list_store_products(
    request: Request,
    store_id: StoreIdDep,
    connection: ReadConnectionDep,
    page: PageDep,
    filter: str | None = None,
) -> dict[str, Any]:
    try:
        filters = parse_product_filter(filter) if filter else []
    except InvalidFilter as error:
        raise ApiError(400, error.detail) from None
    found, total = list_products(
        connection, store_id, filters=filters, limit=page.limit, offset=page.offset
    )
    return list_document(request, [render_product(product) for product in found], total, page)


@router.get("/{product_id}")
def show_product(
    product_id: str, store_id: StoreIdDep, connection: ReadConnectionDep
) -> dict[str, Any]:
    product = get_product(connection, store_id, require_uuid(product_id, "product"))
    if product is None:
        raise not_found("product")
    return {"data": render_product(product)}


@router.post("/import", status_code=201)
async def import_products(
    request: Request, store_id: StoreIdDep, engine: EngineDep, dry_run: bool = False
) -> dict[str, Any]:
    """Check the uploaded CSV now, store it, and queue a `product-import` job for it."""
    form = await request.form(max_files=4, max_fields=16)
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
        )
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
) -> dict[str, Any]:
    """One transaction: a file that fails its checks leaves neither a blob nor a job behind."""
    checker = ImportFileChecker(settings)

    def checked_chunks() -> Iterator[bytes]:
        while chunk := file.read(CHUNK_BYTES):
            checker.feed(chunk)
            yield chunk

    with write_transaction(engine) as connection:
        blob = write_blob(
            connection,
            store_id=store_id,
            name=filename,
            content_type="text/csv",
            chunks=checked_chunks(),
        )
        summary = checker.finish()
        job_input: dict[str, Any] = {"rows": summary.rows}
        if dry_run:
            job_input["dry_run"] = True
        job = enqueue_job(
            connection,
            NewJob(
                store_id=store_id,
                type=JobType.PRODUCT_IMPORT,
                input=job_input,
                meta={"dry_run": True} if dry_run else {},
                request_id=request_id,
                file_id=blob.id,
            ),
            utc_now(),
        )
        return {"data": job_document(connection, job)}
