"""Calling the public API from a page: in process, through the whole app, with the session token.

The request goes through the same middleware, checks and error envelope as one from outside;
only the network is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request

# The request id the service gave the page's request (see the request id middleware): the API
# requests made for it carry it too, so a job started from a page names the page's request.
REQUEST_ID_HEADER = "X-Request-ID"


@dataclass(frozen=True)
class ApiAnswer:
    """One answer of the API: status, headers, and the JSON document (None for no body)."""

    status: int
    headers: httpx.Headers
    document: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Any:
        return self.document["data"]

    @property
    def problems(self) -> list[str]:
        """What the API said is wrong, in its own words (the `detail` of each error)."""
        if not isinstance(self.document, dict):
            return [f"the service answered {self.status} without saying why"]
        errors = self.document.get("errors") or []
        found = [str(error.get("detail") or error.get("title")) for error in errors]
        return found or [f"the service answered {self.status} without saying why"]

    def error_meta(self) -> dict[str, Any]:
        errors = self.document.get("errors") if isinstance(self.document, dict) else None
        meta = errors[0].get("meta") if errors else None
        return meta if isinstance(meta, dict) else {}


class ServiceApi:
    """The API as the signed-in person may use it (or anonymously, to sign in)."""

    def __init__(self, request: Request, token: str | None) -> None:
        headers = {}
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A failure inside the API is its 500 answer here, as it would be over the network.
        transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False)
        self._http = httpx.AsyncClient(
            transport=transport, base_url=str(request.base_url), headers=headers, timeout=None
        )

    async def __aenter__(self) -> ServiceApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> ApiAnswer:
        response = await self._http.request(method, path, **kwargs)
        document: Any = None
        if response.content:
            try:
                document = response.json()
            except ValueError:
                document = None
        return ApiAnswer(response.status_code, response.headers, document)

    async def get(self, path: str, **kwargs: Any) -> ApiAnswer:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> ApiAnswer:
        return await self.call("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> ApiAnswer:
        return await self.call("DELETE", path, **kwargs)
