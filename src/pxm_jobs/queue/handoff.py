"""Handing the jobs a round has not started yet to other threads when the round runs long.

A round runs its jobs one after another, so behind a slow job the rest would wait for it. Once a
round has run for its budget, a watch thread moves the jobs it has not started to a hand-off
line, where idle job threads of the same worker take them: they stay claimed by the worker, and
their leases are renewed as before.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pxm_jobs.queue.models import Job


def take_all(jobs: deque[Job]) -> list[Job]:
    """Empty `jobs`, which another thread may be taking from too; what this call got."""
    taken: list[Job] = []
    while True:
        try:
            taken.append(jobs.popleft())
        except IndexError:
            return taken


class RoundWatch:
    """Watches the rounds of one worker's job threads; `wake` tells idle threads of a hand-off."""

    def __init__(self, budget_seconds: float, wake: Callable[[], None]) -> None:
        self._budget_seconds = budget_seconds
        self._wake = wake
        self._changed = threading.Condition()
        self._rounds: dict[int, tuple[float, deque[Job]]] = {}
        self._handed: deque[Job] = deque()
        self._wakes_at: float | None = None  # when the watch looks next; None: once woken
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._watch, name="pxm-jobs-round-watch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextmanager
    def watching(self, jobs: list[Job]) -> Iterator[deque[Job]]:
        """The round's jobs, to be taken one at a time with `popleft`; watched while in use."""
        unstarted = deque(jobs)
        if len(jobs) < 2 or self._thread is None:
            # Nothing waits behind a round's only job; and an unstarted watch hands nothing off.
            yield unstarted
            return
        key = id(unstarted)
        deadline = time.monotonic() + self._budget_seconds
        with self._changed:
            self._rounds[key] = (deadline, unstarted)
            # Rounds follow one another hundreds of times a second: the watch is woken only when
            # it would otherwise look too late, not for every round.
            if self._wakes_at is None or deadline < self._wakes_at:
                self._changed.notify()
        try:
            yield unstarted
        finally:
            with self._changed:
                self._rounds.pop(key, None)

    def take_handed(self) -> Job | None:
        """A job some round handed off, for an idle thread to run; None if there is none."""
        try:
            return self._handed.popleft()
        except IndexError:
            return None

    def _watch(self) -> None:
        with self._changed:
            while not self._stopping:
                now = time.monotonic()
                for key, (deadline, unstarted) in list(self._rounds.items()):
                    if deadline <= now:
                        del self._rounds[key]
                        handed = take_all(unstarted)
                        if handed:
                            self._handed.extend(handed)
                            self._wake()
                deadlines = [deadline for deadline, _ in self._rounds.values()]
                self._wakes_at = min(deadlines) if deadlines else None
                self._changed.wait(self._wakes_at - now if self._wakes_at is not None else None)
