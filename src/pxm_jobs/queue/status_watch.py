"""Waking requests that wait for a job's status to change (`GET /pcm/jobs/{id}?wait=N`).

Every move of a job calls `signal_status_change` inside its transaction. Once the transaction
commits, waiters in this process wake at once; on PostgreSQL a NOTIFY on a channel of its own
(the job id as payload) also reaches other processes, where a listener thread wakes theirs. As
with workers, a wake-up is only a hint: the waiter reads the job again to see what changed, and
re-reads now and then anyway, so a lost notification costs a few seconds, never an answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from pxm_jobs.queue import statements as sql
from pxm_jobs.queue.wakeup import listen_for_notifications
from pxm_jobs.store.engine import call_after_commit


def signal_status_change(connection: Connection, job_id: str, *, notified: bool = False) -> None:
    """Wake whoever waits on this job, once this transaction commits.

    `notified`: the statement that moved the job already sent the NOTIFY with RETURNING.
    """
    call_after_commit(connection, lambda: _waiters.wake(job_id))
    if connection.dialect.name == "postgresql" and not notified:
        sql.run(connection, sql.notify_status, {"p_job_id": job_id})


@dataclass(eq=False)
class StatusChange:
    """One waiter's doorbell: set from any thread, awaited on its event loop."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def ring(self) -> None:
        # A closed loop raises RuntimeError: its waiter is gone, there is nobody to wake.
        with suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.event.set)

    async def wait(self, timeout: float) -> bool:
        """True if rung within `timeout` seconds; the bell is cleared for the next wait."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        self.event.clear()
        return True


class _Waiters:
    """Who waits on which job, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_job: dict[str, set[StatusChange]] = {}

    def add(self, job_id: str, waiter: StatusChange) -> None:
        with self._lock:
            self._by_job.setdefault(job_id, set()).add(waiter)

    def remove(self, job_id: str, waiter: StatusChange) -> None:
        with self._lock:
            waiting = self._by_job.get(job_id)
            if waiting is not None:
                waiting.discard(waiter)
                if not waiting:
                    del self._by_job[job_id]

    def wake(self, job_id: str) -> None:
        with self._lock:
            waiting = list(self._by_job.get(job_id, ()))
        for waiter in waiting:
            waiter.ring()

    def count(self, job_id: str) -> int:
        with self._lock:
            return len(self._by_job.get(job_id, ()))

    def wake_all(self) -> None:
        with self._lock:
            waiting = [waiter for group in self._by_job.values() for waiter in group]
        for waiter in waiting:
            waiter.ring()


_waiters = _Waiters()


def waiting_on(job_id: str) -> int:
    """How many requests of this process wait for the job to change."""
    return _waiters.count(job_id)


class StatusWatch:
    """What an API process waits on; on PostgreSQL it listens for other processes' changes.

    The listener starts with the first waiter, so processes nobody waits on hold no extra
    connection.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @asynccontextmanager
    async def watching(self, job_id: str) -> AsyncIterator[StatusChange]:
        """A doorbell rung whenever the job may have changed; register before reading it."""
        self._start_listening()
        waiter = StatusChange(asyncio.get_running_loop())
        _waiters.add(job_id, waiter)
        try:
            yield waiter
        finally:
            _waiters.remove(job_id, waiter)

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.join(timeout=5)

    def _start_listening(self) -> None:
        if self._engine.dialect.name != "postgresql" or self._listener is not None:
            return
        with self._start_lock:
            if self._listener is None and not self._stopping.is_set():
                self._listener = threading.Thread(
                    target=self._listen, name="pxm-jobs-status-listen", daemon=True
                )
                self._listener.start()

    def _listen(self) -> None:
        # Changes made while the listener was away went unheard: every waiter looks again.
        listen_for_notifications(
            self._engine,
            {sql.STATUS_CHANNEL: _waiters.wake},
            on_connect=_waiters.wake_all,
            stopping=self._stopping,
        )
