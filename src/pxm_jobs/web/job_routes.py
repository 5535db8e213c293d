"""The jobs list and a job's page, their live regions, and cancel, retry and delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from pxm_jobs.jobs import JOB_KINDS
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.web.api_client import ApiAnswer
from pxm_jobs.web.pages import (
    ADMIN,
    IDEMPOTENCY_FIELD,
    FragmentSessionDep,
    Session,
    SessionDep,
    redirect,
    render,
)
from pxm_jobs.web.views import job_view

router = APIRouter(include_in_schema=False)

JOBS_PER_PAGE = 20
ERRORS_PER_PAGE = 50
# A live region asks the API to hold its request this long at most; the script asks again.
LIVE_WAIT_SECONDS = 25
NOTICES = {"deleted": "The job was deleted."}


def jobs_filter(status: str | None, job_type: str | None) -> str | None:
    terms = [f"eq(status,{status})" if status else "", f"eq(type,{job_type})" if job_type else ""]
    return ":".join(term for term in terms if term) or None


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 10_000 else 1


def live_params(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """The wait and the version a live region's script asks with, passed on to the API."""
    params = {"wait": str(LIVE_WAIT_SECONDS)} if request.query_params.get("wait") else {}
    seen = request.headers.get("If-None-Match")
    return params, {"If-None-Match": seen} if seen else {}


async def read_jobs(
    session: Session,
    status: str | None,
    job_type: str | None,
    page: int,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> ApiAnswer:
    query = {"page[limit]": str(JOBS_PER_PAGE), "page[offset]": str((page - 1) * JOBS_PER_PAGE)}
    chosen = jobs_filter(status, job_type)
    if chosen:
        query["filter"] = chosen
    async with session.api() as api:
        answer = await api.get("/pcm/jobs", params={**query, **(params or {})}, headers=headers)
    return session.check(answer)


def jobs_context(
    answer: ApiAnswer, status: str | None, job_type: str | None, page: int
) -> dict[str, Any]:
    document = answer.document
    chosen = {"status": status or "", "type": job_type or ""}
    pages = document["meta"]["page"]["total"]

    def link(number: int) -> str:
        return f"{ADMIN}/?" + urlencode({**{k: v for k, v in chosen.items() if v}, "page": number})

    return {
        "jobs": [job_view(item) for item in document["data"]],
        "total": document["meta"]["results"]["total"],
        "queue": document["meta"]["queue"],
        "page": page,
        "pages": pages,
        "previous_link": link(page - 1) if page > 1 else None,
        "next_link": link(page + 1) if page < pages else None,
        "live_link": f"{ADMIN}/jobs/live?"
        + urlencode({**{k: v for k, v in chosen.items() if v}, "page": page}),
        "etag": answer.headers.get("ETag", ""),
        "chosen": chosen,
    }


@router.get("/")
async def show_jobs(
    request: Request,
    session: SessionDep,
    status: str | None = None,
    type: str | None = None,
    page: str | None = None,
    notice: str | None = None,
) -> Response:
    number = page_number(page)
    answer = await read_jobs(session, status or None, type or None, number)
    context: dict[str, Any] = {
        "session": session,
        "statuses": [status.value for status in JobStatus],
        # The types this service runs: the filter offers no type no job can have.
        "types": list(JOB_KINDS),
        "notice": NOTICES.get(notice or ""),
        "chosen": {"status": status or "", "type": type or ""},
    }
    if not answer.ok:
        return render(
            request,
            "jobs.html",
            {**context, "problems": answer.problems},
            status_code=answer.status,
        )
    context.update(jobs_context(answer, status or None, type or None, number))
    return render(request, "jobs.html", context)


@router.get("/jobs/live")
async def follow_jobs(
    request: Request,
    session: FragmentSessionDep,
    status: str | None = None,
    type: str | None = None,
    page: str | None = None,
) -> Response:
    number = page_number(page)
    params, headers = live_params(request)
    answer = await read_jobs(session, status or None, type or None, number, params, headers)
    return fragment(
        request,
        answer,
        "_jobs_region.html",
        lambda: jobs_context(answer, status or None, type or None, number),
    )


def fragment(request: Request, answer: ApiAnswer, template: str, context: Any) -> Response:
    """A live region's new content, or 304 while the API says it is unchanged."""
    etag = answer.headers.get("ETag", "")
    if answer.status == 304:
        return Response(status_code=304, headers={"ETag": etag})
    if not answer.ok:
        return Response(status_code=answer.status)
    return render(request, template, context(), headers={"ETag": etag})


async def read_job(
    session: Session, job_id: str, params: Any = None, headers: Any = None
) -> ApiAnswer:
    async with session.api() as api:
        answer = await api.get(f"/pcm/jobs/{job_id}", params=params, headers=headers)
    return session.check(answer)


async def job_context(session: Session, answer: ApiAnswer, errors_page: int) -> dict[str, Any]:
    job = job_view(answer.data)
    context: dict[str, Any] = {
        "session": session,
        "job": job,
        "etag": answer.headers.get("ETag", ""),
        "errors": [],
        "errors_total": 0,
    }
    if job.finished:
        query = {
            "page[limit]": str(ERRORS_PER_PAGE),
            "page[offset]": str((errors_page - 1) * ERRORS_PER_PAGE),
        }
        async with session.api() as api:
            errors = session.check(await api.get(f"/pcm/jobs/{job.id}/errors", params=query))
        if errors.ok:
            total = errors.document["meta"]["results"]["total"]
            pages = errors.document["meta"]["page"]["total"]
            context.update(
                errors=errors.data,
                errors_total=total,
                errors_page=errors_page,
                errors_pages=pages,
            )
    return context


@router.get("/jobs/{job_id}")
async def show_job(
    request: Request, job_id: str, session: SessionDep, errors_page: str | None = None
) -> Response:
    answer = await read_job(session, job_id)
    if not answer.ok:
        return problem(request, session, answer, "This job cannot be shown")
    context = await job_context(session, answer, page_number(errors_page))
    return render(request, "job.html", context)


@router.get("/jobs/{job_id}/live")
async def follow_job(request: Request, job_id: str, session: FragmentSessionDep) -> Response:
    params, headers = live_params(request)
    answer = await read_job(session, job_id, params, headers)
    if not answer.ok:
        return fragment(request, answer, "_job_region.html", dict)
    context = await job_context(session, answer, 1)
    return fragment(request, answer, "_job_region.html", lambda: context)


def problem(request: Request, session: Session, answer: ApiAnswer, title: str) -> Response:
    return render(
        request,
        "problem.html",
        {"session": session, "title": title, "problems": answer.problems},
        status_code=answer.status,
    )


async def act_on_job(
    request: Request, session: Session, job_id: str, method: str, action: str
) -> tuple[ApiAnswer, Response | None]:
    """Make the API call behind a button; on a refusal, the job's page saying why."""
    form = await session.genuine_form()
    # The key the page was rendered with: a second click on the same button replays the first.
    key = form.get(IDEMPOTENCY_FIELD)
    headers = {"Idempotency-Key": key} if isinstance(key, str) and key else {}
    async with session.api() as api:
        path = f"/pcm/jobs/{job_id}" + (f"/{action}" if action else "")
        answer = session.check(await api.call(method, path, headers=headers))
    if answer.ok:
        return answer, None
    shown = await read_job(session, job_id)
    if not shown.ok:
        return answer, problem(request, session, answer, "This job cannot be changed")
    context = await job_context(session, shown, 1)
    context["action_problems"] = answer.problems
    return answer, render(request, "job.html", context, status_code=answer.status)


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(request: Request, job_id: str, session: SessionDep) -> Response:
    _, refused = await act_on_job(request, session, job_id, "POST", "cancel")
    return refused or redirect(f"{ADMIN}/jobs/{job_id}")


@router.post("/jobs/{job_id}/retry")
async def retry_job(request: Request, job_id: str, session: SessionDep) -> Response:
    answer, refused = await act_on_job(request, session, job_id, "POST", "retry")
    return refused or redirect(f"{ADMIN}/jobs/{answer.data['id']}")


@router.post("/jobs/{job_id}/delete")
async def delete_job(request: Request, job_id: str, session: SessionDep) -> Response:
    _, refused = await act_on_job(request, session, job_id, "DELETE", "")
    return refused or redirect(f"{ADMIN}/?notice=deleted")
