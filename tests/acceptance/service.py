"""Starting real `pxm-jobs` processes for acceptance tests, and talking to them over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 90
CLIENT_ID = "acceptance-client"
CLIENT_SECRET = "acceptance-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_environment(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PXM_DATABASE_URL": database_url,
        "PXM_HOST": "127.0.0.1",
        "PXM_WORKER_POLL_SECONDS": "0.2",
        **extra,
    }


def bootstrapped_environment(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a service on `port` whose store has the test keys."""
    return service_environment(
        database_url,
        PXM_PORT=str(port),
        PXM_BOOTSTRAP_CLIENT_ID=CLIENT_ID,
        PXM_BOOTSTRAP_CLIENT_SECRET=CLIENT_SECRET,
        **extra,
    )


@contextmanager
def running(
    arguments: Sequence[str], environment: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[str]]:
    """A `pxm-jobs` process for the duration of the block, stopped with SIGTERM after it.

    Its output goes to a log file beside it: a pipe nobody reads would fill and stall it.
    """
    log_path = cwd / f"pxm-jobs-{arguments[0]}-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pxm_jobs", *arguments],
            env=environment,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    process.log_path = log_path  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.log_path.read_text()  # type: ignore[attr-defined]
            raise RuntimeError(f"pxm-jobs exited with {process.returncode}:\n{output}")
        try:
            # Any answer will do: a token-less request is refused before any route's work (the
            # API document, by contrast, takes a second of CPU to build on its first request).
            with httpx.Client(timeout=1) as probe:
                probe.get(f"{base_url}/pcm/jobs")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("pxm-jobs did not start serving in time")


class Client:
    """An admin client of one store, as a script using the public API would be."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)
        token = self.token(client_id, client_secret)
        self.http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.http.close()

    def token(self, client_id: str, client_secret: str) -> str:
        response = self.http.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def wait_for_job(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.http.get(f"/pcm/jobs/{job_id}").json()["data"]
            if job["attributes"]["status"] in ("success", "failed", "cancelled"):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['attributes']['status']}")
            time.sleep(0.05)

    def import_csv(self, content: bytes, name: str = "products.csv") -> httpx.Response:
        return self.http.post("/pcm/products/import", files={"file": (name, content, "text/csv")})
