"""Driving the jobs pages over HTTP in tests, as a browser would: forms, cookies, redirects."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient

_HIDDEN = r'name="{name}" value="([^"]*)"'


def hidden_value(page: str, name: str) -> str:
    found = re.search(_HIDDEN.format(name=name), page)
    assert found, f"no hidden field {name!r} on the page"
    return html.unescape(found[1])


def attribute(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', page)
    assert found, f"no {name} attribute on the page"
    return html.unescape(found[1])


def problems_on(page: str) -> list[str]:
    """What the page says is wrong, in the words shown next to the form."""
    block = re.search(r'<div class="problems" role="alert">(.*?)</div>', page, re.S)
    return (
        [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", block[1], re.S)]
        if block
        else []
    )


def sign_in(http: TestClient, client_id: str, client_secret: str) -> Any:
    form = http.get("/admin/sign-in").text
    return http.post(
        "/admin/sign-in",
        data={
            "csrf_token": hidden_value(form, "csrf_token"),
            "client_id": client_id,
            "client_secret": client_secret,
        },
        follow_redirects=False,
    )


def post_form(
    http: TestClient,
    page_path: str,
    action: str,
    fields: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Send a form of the page at `page_path` with its own hidden fields, as a person would."""
    page = http.get(page_path).text
    data = {"csrf_token": hidden_value(page, "csrf_token")}
    if 'name="idempotency_key"' in page:
        data["idempotency_key"] = hidden_value(page, "idempotency_key")
    return http.post(action, data={**data, **(fields or {})}, follow_redirects=False, **kwargs)
