"""Starting jobs from a page: one form per job type, each making the API request for it.

A job type's form is a `StartForm` in START_FORMS and a template; a new job type is one more
of each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from pxm_jobs.web.api_client import ApiAnswer, ServiceApi
from pxm_jobs.web.pages import ADMIN, IDEMPOTENCY_FIELD, Session, SessionDep, redirect, render

router = APIRouter(include_in_schema=False)

HIERARCHIES_LISTED = 100
PRODUCTS_LISTED = 100
# Products whose children can be built: not children themselves, not bundles.
BASE_PRODUCTS_FILTER = "in(product_types,standard,parent)"

Submit = Callable[[ServiceApi, FormData, dict[str, str]], Awaitable[ApiAnswer | str]]
Prepare = Callable[[Session, ServiceApi], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class StartForm:
    name: str  # its path, /admin/start/<name>, and its anchor on the page
    title: str
    template: str
    # The API request; a plain string is a problem found before asking it (nothing to send).
    submit: Submit
    # What the form needs to be drawn, read from the API (such as hierarchies to pick from).
    prepare: Prepare | None = None
    uploads: bool = False  # sends a file (a multipart/form-data form)


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def submit_import(
    api: ServiceApi, form: FormData, headers: dict[str, str]
) -> ApiAnswer | str:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "Choose a CSV file to upload."
    params = {"dry_run": "true"} if form.get("dry_run") else {}
    if text(form, "error_policy"):
        params["error_policy"] = text(form, "error_policy")
    # The service tells CSV from gzip by the first bytes; the type sent is only a label.
    content_type = upload.content_type or "text/csv"
    return await api.post(
        "/pcm/products/import",
        params=params,
        headers=headers,
        files={"file": (upload.filename, upload.file, content_type)},
    )


async def submit_price_import(
    api: ServiceApi, form: FormData, headers: dict[str, str]
) -> ApiAnswer | str:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "Choose a price book file (JSONL, or a gzip of one) to upload."
    params = {"dry_run": "true"} if form.get("dry_run") else {}
    # The service tells JSONL from gzip by the first bytes; the type sent is only a label.
    content_type = upload.content_type or "application/jsonl"
    return await api.post(
        "/pcm/pricebooks/import",
        params=params,
        headers=headers,
        files={"file": (upload.filename, upload.file, content_type)},
    )


async def submit_export(api: ServiceApi, form: FormData, headers: dict[str, str]) -> ApiAnswer:
    chosen = text(form, "filter")
    columns = [column.strip() for column in text(form, "columns").split(",") if column.strip()]
    body = {"data": {"type": "product", "attributes": {"columns": columns}}} if columns else None
    return await api.post(
        "/pcm/products/export",
        params={"filter": chosen} if chosen else {},
        headers=headers,
        json=body,
    )


async def submit_duplicate(
    api: ServiceApi, form: FormData, headers: dict[str, str]
) -> ApiAnswer | str:
    hierarchy_id = text(form, "hierarchy_id")
    if not hierarchy_id:
        return "Pick the hierarchy to copy."
    attributes: dict[str, Any] = {"include_products": bool(form.get("include_products"))}
    for name in ("name", "description"):
        if text(form, name):
            attributes[name] = text(form, name)
    return await api.post(
        f"/pcm/hierarchies/{hierarchy_id}/duplicate_job",
        headers=headers,
        json={"data": {"type": "hierarchy", "attributes": attributes}},
    )


async def submit_build(api: ServiceApi, form: FormData, headers: dict[str, str]) -> ApiAnswer | str:
    product_id = text(form, "product_id")
    if not product_id:
        return "Pick the product whose children to build."
    return await api.post(f"/pcm/products/{product_id}/build", headers=headers, json={})


async def list_base_products(session: Session, api: ServiceApi) -> dict[str, Any]:
    params = {"filter": BASE_PRODUCTS_FILTER, "page[limit]": str(PRODUCTS_LISTED)}
    answer = session.check(await api.get("/pcm/products", params=params))
    if not answer.ok:
        return {"base_products": [], "base_product_problems": answer.problems}
    return {
        "base_products": answer.data,
        "base_products_total": answer.document["meta"]["results"]["total"],
    }


async def list_hierarchies(session: Session, api: ServiceApi) -> dict[str, Any]:
    answer = session.check(
        await api.get("/pcm/hierarchies", params={"page[limit]": str(HIERARCHIES_LISTED)})
    )
    if not answer.ok:
        return {"hierarchies": [], "hierarchy_problems": answer.problems}
    return {
        "hierarchies": answer.data,
        "hierarchies_total": answer.document["meta"]["results"]["total"],
    }


START_FORMS = (
    StartForm(
        "import",
        "Import products from a CSV file",
        "_start_import.html",
        submit_import,
        uploads=True,
    ),
    StartForm("export", "Export products to CSV files", "_start_export.html", submit_export),
    StartForm(
        "duplicate",
        "Copy a hierarchy",
        "_start_duplicate.html",
        submit_duplicate,
        prepare=list_hierarchies,
    ),
    StartForm(
        "build",
        "Build child products",
        "_start_build.html",
        submit_build,
        prepare=list_base_products,
    ),
    StartForm(
        "import-prices",
        "Import price books from a JSONL file",
        "_start_import_prices.html",
        submit_price_import,
        uploads=True,
    ),
)
FORMS_BY_NAME = {form.name: form for form in START_FORMS}


async def start_page(
    request: Request,
    session: Session,
    *,
    problems: dict[str, list[str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "session": session,
        "forms": START_FORMS,
        "problems": problems or {},
        "values": values or {},
    }
    async with session.api() as api:
        for form in START_FORMS:
            if form.prepare is not None:
                context.update(await form.prepare(session, api))
    return render(request, "start.html", context, status_code=status_code)


@router.get("/start")
async def show_start(request: Request, session: SessionDep) -> Response:
    return await start_page(request, session)


@router.post("/start/{name}")
async def start_job(request: Request, name: str, session: SessionDep) -> Response:
    chosen = FORMS_BY_NAME.get(name)
    if chosen is None:
        return render(
            request,
            "problem.html",
            {"session": session, "title": "No such form", "problems": [f"{name!r} starts no job"]},
            status_code=404,
        )
    form = await session.genuine_form()
    key = text(form, IDEMPOTENCY_FIELD)
    headers = {"Idempotency-Key": key} if key else {}
    try:
        async with session.api() as api:
            answer = await chosen.submit(api, form, headers)
    finally:
        await form.close()  # the upload's spooled file
    if isinstance(answer, ApiAnswer) and answer.ok:
        return redirect(f"{ADMIN}/jobs/{answer.data['id']}")
    if isinstance(answer, ApiAnswer):
        session.check(answer)
        said = _in_words(answer)
        status_code = answer.status
    else:
        said, status_code = [answer], 422
    kept = {field: value for field, value in form.items() if isinstance(value, str)}
    return await start_page(
        request,
        session,
        problems={name: said},
        values={name: kept},
        status_code=status_code,
    )


def _in_words(answer: ApiAnswer) -> list[str]:
    if answer.error_meta().get("header") == "Idempotency-Key":
        return ["This form was already sent once; it has been drawn afresh, send it again."]
    return answer.problems
