"""Signing in with a store's client id and secret, and signing out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pxm_jobs.web.api_client import ServiceApi
from pxm_jobs.web.pages import ADMIN, SIGN_IN_REASONS, SessionDep, redirect, render
from pxm_jobs.web.session import (
    CSRF_FIELD,
    end_session,
    remember_sign_in_token,
    session_token,
    sign_in_is_genuine,
    sign_in_token,
    start_session,
)

router = APIRouter(include_in_schema=False)


def sign_in_page(
    request: Request,
    *,
    problems: list[str] | None = None,
    client_id: str = "",
    status_code: int = 200,
) -> Response:
    token = sign_in_token(request)
    response = render(
        request,
        "sign_in.html",
        {"sign_in_token": token, "problems": problems or [], "client_id": client_id},
        status_code=status_code,
    )
    remember_sign_in_token(response, request, token)
    return response


@router.get("/sign-in")
async def show_sign_in(request: Request, reason: str | None = None) -> Response:
    if reason is None and session_token(request) is not None:
        return redirect(f"{ADMIN}/")
    said = SIGN_IN_REASONS.get(reason or "")
    return sign_in_page(request, problems=[said] if said else [])


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=8)
    client_id = str(form.get("client_id") or "").strip()
    if not sign_in_is_genuine(request, form.get(CSRF_FIELD)):
        return sign_in_page(
            request,
            problems=["This sign-in form has expired; please send it again."],
            client_id=client_id,
            status_code=403,
        )
    # Only client credentials give an admin token: a storefront client id alone signs no one in.
    async with ServiceApi(request, None) as api:
        answer = await api.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": str(form.get("client_secret") or ""),
            },
        )
    if not answer.ok:
        return sign_in_page(
            request, problems=answer.problems, client_id=client_id, status_code=answer.status
        )
    response = redirect(f"{ADMIN}/")
    start_session(response, request, answer.document["access_token"], answer.document["expires_in"])
    return response


@router.post("/sign-out")
async def sign_out(session: SessionDep) -> Response:
    await session.genuine_form()
    response = redirect(f"{ADMIN}/sign-in")
    end_session(response)
    return response
