"""Who is signed in to the pages, and proof that a form was sent from one of them.

The session is the API token itself, in a cookie scripts cannot read (`HttpOnly`) and other
sites' pages never send (`SameSite=Strict`). Every form post carries a CSRF token as well: for a
signed-in person an HMAC of their token under a key of its own, so it needs no storage; on the
sign-in form, a random value also set as a cookie (double submit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE: Final = "pxm_admin_session"
SIGN_IN_COOKIE: Final = "pxm_admin_sign_in"
CSRF_FIELD: Final = "csrf_token"
COOKIE_PATH: Final = "/admin"
CSRF_KEY_CONTEXT: Final = b"pxm-jobs/admin-form/v1"
SIGN_IN_FORM_SECONDS: Final = 3600


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def start_session(response: Response, request: Request, token: str, lifetime_seconds: int) -> None:
    _set_cookie(response, request, SESSION_COOKIE, token, lifetime_seconds)
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def csrf_token_for(request: Request, token: str) -> str:
    """The CSRF token of the session whose API token is `token`."""
    key = hmac.new(request.app.state.signing_secret, CSRF_KEY_CONTEXT, hashlib.sha256).digest()
    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def form_is_genuine(request: Request, token: str, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(
        csrf_token_for(request, token).encode(), sent.encode("utf-8", "replace")
    )


def sign_in_token(request: Request) -> str:
    """The sign-in form's CSRF token: the one its cookie holds, or a new one."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)


def remember_sign_in_token(response: Response, request: Request, value: str) -> None:
    _set_cookie(response, request, SIGN_IN_COOKIE, value, SIGN_IN_FORM_SECONDS)


def sign_in_is_genuine(request: Request, sent: object) -> bool:
    expected = request.cookies.get(SIGN_IN_COOKIE)
    return (
        bool(expected)
        and isinstance(sent, str)
        and hmac.compare_digest(str(expected).encode(), sent.encode("utf-8", "replace"))
    )


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        # Plain HTTP on a laptop must work too; behind TLS the cookie never travels in clear.
        secure=request.url.scheme == "https",
    )
