"""Database faults: which errors mean "try again shortly", and the SQLite file's identity.

A fault is the database's trouble, not the request's: a dropped connection, a lock not granted
in time, a database that will not take writes for a moment. Callers answer it with "retry"
(the API's 503 with `Retry-After`, a worker's requeue); a connection that saw one is replaced,
so the next request runs on a fresh one.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

# SQLite primary result codes that say the database cannot be written or read just now; the
# connection that saw one may be stuck that way (opened read-only), so it is replaced.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
_SQLITE_STUCK = frozenset({SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN})
_SQLITE_BUSY = frozenset({SQLITE_BUSY, SQLITE_LOCKED})
# PostgreSQL states of the same kinds: read-only transaction (a standby, or a database set
# read-only), a lock not granted within lock_timeout, a statement cancelled, a session ended.
PG_READ_ONLY = "25006"
PG_LOCK_NOT_AVAILABLE = "55P03"
PG_QUERY_CANCELED = "57014"
_PG_STUCK = frozenset({PG_READ_ONLY})
_PG_TRANSIENT_CLASSES = ("08", "53", "57")  # connection, resources, operator intervention


class DatabaseUnavailable(Exception):
    """The database cannot serve this now; try again shortly."""


class DatabaseFileReplaced(DatabaseUnavailable):
    """The SQLite file this service opened was deleted or replaced; the service stops rather
    than write into another file."""


# Every error a database call may raise for the database's own reasons; the drivers' own come
# from the statements that go straight to them (bulk inserts, COPY, server-side cursors).
DATABASE_ERRORS = (DBAPIError, DatabaseUnavailable, PoolTimeout, sqlite3.Error, psycopg.Error)
_OPERATIONAL = (
    OperationalError,
    InterfaceError,
    sqlite3.OperationalError,
    psycopg.OperationalError,
)


def sqlite_code(error: BaseException) -> int | None:
    """The primary SQLite result code of an error raised through SQLAlchemy or not."""
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    code = getattr(driver_error, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def pg_state(error: BaseException) -> str | None:
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    state = getattr(driver_error, "sqlstate", None)
    return state if isinstance(state, str) else None


def leaves_connection_stuck(error: BaseException) -> bool:
    """Whether the connection that raised `error` should be replaced, as after a disconnect."""
    return sqlite_code(error) in _SQLITE_STUCK or pg_state(error) in _PG_STUCK


def is_busy(error: BaseException) -> bool:
    """A lock was not granted in time: SQLite's write lock, a PostgreSQL row or table lock."""
    return sqlite_code(error) in _SQLITE_BUSY or pg_state(error) == PG_LOCK_NOT_AVAILABLE


def is_transient(error: BaseException) -> bool:
    """The database's trouble, worth a retry: the request itself was fine."""
    if isinstance(error, DatabaseUnavailable | PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if leaves_connection_stuck(error) or is_busy(error):
        return True
    state = pg_state(error)
    if state is not None:
        return state == PG_QUERY_CANCELED or state.startswith(_PG_TRANSIENT_CLASSES)
    if sqlite_code(error) == SQLITE_FULL:
        return True
    return isinstance(error, _OPERATIONAL) and sqlite_code(error) is None


class FileIdentity:
    """The SQLite file as first opened (device and inode); checked before every commit.

    A file deleted under a running service keeps answering through the connections already open,
    and a new connection would create an empty file in its place: either way a write answered
    201 would be lost. So a changed or missing file refuses the commit, and `on_replaced` is
    told once (the command line stops the process).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        # Told once, with what happened; the command line stops the process there.
        self.on_replaced: Callable[[str], None] | None = None
        self._identity: tuple[int, int] | None = None
        self._told = False
        self._lock = threading.Lock()

    def remember(self) -> None:
        """At each new connection: the first one sets the identity, later ones must match it."""
        found = self._stat()
        if found is None:
            self._refuse("is missing")
            return
        with self._lock:
            if self._identity is None:
                self._identity = (found.st_dev, found.st_ino)
                return
        # SQLite has just created an empty file where the service's was; a freed inode number
        # may even come back for it, so its emptiness is what gives it away.
        if found.st_size == 0:
            self._refuse("was deleted (an empty file took its place)")
        self.check()

    def check(self) -> None:
        if self._identity is None:
            return
        found = self._stat()
        if found is None:
            self._refuse("was deleted")
        elif (found.st_dev, found.st_ino) != self._identity:
            self._refuse("was replaced by another file")

    def _stat(self) -> os.stat_result | None:
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            return None

    def _refuse(self, what: str) -> None:
        message = f"the database file {self.path} {what} while the service ran"
        with self._lock:
            first, self._told = not self._told, True
        if first:
            logger.critical("%s; refusing every write and stopping", message)
            if self.on_replaced is not None:
                self.on_replaced(message)
        raise DatabaseFileReplaced(message)
