"""The service's API over HTTP: a token from the keys, the error envelope read into words."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from pxm_jobs.client.profile import Profile

TIMEOUT_SECONDS = 30.0
# A long poll is held by the service for up to this long, so the read timeout is longer.
WAIT_SECONDS = 30


class ApiProblem(Exception):
    """The service refused a request; `problems` are its own words."""

    def __init__(self, status: int, problems: list[str], meta: dict[str, Any] | None = None):
        super().__init__("; ".join(problems))
        self.status = status
        self.problems = problems
        self.meta = meta or {}


class Unreachable(Exception):
    """The service did not answer."""


def problems_of(response: httpx.Response) -> tuple[list[str], dict[str, Any]]:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        errors = []
    said = [str(error.get("detail") or error.get("title")) for error in errors]
    meta = errors[0].get("meta") or {} if errors else {}
    return said or [f"the service answered {response.status_code}"], meta


class PxmClient:
    """One store's admin, as the API lets any holder of its keys be."""

    def __init__(self, profile: Profile, transport: httpx.BaseTransport | None = None) -> None:
        self.profile = profile
        self._http = httpx.Client(
            base_url=profile.api_url,
            timeout=httpx.Timeout(TIMEOUT_SECONDS, read=WAIT_SECONDS + TIMEOUT_SECONDS),
            transport=transport or httpx.HTTPTransport(retries=2),
        )
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PxmClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def sign_in(self) -> str:
        response = self._send(
            "POST",
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.profile.client_id,
                "client_secret": self.profile.client_secret,
            },
        )
        self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer to an authorised request; ApiProblem for a 4xx or 5xx."""
        token = self._token or self.sign_in()
        try:
            return self._send(method, path, token=token, **kwargs)
        except ApiProblem as problem:
            if problem.status != 401:
                raise
        # The token expired meanwhile (or the key changed): one fresh sign-in.
        return self._send(method, path, token=self.sign_in(), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def start_job(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Queue a job; a retried request (a lost answer) finds the same job by its key."""
        headers = {"Idempotency-Key": str(uuid.uuid4()), **kwargs.pop("headers", {})}
        document: dict[str, Any] = self.request(method, path, headers=headers, **kwargs).json()
        return document

    def wait_for_change(self, job_id: str, etag: str | None) -> tuple[dict[str, Any], str | None]:
        """The job once it differs from version `etag` (or as it is after a long poll)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self.request(
            "GET", f"/pcm/jobs/{job_id}", params={"wait": WAIT_SECONDS}, headers=headers
        )
        if response.status_code == 304:
            return {}, etag
        return response.json(), response.headers.get("ETag")

    def list_all(self, path: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` items of a list, page after page."""
        found: list[dict[str, Any]] = []
        offset = 0
        while len(found) < limit:
            page = min(100, limit - len(found))
            document = self.get(
                path, params={**params, "page[limit]": page, "page[offset]": offset}
            )
            found.extend(document["data"])
            offset += page
            if offset >= document["meta"]["results"]["total"] or not document["data"]:
                break
        return found

    def download(self, url: str, directory: Path, name: str) -> Path:
        """Save a signed file link's file; the link itself is the permission, so no token."""
        target = directory / name
        with httpx.stream("GET", url, timeout=TIMEOUT_SECONDS) as response:
            if response.status_code >= 400:
                response.read()
                said, meta = problems_of(response)
                raise ApiProblem(response.status_code, said, meta)
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return target

    def _send(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise Unreachable(f"cannot reach {self.profile.api_url}: {error}") from None
        if response.status_code >= 400:
            said, meta = problems_of(response)
            raise ApiProblem(response.status_code, said, meta)
        return response


@contextmanager
def connected(profile: Profile) -> Iterator[PxmClient]:
    with PxmClient(profile) as client:
        yield client
