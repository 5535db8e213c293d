"""Every SQL statement of the queue, each built once per dialect and named for what it does.

`lifecycle` runs the ones that move jobs; `workers` and `housekeeping` the ones that keep track
of workers. Three columns carry the queue's rules, as the database enforces them:

- `jobs.status`: every move names the state it leaves in its WHERE clause, so a move that lost
  a race changes nothing; a unique partial index allows one `started` job per store.
- `jobs.worker_id` and `jobs.attempts`: moves out of `started` are fenced by them, so a worker
  that lost a job (its heartbeat went silent and the job was taken back) cannot end it.
- `job_lines.head_seq`: a store's front job, the one its line is waiting on. It is the store's
  started job if it has one, else its earliest pending job (by creation time, then arrival),
  else NULL. Every move that changes which job that is takes the line row's lock first, then
  re-points it in a later statement, which sees every job committed before the lock was taken.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Float,
    Insert,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import ReturningUpdate

from pxm_jobs.job_events import JobEvent
from pxm_jobs.queue.models import JobStatus
from pxm_jobs.store.driver_path import fetch_first
from pxm_jobs.store.prebuilt import statement_for
from pxm_jobs.store.tables import (
    integration_deliveries,
    integration_observers,
    job_errors,
    job_lines,
    jobs,
    workers,
)
from pxm_jobs.store.types import UtcDateTime

STATUS_CHANNEL = "pxm_jobs_status"  # NOTIFY channel of status changes; the payload is a job id
NEW_WORK_CHANNEL = "pxm_jobs"  # NOTIFY channel that wakes idle workers
CANCEL_CHANNEL = "pxm_jobs_cancel"  # NOTIFY channel of stop requests; the payload is a job id

PENDING = JobStatus.PENDING.constant
STARTED = JobStatus.STARTED.constant


def run(connection: Connection, build: Any, parameters: dict[str, Any] | None = None) -> Any:
    """Execute the statement `build` makes for this connection's dialect, built on first use."""
    return connection.execute(statement_for(connection, build), parameters or {})


def first_row(connection: Connection, build: Any, parameters: dict[str, Any]) -> Any | None:
    """The first row of `build`'s statement, or None: for the statements every job passes
    through, which on PostgreSQL go straight to the driver (`store.driver_path`)."""
    return fetch_first(connection, statement_for(connection, build), parameters)


def clock(dialect: str) -> ColumnElement[Any]:
    """The moment a move happens, as the statement records it.

    PostgreSQL reads its own clock as the statement starts, so the start of a store's next job
    is never recorded before the end of the one before it, whichever machines ran them (the
    claim's statement starts only after that end committed). SQLite
    takes the time the caller read after its transaction took the write lock (`p_now`): every
    writer is on this machine, one after another.
    """
    if dialect == "postgresql":
        return func.timezone("UTC", func.statement_timestamp(), type_=UtcDateTime())
    return bindparam("p_now", type_=UtcDateTime())


def _silent_since(dialect: str) -> ColumnElement[Any]:
    """The moment before which a worker not heard from is taken for dead (`p_silence_seconds`)."""
    if dialect == "postgresql":
        seconds = bindparam("p_silence_seconds", type_=Float)
        return clock(dialect) - func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    return bindparam("p_silent_since", type_=UtcDateTime())


def _notice(dialect: str) -> tuple[ColumnElement[Any], ...]:
    """A RETURNING column that sends the status NOTIFY with the move itself (PostgreSQL)."""
    if dialect != "postgresql":
        return ()
    return (func.pg_notify(STATUS_CHANNEL, jobs.c.id).label("status_notice"),)


def _wakes_workers(dialect: str) -> tuple[ColumnElement[Any], ...]:
    """A RETURNING column that wakes idle workers with the move itself (PostgreSQL)."""
    if dialect != "postgresql":
        return ()
    return (func.pg_notify(NEW_WORK_CHANNEL, "").label("work_notice"),)


def _fenced() -> ColumnElement[bool]:
    """The job (`p_seq`) is still started by the worker and attempt that claimed it."""
    return (
        (jobs.c.seq == bindparam("p_seq"))
        & (jobs.c.status == STARTED)
        & (jobs.c.worker_id == bindparam("p_worker_id"))
        & (jobs.c.attempts == bindparam("p_attempts"))
    )


# -- a store's line ---------------------------------------------------------------------------


def create_line(dialect: str) -> Insert:
    """Give the store (`p_store_id`) a line row if it has none yet."""
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        dialect_insert(job_lines).values(store_id=bindparam("p_store_id")).on_conflict_do_nothing()
    )


def lock_line(dialect: str) -> Select[Any]:
    """Lock the store's line row (`p_store_id`), waiting for whoever holds it."""
    return (
        select(job_lines.c.store_id)
        .where(job_lines.c.store_id == bindparam("p_store_id"))
        .with_for_update()
    )


def lock_line_unless_held(dialect: str) -> Select[Any]:
    """Lock the store's line row (`p_store_id`) unless another transaction holds it."""
    return lock_line(dialect).with_for_update(skip_locked=True)


def _front(column: Any, status: ColumnElement[str]) -> Any:
    return (
        select(column)
        .where(jobs.c.store_id == job_lines.c.store_id, jobs.c.status == status)
        .order_by(jobs.c.created_at, jobs.c.seq)
        .limit(literal_column("1", Integer))
        .scalar_subquery()
    )


def repoint_line(dialect: str) -> Update:
    """Point the store's line (`p_store_id`) at its front job: started, else earliest pending.

    Run it only after the statement that locked the line, never as the one that locks it: a
    statement sees what committed before it began, and only then are all jobs queued before
    the lock in view.
    """
    return (
        update(job_lines)
        .where(job_lines.c.store_id == bindparam("p_store_id"))
        .values(
            head_seq=func.coalesce(_front(jobs.c.seq, STARTED), _front(jobs.c.seq, PENDING)),
            head_created_at=func.coalesce(
                _front(jobs.c.created_at, STARTED), _front(jobs.c.created_at, PENDING)
            ),
        )
    )


# -- the moves of a job ------------------------------------------------------------------------


def insert_job(dialect: str) -> Any:
    """∅ → pending: a new job, behind its store's other jobs (created at `p_created_at`)."""
    return insert(jobs).returning(*jobs.c)


def claim_job(dialect: str) -> Any:
    """pending → started: the front job of the store whose front has waited longest.

    One statement. Only a line's front job is ever a candidate, so a store's jobs start one at a
    time and in order; a front that is started is not pending, so a busy store is passed over.
    Lines that another transaction holds (a job of the store being queued, cancelled or ended)
    are passed over too, and so is a front job a racing claim or cancel holds: the statement
    never waits. A line re-pointed since this statement's snapshot fails the front check on the
    fresh row PostgreSQL locks, and is passed over rather than trusted. On PostgreSQL the same
    statement writes the job's `started` events (see `_with_started_events`).
    """
    front = jobs.alias("front")
    # A subquery, not a join: PostgreSQL then looks up each line's front by its key, line after
    # line in the order waited, and stops at the first that is pending. As a join, statistics
    # taken while a queue drains led it to read every pending job of every store instead.
    front_status = (
        select(front.c.status).where(front.c.seq == job_lines.c.head_seq).scalar_subquery()
    )
    head = (
        select(job_lines.c.head_seq)
        .where(job_lines.c.head_seq.is_not(None), front_status == PENDING)
        .order_by(job_lines.c.head_created_at, job_lines.c.head_seq)
        .limit(literal_column("1", Integer))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    now = clock(dialect)
    claim = (
        update(jobs)
        .where(jobs.c.seq == head, jobs.c.status == PENDING)
        .values(
            status=JobStatus.STARTED,
            started_at=now,
            updated_at=now,
            worker_id=bindparam("p_worker_id"),
            attempts=jobs.c.attempts + 1,
        )
        .returning(*jobs.c, *_notice(dialect))
    )
    return _with_events(claim, JobEvent.STARTED) if dialect == "postgresql" else claim


def _with_events(
    move: ReturningUpdate[Any], event: JobEvent, *, repoints_line: bool = False
) -> Select[Any]:
    """The move, and an outbox row for each integration of the store observing `event`.

    The two moves every job makes write their events in their own statement (PostgreSQL): the
    claim is sent alone, in autocommit, so its events must be part of it to commit with it; and
    the finish spares every job a round trip. A data-modifying CTE reads the moved row and the
    store's observers (one probe of their primary key, nothing found for most stores). The
    answer is the moved row, with `events_written` counting the rows written. With
    `repoints_line` (a finish) the statement also re-points the store's line (`_repoint_after`)
    and `line_repointed` counts the line rows it changed.
    """
    moved = move.cte("moved")
    observers = integration_observers
    observed = literal_column(f"'{event.value}'", String)
    now = clock("postgresql")
    snapshot = {
        "id": func.gen_random_uuid().cast(String),
        "store_id": moved.c.store_id,
        "integration_id": observers.c.integration_id,
        "event": observed,
        "state": literal_column("'pending'", String),
        "attempts": literal_column("0", Integer),
        "next_attempt_at": now,
        "created_at": now,
        "job_id": moved.c.id,
        "job_type": moved.c.type,
        "job_status": moved.c.status,
        "job_created_at": moved.c.created_at,
        "job_updated_at": moved.c.updated_at,
        "job_started_at": moved.c.started_at,
        "job_completed_at": moved.c.completed_at,
        "job_request_id": moved.c.request_id,
        "job_meta": moved.c.meta,
        "job_progress_processed": moved.c.progress_processed,
        "job_progress_total": moved.c.progress_total,
    }
    written = (
        insert(integration_deliveries)
        .from_select(
            list(snapshot),
            select(*snapshot.values()).join_from(
                moved,
                observers,
                (observers.c.store_id == moved.c.store_id) & (observers.c.event == observed),
            ),
        )
        .returning(integration_deliveries.c.seq)
        .cte("events")
    )
    count = select(func.count()).select_from(written).scalar_subquery()
    if not repoints_line:
        return select(moved, count.label("events_written"))
    repointed = _repoint_after(moved)
    lines = select(func.count()).select_from(repointed).scalar_subquery()
    return select(moved, count.label("events_written"), lines.label("line_repointed"))


def _repoint_after(moved: Any) -> Any:
    """A CTE that points the moved job's line at the store's earliest pending job.

    For a move out of `started` whose transaction locked the line in an earlier statement: this
    statement's snapshot then holds every job queued before the lock, and the moved job was the
    store's one started job, so the earliest pending one is the front now. (The move's own
    change is not in the snapshot, but the job was `started` there, not pending.) Nothing is
    re-pointed when the move changed nothing.
    """
    return (
        update(job_lines)
        .where(job_lines.c.store_id == select(moved.c.store_id).scalar_subquery())
        .values(
            head_seq=_front(jobs.c.seq, PENDING),
            head_created_at=_front(jobs.c.created_at, PENDING),
        )
        .returning(job_lines.c.store_id)
        .cte("line")
    )


def finish_job(dialect: str) -> Any:
    """started → success, fenced, with the job's final meta and progress.

    On PostgreSQL the same statement writes the job's `succeeded` events (see `_with_events`),
    re-points the store's line (`_repoint_after`; `finish_job` of `lifecycle` locks it first)
    and wakes idle workers for the store's next job (`_wakes_workers`).
    """
    now = clock(dialect)
    finish = (
        update(jobs)
        .where(_fenced())
        .values(
            status=JobStatus.SUCCESS,
            completed_at=now,
            updated_at=now,
            meta=bindparam("p_meta", type_=jobs.c.meta.type),
            progress_processed=bindparam("p_processed", type_=Integer),
            progress_total=bindparam("p_total", type_=Integer),
        )
        .returning(*jobs.c, *_notice(dialect), *_wakes_workers(dialect))
    )
    if dialect != "postgresql":
        return finish
    return _with_events(finish, JobEvent.SUCCEEDED, repoints_line=True)


def fail_job(dialect: str) -> ReturningUpdate[Any]:
    """started → failed, fenced, with the job's final meta and progress (errors go beside it)."""
    now = clock(dialect)
    return (
        update(jobs)
        .where(_fenced())
        .values(
            status=JobStatus.FAILED,
            completed_at=now,
            updated_at=now,
            meta=bindparam("p_meta", type_=jobs.c.meta.type),
            progress_processed=bindparam("p_processed", type_=Integer),
            progress_total=bindparam("p_total", type_=Integer),
        )
        .returning(*jobs.c, *_notice(dialect))
    )


def requeue_job(dialect: str) -> ReturningUpdate[Any]:
    """started → pending, fenced: back to the front of its line, to run again from the start.

    `p_attempts_after` is what the job's attempt count becomes: kept when its worker was lost
    (the run counts), one less when the worker handed it back on its way out (it does not).
    """
    return (
        update(jobs)
        .where(_fenced())
        .values(
            status=JobStatus.PENDING,
            started_at=None,
            updated_at=clock(dialect),
            worker_id=None,
            attempts=bindparam("p_attempts_after", type_=Integer),
            progress_processed=None,
            progress_total=None,
        )
        .returning(*jobs.c, *_notice(dialect))
    )


def cancel_job(dialect: str) -> ReturningUpdate[Any]:
    """pending → cancelled: the store's job (`p_store_id`, `p_job_id`) while it still waits."""
    return (
        update(jobs)
        .where(
            jobs.c.id == bindparam("p_job_id"),
            jobs.c.store_id == bindparam("p_store_id"),
            jobs.c.status == PENDING,
        )
        .values(
            status=JobStatus.CANCELLED,
            completed_at=clock(dialect),
            updated_at=clock(dialect),
        )
        .returning(*jobs.c, *_notice(dialect))
    )


def request_cancel(dialect: str) -> ReturningUpdate[Any]:
    """Ask the store's started job (`p_store_id`, `p_job_id`) to stop; it stays `started`."""
    return (
        update(jobs)
        .where(
            jobs.c.id == bindparam("p_job_id"),
            jobs.c.store_id == bindparam("p_store_id"),
            jobs.c.status == STARTED,
            jobs.c.cancel_requested_at.is_(None),
        )
        .values(cancel_requested_at=clock(dialect), updated_at=clock(dialect))
        .returning(*jobs.c, *_notice(dialect))
    )


def end_cancelled_job(dialect: str) -> ReturningUpdate[Any]:
    """started → cancelled, fenced: a job that was asked to stop, its work rolled back."""
    now = clock(dialect)
    return (
        update(jobs)
        .where(_fenced())
        .values(
            status=JobStatus.CANCELLED,
            completed_at=now,
            updated_at=now,
            progress_processed=bindparam("p_processed", type_=Integer),
            progress_total=bindparam("p_total", type_=Integer),
        )
        .returning(*jobs.c, *_notice(dialect))
    )


def find_cancel_requests(dialect: str) -> Select[Any]:
    """The started jobs of a worker (`p_worker_id`) that were asked to stop."""
    return select(jobs.c.id).where(
        jobs.c.worker_id == bindparam("p_worker_id"),
        jobs.c.status == STARTED,
        jobs.c.cancel_requested_at.is_not(None),
    )


def record_progress(dialect: str) -> Update:
    """How far a started job has got, fenced, for other processes to read while it runs."""
    return (
        update(jobs)
        .where(_fenced())
        .values(
            progress_processed=bindparam("p_processed", type_=Integer),
            progress_total=bindparam("p_total", type_=Integer),
        )
    )


def add_job_errors(dialect: str) -> Insert:
    """A job's errors, in the order they were found (one row per problem)."""
    return insert(job_errors)


def find_job(dialect: str) -> Select[Any]:
    """The store's job (`p_store_id`, `p_job_id`), whatever its status."""
    return select(jobs).where(
        jobs.c.id == bindparam("p_job_id"), jobs.c.store_id == bindparam("p_store_id")
    )


def lock_job_unless_held(dialect: str) -> Select[Any]:
    """Lock the job row (`p_seq`) unless another transaction holds it."""
    return (
        select(jobs.c.seq).where(jobs.c.seq == bindparam("p_seq")).with_for_update(skip_locked=True)
    )


# -- workers ---------------------------------------------------------------------------------


def register_worker(dialect: str) -> Insert:
    """A worker that starts: its id, where it runs, and when it was last heard from."""
    now = clock(dialect)
    return insert(workers).values(
        id=bindparam("p_worker_id"),
        hostname=bindparam("p_hostname"),
        pid=bindparam("p_pid"),
        started_at=now,
        last_seen_at=now,
    )


def touch_worker(dialect: str) -> Update:
    """The worker's heartbeat: it is alive now, and so are the jobs it runs."""
    return (
        update(workers)
        .where(workers.c.id == bindparam("p_worker_id"))
        .values(last_seen_at=clock(dialect))
    )


def forget_worker(dialect: str) -> Delete:
    """A worker that stopped; whatever it still ran is abandoned at once."""
    return delete(workers).where(workers.c.id == bindparam("p_worker_id"))


def forget_silent_workers(dialect: str) -> Delete:
    """Workers silent since long before the silence given, whose jobs were long taken back."""
    return delete(workers).where(workers.c.last_seen_at < _silent_since(dialect))


def find_abandoned_jobs(dialect: str) -> Select[Any]:
    """Started jobs whose worker has gone silent (or is gone), oldest start first."""
    alive = (
        select(workers.c.id)
        .where(workers.c.id == jobs.c.worker_id, workers.c.last_seen_at >= _silent_since(dialect))
        .exists()
    )
    return (
        select(jobs)
        .where(jobs.c.status == STARTED, ~alive)
        .order_by(jobs.c.started_at)
        .limit(literal_column("100", Integer))
    )


def silence_parameters(now: Any, silence_seconds: float) -> dict[str, Any]:
    """The parameters `find_abandoned_jobs` reads, on either database."""
    return {
        "p_silence_seconds": silence_seconds,
        "p_silent_since": now - timedelta(seconds=silence_seconds),
    }


# -- waking ----------------------------------------------------------------------------------


def notify_new_work(dialect: str) -> Any:
    """Tell idle workers of every process, once this transaction commits (PostgreSQL)."""
    return select(func.pg_notify(NEW_WORK_CHANNEL, ""))


def notify_status(dialect: str) -> Any:
    """Tell waiters of every process that the job (`p_job_id`) changed (PostgreSQL)."""
    return select(func.pg_notify(STATUS_CHANNEL, bindparam("p_job_id")))


def notify_cancel(dialect: str) -> Any:
    """Tell the workers of every process that a started job (`p_job_id`) must stop."""
    return select(func.pg_notify(CANCEL_CHANNEL, bindparam("p_job_id")))
