"""Waking idle workers as soon as there may be a job for them.

PostgreSQL carries the signal between processes with LISTEN/NOTIFY; on SQLite, where the API and
its worker share one process, an in-process event does. Either way a signal is only a hint:
workers still poll, so a lost signal costs at most one poll interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from pxm_jobs.queue import statements as sql
from pxm_jobs.queue.stop_requests import ask_to_stop

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0

_local_events: dict[str, threading.Event] = {}
_local_events_lock = threading.Lock()


def _local_event(engine: Engine) -> threading.Event:
    key = engine.url.render_as_string(hide_password=False)
    with _local_events_lock:
        return _local_events.setdefault(key, threading.Event())


def signal_new_work(connection: Connection, *, notified: bool = False) -> None:
    """Tell workers there may be a job to claim, once this transaction commits.

    `notified`: the statement that moved the job already sent the NOTIFY with RETURNING.
    """
    if connection.dialect.name == "postgresql":
        if not notified:
            sql.run(connection, sql.notify_new_work)
    else:
        # A worker woken before the commit waits on the write lock, so it still sees the job.
        _local_event(connection.engine).set()


class WorkSignal:
    """What a worker waits on between claims."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._event = _local_event(engine)
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None

    def start(self) -> None:
        if self._engine.dialect.name == "postgresql":
            self._listener = threading.Thread(
                target=self._listen, name="pxm-jobs-listen", daemon=True
            )
            self._listener.start()

    def stop(self) -> None:
        self._stopping.set()
        self._event.set()
        if self._listener is not None:
            self._listener.join(timeout=5)

    def clear(self) -> None:
        """Forget past signals; call before looking for work so none that follows is lost."""
        self._event.clear()

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)

    def wake(self) -> None:
        self._event.set()

    def _listen(self) -> None:
        # Jobs may have been queued while the listener was away: look on every (re)connect.
        # Stop requests missed meanwhile are found by the heartbeat.
        listen_for_notifications(
            self._engine,
            {
                sql.NEW_WORK_CHANNEL: lambda _payload: self._event.set(),
                sql.CANCEL_CHANNEL: lambda job_id: ask_to_stop([job_id]),
            },
            on_connect=self._event.set,
            stopping=self._stopping,
        )


def listen_for_notifications(
    engine: Engine,
    handlers: Mapping[str, Callable[[str], None]],
    *,
    on_connect: Callable[[], None],
    stopping: threading.Event,
) -> None:
    """LISTEN on the channels of `handlers` until `stopping`, reconnecting as needed.

    Each notification's payload goes to the handler of its channel.

    `on_connect` runs each time listening (re)starts: notifications sent while the connection
    was down are lost, so whoever relies on them must look for themselves then.
    """
    names = ", ".join(handlers)
    url = make_url(engine.url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    while not stopping.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                for channel in handlers:
                    connection.execute(f"LISTEN {channel}")
                on_connect()
                while not stopping.is_set():
                    for notification in connection.notifies(timeout=0.5, stop_after=1):
                        handlers[notification.channel](notification.payload)
        except psycopg.Error as error:
            logger.warning("%s listener lost its connection (%s); reconnecting", names, error)
            stopping.wait(RECONNECT_SECONDS)
