"""The price book import: check the uploaded file, store it, and queue a `pricebook-import` job."""

from __future__ import annotations

from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from pxm_jobs.api.common_schemas import error_responses
from pxm_jobs.api.deps import EngineDep, StoreIdDep
from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.jobs.queueing import REPLAYED_HEADER, IdempotencyKeyDep, key_reused
from pxm_jobs.api.jobs.routes import job_document
from pxm_jobs.api.jobs.schemas import JobDocument
from pxm_jobs.api.request_id import request_id_of
from pxm_jobs.catalog.errors import CatalogError, ImportFileTooLarge
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs.pricebook_import import request_import, store_upload
from pxm_jobs.queue.idempotency import IdempotencyKeyReused, RequestReplayed
from pxm_jobs.queue.lifecycle import enqueue_job
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.reads import get_job
from pxm_jobs.store.engine import read_transaction, write_transaction

router = APIRouter(tags=["price books"])

UPLOAD_PART = "file"
# The upload is read by the route itself, after the token check; the document still has to
# say what to send.
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
                            "description": "JSON objects of type pricebook, product-price or "
                            "price-modifier, one after another (one per line, or "
                            "pretty-printed), UTF-8; or a gzip of such a file, whatever its "
                            "name.",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/import",
    status_code=201,
    response_model=JobDocument,
    responses=error_responses(400, 422),
    openapi_extra=IMPORT_REQUEST_BODY,
)
async def import_pricebooks(
    request: Request,
    response: Response,
    store_id: StoreIdDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKeyDep,
    dry_run: Annotated[
        bool, Query(description="Check and report as an import would, writing nothing.")
    ] = False,
) -> dict[str, Any]:
    """Queue a `pricebook-import` job for the uploaded file: 413 if it is larger than allowed
    once decompressed (read as a stream, a gzip bomb stops at the limit), 422 if it is empty;
    everything else about its objects the job reports, object by object.
    """
    form = await request.form(max_files=4, max_fields=16)
    upload = form.get(UPLOAD_PART)
    if not isinstance(upload, UploadFile):
        raise ApiError(
            422,
            f"send the JSONL file as a multipart/form-data part named {UPLOAD_PART!r}",
            title="Failed Validation",
            meta={"field": UPLOAD_PART},
        )
    settings: Settings = request.app.state.settings
    try:
        return await run_in_threadpool(
            _store_and_queue,
            engine,
            settings,
            store_id,
            upload.file,
            upload.filename or "pricebooks.jsonl",
            request_id_of(request),
            dry_run,
            idempotency_key,
        )
    except RequestReplayed as replayed:
        response.headers[REPLAYED_HEADER] = "true"
        return await run_in_threadpool(_show_replayed, engine, replayed.job)
    except IdempotencyKeyReused as reused:
        raise key_reused(reused) from None
    except ImportFileTooLarge as error:
        raise ApiError(413, error.detail) from None
    except CatalogError as error:
        raise ApiError(422, error.detail, title="Failed Validation") from None
    finally:
        await upload.close()


def _store_and_queue(
    engine: Engine,
    settings: Settings,
    store_id: str,
    file: BinaryIO,
    filename: str,
    request_id: str | None,
    dry_run: bool,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """One transaction: a refused file leaves neither a blob nor a job behind."""
    with write_transaction(engine) as connection:
        upload = store_upload(connection, store_id, file, filename, settings)
        asked = request_import(store_id, upload, dry_run=dry_run, request_id=request_id)
        job = enqueue_job(connection, asked.keyed(idempotency_key), utc_now())
        return {"data": job_document(connection, job)}


def _show_replayed(engine: Engine, job: Job) -> dict[str, Any]:
    with read_transaction(engine) as connection:
        current = get_job(connection, job.store_id, job.id) or job
        return {"data": job_document(connection, current)}
