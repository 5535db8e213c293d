"""`?wait=N` on jobs: answer when something changes, or after N seconds.

`GET /pcm/jobs/{id}?wait=N` answers when the job's status changes. With `If-None-Match` (a job
or a list of jobs), it answers when the document's version (its ETag) differs from the one given,
progress and queue position included, which is what a page or a progress bar follows.

The request holds no database connection and no worker thread while it waits: it awaits a
doorbell that job moves ring (see `queue.status_watch`), and reads again in a short transaction
each time it rings, and every WAIT_RECHECK_SECONDS in case a ring was lost. While a job it shows
is started it reads every PROGRESS_RECHECK_SECONDS: progress moves without ringing.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from pxm_jobs.api.errors import ApiError
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.queue.status_watch import StatusChange, StatusWatch

WAIT_MAX_SECONDS = 60
# A change no notification announced (made by another process on SQLite) is seen this late.
WAIT_RECHECK_SECONDS = 2.0
# Progress is written at most once a second and rings no bell: a started job is read this often.
PROGRESS_RECHECK_SECONDS = 1.0
# However often jobs move, a waiting list is read at most this often.
LIST_REREAD_MIN_SECONDS = 0.1

WaitQuery = Annotated[
    str | None,
    Query(
        description=f"Seconds (at most {WAIT_MAX_SECONDS}) to wait for the job's status to "
        "change before answering; the answer comes as soon as it does.",
    ),
]

IfNoneMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="An ETag from an earlier answer: 304 while the document is still that "
        "version; with `wait`, the answer comes as soon as it is not.",
    ),
]

# Reads the job afresh: its status, and the document to answer with.
ReadJob = Callable[[], Awaitable[tuple[JobStatus, dict[str, Any]]]]


@dataclass(frozen=True)
class Snapshot:
    """A document as read once, with its version and whether it can change without a ring."""

    etag: str
    document: dict[str, Any]
    moving: bool  # a job in it is started: its progress moves silently
    final: bool  # nothing in it will ever change again (a finished job)


ReadSnapshot = Callable[[], Awaitable[Snapshot]]


def read_etags(raw: str | None) -> frozenset[str] | None:
    """The versions an `If-None-Match` header names (weak or strong alike); None without one."""
    if raw is None or not raw.strip():
        return None
    return frozenset(_opaque(tag) for tag in raw.split(",") if tag.strip())


def matches(etags: frozenset[str] | None, etag: str) -> bool:
    return etags is not None and ("*" in etags or _opaque(etag) in etags)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


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


async def wait_for_new_version(
    read: ReadSnapshot,
    change: StatusChange,
    seconds: float,
    seen: frozenset[str] | None,
    *,
    min_gap: float = 0.0,
) -> Snapshot:
    """The document once its version is none of `seen` (or differs from the first read, without
    `seen`), or as it is when time is up.

    `change` must be registered before the first read, so no move between the two is missed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    snapshot = await read()
    baseline = seen if seen is not None else frozenset({_opaque(snapshot.etag)})
    read_at = loop.time()
    while matches(baseline, snapshot.etag) and not snapshot.final:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        recheck = PROGRESS_RECHECK_SECONDS if snapshot.moving else WAIT_RECHECK_SECONDS
        await change.wait(min(remaining, recheck))
        # Many moves in a row cost one read each `min_gap`, not one each.
        gap = read_at + min_gap - loop.time()
        if gap > 0:
            await asyncio.sleep(min(gap, max(0.0, deadline - loop.time())))
        snapshot = await read()
        read_at = loop.time()
    return snapshot
