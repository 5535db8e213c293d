"""The base of every absolute link the service puts in an answer (downloads, list pages).

It is never taken from the request's Host header, which the caller chooses: a link signed with
a host an attacker sent would send its holder, credential and all, to the attacker. It is
`PXM_PUBLIC_URL` when set (behind a proxy), else the address the connection reached.
"""

from __future__ import annotations

from fastapi import Request

from pxm_jobs.config import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def public_base_url(request: Request) -> str:
    """`scheme://host[:port]/`, ending with a slash."""
    settings: Settings = request.app.state.settings
    if settings.public_url is not None:
        return settings.public_url.rstrip("/") + "/"
    scheme = request.scope.get("scheme", "http")
    server = request.scope.get("server")
    host, port = (settings.host, settings.port) if server is None else server
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}/"
