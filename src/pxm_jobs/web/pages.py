"""What every page shares: templates, the signed-in session, CSRF checks and safe headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from pxm_jobs.clock import utc_now
from pxm_jobs.web.api_client import ApiAnswer, ServiceApi
from pxm_jobs.web.session import (
    CSRF_FIELD,
    csrf_token_for,
    end_session,
    form_is_genuine,
    session_token,
)
from pxm_jobs.web.views import format_duration, format_time, ordinal

ADMIN = "/admin"
SIGN_IN_PATH = f"{ADMIN}/sign-in"
# Forms that start a job carry a key made when the page was drawn, sent as Idempotency-Key: a
# form sent twice (a double click, a resent post) starts one job.
IDEMPOTENCY_FIELD = "idempotency_key"
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(when=format_time, duration=format_duration, ordinal=ordinal)
templates.env.globals.update(
    CSRF_FIELD=CSRF_FIELD,
    ADMIN=ADMIN,
    IDEMPOTENCY_FIELD=IDEMPOTENCY_FIELD,
    new_key=lambda: str(uuid.uuid4()),
)

# The pages load only their own script and stylesheet, are never framed, and keep signed
# download links out of Referer headers.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


# Why a person is asked to sign in again, by the code the sign-in page is sent with: fixed
# words, so that a link to the page cannot make it say anything else.
SIGN_IN_REASONS = {
    "ended": "Your session has ended (it expired, or its key was revoked): please sign in again.",
    "storefront": "That key only gives a storefront token, and storefront (implicit) tokens "
    "cannot use admin endpoints: sign in with an admin key's client id and secret.",
}


class SignInNeeded(Exception):
    """No session, or its token no longer works: the person signs in (again)."""

    def __init__(self, reason: str | None = None, *, fragment: bool = False) -> None:
        super().__init__(reason or "")
        self.reason = reason
        self.fragment = fragment


@dataclass(frozen=True)
class Session:
    """A signed-in person: their API token and the CSRF token of their forms."""

    request: Request
    token: str
    csrf: str
    fragment: bool = False

    def api(self) -> ServiceApi:
        return ServiceApi(self.request, self.token)

    def check(self, answer: ApiAnswer) -> ApiAnswer:
        """The answer, unless it says the token no longer works (expired, revoked, storefront)."""
        if answer.status in (401, 403):
            reason = "storefront" if answer.status == 403 else "ended"
            raise SignInNeeded(reason, fragment=self.fragment)
        return answer

    async def genuine_form(self) -> FormData:
        """The posted form, once it proves it came from one of this session's pages."""
        form = await self.request.form(max_files=2, max_fields=20)
        if not form_is_genuine(self.request, self.token, form.get(CSRF_FIELD)):
            raise FormNotGenuine()
        return form


class FormNotGenuine(Exception):
    """The form did not carry this session's CSRF token."""


def _session(request: Request, *, fragment: bool) -> Session:
    token = session_token(request)
    if token is None:
        raise SignInNeeded(fragment=fragment)
    return Session(request, token, csrf_token_for(request, token), fragment)


def signed_in(request: Request) -> Session:
    return _session(request, fragment=False)


def signed_in_fragment(request: Request) -> Session:
    return _session(request, fragment=True)


SessionDep = Annotated[Session, Depends(signed_in)]
FragmentSessionDep = Annotated[Session, Depends(signed_in_fragment)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = templates.TemplateResponse(
        request,
        template,
        {"now": utc_now(), **(context or {})},
        status_code=status_code,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )
    return response


def redirect(url: str) -> Response:
    """See Other: after a form post the browser loads `url` with a GET."""
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def sign_in_again(request: Request, error: SignInNeeded) -> Response:
        if error.fragment:
            # A live update cannot show the sign-in page in place; its script goes there.
            response: Response = Response(status_code=401, headers=SECURITY_HEADERS)
        else:
            target = SIGN_IN_PATH
            if error.reason:
                target += "?" + urlencode({"reason": error.reason})
            response = redirect(target)
        if session_token(request) is not None:
            end_session(response)
        return response

    @app.exception_handler(FormNotGenuine)
    async def refuse_form(request: Request, error: FormNotGenuine) -> Response:
        return render(
            request,
            "problem.html",
            {
                "title": "This form cannot be sent",
                "problems": [
                    "It did not come from one of your pages, or your session changed since. "
                    "Go back, reload the page and try again."
                ],
            },
            status_code=403,
        )
