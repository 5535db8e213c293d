"""`GET /pcm/jobs/{id}?wait=N`: answer when the job's status changes, or after N seconds.

The request holds no database connection and no worker thread while it waits: it awaits a
doorbell that job moves ring (see `queue.status_watch`), and reads the job in a short
transaction each time it rings, and every WAIT_RECHECK_SECONDS in case a ring was lost.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from pxm_jobs.api.errors import ApiError
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.queue.status_watch import StatusChange, StatusWatch

WAIT_MAX_SECONDS = 60
# A change no notification announced (made by another process on SQLite) is seen this late.
WAIT_RECHECK_SECONDS = 2.0

WaitQuery = Annotated[
    str | None,
    Query(
        description=f"Seconds (at most {WAIT_MAX_SECONDS}) to wait for the job's status to "
        "change before answering; the answer comes as soon as it does.",
    ),
]

# Reads the job afresh: its status, and the document to answer with.
ReadJob = Callable[[], Awaitable[tuple[JobStatus, dict[str, Any]]]]


def get_status_watch(request: Request) -> StatusWatch:
    watch: StatusWatch = request.app.state.status_watch
    return watch


StatusWatchDep = Annotated[StatusWatch, Depends(get_status_watch)]


def read_wait(raw: str | None) -> float:
    """Seconds to wait, from the `wait` parameter; 0 when it is absent."""
    if raw is None or raw == "":
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= WAIT_MAX_SECONDS:  # NaN fails this too
        raise ApiError(
            400,
            f"wait must be a number of seconds from 0 to {WAIT_MAX_SECONDS}, got {raw!r}",
            meta={"parameter": "wait"},
        )
    return seconds


async def wait_for_status_change(read: ReadJob, change: StatusChange, seconds: float) -> Any:
    """The job's document once its status differs from the first read, or when time is up.

    `change` must be registered before the first read, so no move between the two is missed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    first, document = await read()
    status = first
    # A finished job never changes again: there is nothing to wait for.
    while status is first and not status.is_terminal:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await change.wait(min(remaining, WAIT_RECHECK_SECONDS))
        status, document = await read()
    return document
