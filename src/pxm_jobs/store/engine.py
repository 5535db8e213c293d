"""Database engines and transactions that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError

from pxm_jobs.config import Settings
from pxm_jobs.store.faults import FileIdentity, leaves_connection_stuck

P = ParamSpec("P")
R = TypeVar("R")

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per connection: about SQLite's default. Every connection of the pool keeps what it
# read, so a large cache on all of them multiplies: the one that stored an upload holds its pages,
# the one that read it for the job holds them again.
SQLITE_CACHE_KIB = 2 * 1024
# The page cache of a connection writing many rows into several indexes at once (an import's
# products and their facet rows), which spends most of its time missing a small one; it lasts
# until the connection goes back to the pool, commit included, which writes out what it holds.
SQLITE_BULK_WRITE_CACHE_KIB = 16 * 1024
_BULK_WRITE_CACHE = "pxm_bulk_write_cache"

# Execution option that marks a transaction as one that will write. On SQLite it takes the write
# lock at BEGIN, so two writers queue on the busy timeout instead of failing half-way through.
WRITE_OPTION = "pxm_write"
# Execution option: how long, in milliseconds, this transaction may wait for a lock before the
# database refuses it (SQLite's busy timeout, PostgreSQL's lock_timeout). Requests set it short,
# so that a long job holding a lock is answered with "retry" instead of a long wait.
LOCK_WAIT_OPTION = "pxm_lock_wait_ms"
# Engine option: whether the statements every job passes through go straight to the driver
# (`driver_path`); set from the settings.
DRIVER_PATH_OPTION = "pxm_driver_path"
# Where a transaction keeps what to do once it has committed (see `call_after_commit`).
_AFTER_COMMIT = "pxm_after_commit"


def normalize_url(url: str) -> str:
    """Point plain `postgresql://` URLs at psycopg 3, the driver this service is built on."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(settings: Settings, *, ping_on_checkout: bool = True) -> Engine:
    """An engine for `settings.database_url`, tuned for this service's mix of reads and writes.

    `ping_on_checkout` tests each pooled PostgreSQL connection before use, a round trip that
    spares a request an error after a database restart. A worker process, which retries
    instead, turns it off: its claims and rounds make that round trip thousands of times a
    second.
    """
    url = normalize_url(settings.database_url)
    # Bound values stay out of logged statements and error messages: the signing secret is one,
    # and an operator who turns on SQL logging must not find it there.
    private = {"hide_parameters": True}
    if url.startswith("sqlite"):
        # An in-memory database has one connection per thread and no pool to wait on.
        in_memory = make_url(url).database in (None, "", ":memory:")
        pooled = {} if in_memory else {"pool_timeout": settings.db_pool_timeout_seconds}
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pooled, **private
        )
        _tune_sqlite(engine)
    else:
        lease_ms = int(settings.job_lease_seconds * 1000)
        engine = create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            pool_pre_ping=ping_on_checkout,
            # A session frozen inside a transaction (a paused process, a lost client) is ended
            # by the server after a lease, which releases its locks; and no statement waits
            # longer than a lease for a lock, so a job's re-run is never held up for good.
            connect_args={
                "options": f"-c idle_in_transaction_session_timeout={lease_ms}"
                f" -c lock_timeout={lease_ms}"
            },
            execution_options={DRIVER_PATH_OPTION: settings.db_driver_path},
            **private,
        )
        _tune_postgres(engine)

    @event.listens_for(engine, "handle_error")
    def on_error(context: ExceptionContext) -> None:
        # A connection opened while the database would not take writes stays that way: treat it
        # as lost, so the pool replaces it and the next request gets a working one.
        if context.original_exception is not None and leaves_connection_stuck(
            context.original_exception
        ):
            context.is_disconnect = True

    return engine


def file_identity(engine: Engine) -> FileIdentity | None:
    """What checks that a SQLite engine still writes to the file it opened; None otherwise."""
    return _file_identities.get(engine)


_file_identities: weakref.WeakKeyDictionary[Engine, FileIdentity] = weakref.WeakKeyDictionary()


def _tune_sqlite(engine: Engine) -> None:
    path = engine.url.database
    identity = FileIdentity(os.path.abspath(path)) if path and path != ":memory:" else None
    if identity is not None:
        _file_identities[engine] = identity

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if identity is not None:
            identity.remember()
        # Take over BEGIN from the driver so that writers can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        wait_ms = int(options.get(LOCK_WAIT_OPTION, SQLITE_BUSY_TIMEOUT_MS))
        connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        writes = options.get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        # Shrinking the cache frees the pages over its size.
        if record.info.pop(_BULK_WRITE_CACHE, False) and dbapi_connection is not None:
            dbapi_connection.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    if identity is not None:

        @event.listens_for(engine, "commit")
        def on_commit(_connection: Connection) -> None:
            # Before the commit: a write into a deleted file must not be acknowledged.
            identity.check()


def _tune_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        wait_ms = connection.get_execution_options().get(LOCK_WAIT_OPTION)
        if wait_ms is not None:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")


@contextmanager
def write_transaction(
    engine: Engine, *, lock_first: bool = True, lock_wait_seconds: float | None = None
) -> Iterator[Connection]:
    """A transaction that will write: committed on success, rolled back on any exception.

    Callbacks given to `call_after_commit` run once it has committed, and never if it did not.
    `lock_first=False` lets a SQLite transaction read before it takes the write lock, at its
    first write; SQLite then refuses that write if another one committed since it began.
    `lock_wait_seconds` bounds how long it waits for a lock before the database refuses it.
    """
    options: dict[str, Any] = {WRITE_OPTION: lock_first}
    if lock_wait_seconds is not None:
        options[LOCK_WAIT_OPTION] = int(lock_wait_seconds * 1000)
    with engine.connect() as connection:
        connection = connection.execution_options(**options)
        # Left over from a transaction begun elsewhere (a test's engine.begin()): not ours to run.
        connection.info.pop(_AFTER_COMMIT, None)
        try:
            with connection.begin():
                yield connection
        except BaseException as error:
            connection.info.pop(_AFTER_COMMIT, None)
            _replace_if_stuck(connection, error)
            raise
        for callback in connection.info.pop(_AFTER_COMMIT, ()):
            callback()


def _replace_if_stuck(connection: Connection, error: BaseException) -> None:
    """Drop a connection that a driver's own error left unable to write (SQLAlchemy's errors
    are seen by `handle_error` already)."""
    if not isinstance(error, DBAPIError) and leaves_connection_stuck(error):
        connection.invalidate()


def call_after_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """Run `callback` once the `write_transaction` of `connection` has committed.

    For telling waiters in this process about a change they can only see after the commit:
    SQLite readers see nothing of a transaction still open.
    """
    connection.info.setdefault(_AFTER_COMMIT, []).append(callback)


@contextmanager
def read_transaction(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A transaction that only reads; on SQLite it never waits for a writer.

    With `snapshot`, every statement sees the database as of the first one, on PostgreSQL too
    (REPEATABLE READ): for reads spread over time that must agree, such as a file's chunks.
    """
    with engine.connect() as connection:
        if snapshot and not is_sqlite(engine):
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        try:
            with connection.begin():
                yield connection
        except BaseException as error:
            _replace_if_stuck(connection, error)
            raise


def retrying_stale_connection(work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`work`, done again once if the database dropped the pooled connection it was given.

    A connection goes stale when the database restarts; the pool then replaces all of them, so
    one retry suffices. For work that is one transaction, rolled back when it failed.
    """
    try:
        return work(*args, **kwargs)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return work(*args, **kwargs)


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a single write statement, committed as it runs.

    On PostgreSQL the statement goes alone, in autocommit: one exchange with the database
    instead of three (BEGIN, the statement, COMMIT). On SQLite it runs in a `write_transaction`,
    whose write lock is taken before the caller reads the clock for it.
    """
    if is_sqlite(engine):
        with write_transaction(engine) as connection:
            yield connection
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.info.pop(_AFTER_COMMIT, None)
        try:
            yield connection
        except BaseException:
            connection.info.pop(_AFTER_COMMIT, None)
            raise
        for callback in connection.info.pop(_AFTER_COMMIT, ()):
            callback()


def use_bulk_write_cache(connection: Connection) -> None:
    """Give this connection a large page cache on SQLite until it goes back to the pool."""
    if is_sqlite(connection.engine):
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_WRITE_CACHE_KIB}")
        connection.info[_BULK_WRITE_CACHE] = True


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
