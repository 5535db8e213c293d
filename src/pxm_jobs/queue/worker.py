"""The worker: job threads that claim jobs and run them in rounds, and a housekeeping thread."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import DBAPIError, IntegrityError

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue.chains import ChainedRun, take_next_jobs
from pxm_jobs.queue.claims import finish_and_claim
from pxm_jobs.queue.execution import do_work, progress_writer, record_stop
from pxm_jobs.queue.handoff import RoundWatch, take_all
from pxm_jobs.queue.held import HeldJobs
from pxm_jobs.queue.housekeeping import Housekeeper
from pxm_jobs.queue.metrics import record_pickup, record_run
from pxm_jobs.queue.models import Job
from pxm_jobs.queue.progress import ProgressTracker, forget_progress
from pxm_jobs.queue.registry import touch_worker
from pxm_jobs.queue.runner import RunnerRegistry
from pxm_jobs.queue.transitions import LeaseLost, finish_job
from pxm_jobs.queue.wakeup import WorkSignal
from pxm_jobs.store.engine import is_sqlite, retrying_stale_connection, write_transaction
from pxm_jobs.store.tables import workers

logger = logging.getLogger(__name__)


# A round takes on more jobs only while each runs this quickly, so that a slow job rarely keeps
# jobs of other stores waiting behind it. Wall time: well above the 5 ms a thread may wait for
# Python's interpreter lock, so that a busy process does not pass for slow jobs.
QUICK_JOB_SECONDS = 0.02
# Once a round has run this long, the jobs it has not started are handed to other threads.
ROUND_BUDGET_SECONDS = 0.05
# A round goes on with its stores' next jobs (see `chains`) at most this many times, and not
# once it has run this long: those jobs' rows stay locked until the round commits.
CHAIN_STEPS = 16
CHAIN_BUDGET_SECONDS = 0.02

# A gap between one round and the next on SQLite, for other writers to take the write lock in.
SQLITE_WRITER_GAP_SECONDS = 0.005


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs jobs in `concurrency` threads, plus one thread for leases and recovery."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        runners: RunnerRegistry,
        *,
        concurrency: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.runners = runners
        self.id = worker_id or new_worker_id()
        self.concurrency = concurrency or settings.worker_concurrency_for(engine.dialect.name)
        self.signal = WorkSignal(engine)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.held = HeldJobs()
        # Held by the job thread that may run several jobs per round (see `_run_jobs`).
        self._lead = threading.Lock()
        self._lead_batches = False  # whether that thread does, so the others step back
        self._writers_poll = is_sqlite(engine)
        self.round_watch = RoundWatch(ROUND_BUDGET_SECONDS, self.signal.wake)
        self.housekeeper = Housekeeper(
            engine, settings, self.id, self.held, self.signal, self._stopping
        )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        touch_worker(self.engine, self.id, utc_now())
        self.signal.start()
        self.round_watch.start()
        self._threads = [
            threading.Thread(target=self._run_jobs, name=f"pxm-jobs-run-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        self._threads.append(
            threading.Thread(
                target=self.housekeeper.keep_house, name="pxm-jobs-housekeeping", daemon=True
            )
        )
        for thread in self._threads:
            thread.start()
        logger.info("worker %s started with %d job threads", self.id, self.concurrency)

    def stop(self, grace_seconds: float | None = None) -> bool:
        """Stop claiming, give running jobs `grace_seconds` to finish; True if all did."""
        grace = (
            self.settings.worker_shutdown_grace_seconds if grace_seconds is None else grace_seconds
        )
        self._stopping.set()
        self.signal.stop()
        deadline = threading.Event()
        timer = threading.Timer(grace, deadline.set)
        timer.start()
        for thread in self._threads:
            while thread.is_alive() and not deadline.is_set():
                thread.join(timeout=0.05)
        timer.cancel()
        self.round_watch.stop()
        finished = not any(thread.is_alive() for thread in self._threads)
        if finished:
            with write_transaction(self.engine) as connection:
                connection.execute(delete(workers).where(workers.c.id == self.id))
        else:
            # Leases of the jobs still running will lapse and another worker will rerun them.
            logger.warning("worker %s stopped with jobs still running", self.id)
        return finished

    # -- job threads ------------------------------------------------------------------------
    #
    # A job thread works in rounds: one transaction runs the jobs it claimed, records their
    # success and claims the next ones, so a job costs one commit, not two. One thread at a time,
    # the leading one, may take on several jobs (of different stores) per round, and only while
    # jobs prove quick; each job's effects still commit together with its `success`. While it
    # does, the other threads step back, so that quick jobs gather in its rounds instead of
    # spreading thin over every thread's. A round that cannot finish whole (a job failed, a
    # lease was lost) is rolled back and its jobs run one by one, each in its own transaction.

    def _run_jobs(self) -> None:
        claimed: list[Job] = []
        limit = 1
        leading = False
        settled = False  # whether the next round may run its stores' next jobs chained
        step_back = False
        while not self._stopping.is_set():
            if not claimed:
                if leading:
                    self._give_up_lead()
                    leading = False
                limit = 1
                settled = False
                handed = self.round_watch.take_handed()
                if handed is not None:
                    claimed = [handed]
                elif step_back:
                    # The leading thread wakes this one when it finds more than it can take,
                    # and so does a round that hands jobs off.
                    self.signal.wait(self.settings.worker_poll_seconds)
                    step_back = False
                    continue
                else:
                    claimed = self._claim_when_ready()
                    if not claimed:
                        continue
            if not leading:
                leading = self._lead.acquire(blocking=False)
            hold = limit if leading else (0 if self._lead_batches else 1)
            try:
                claimed, quick = self.run_round(claimed, hold, chain=settled)
            except Exception as error:
                # The outcomes could not be recorded; the leases will lapse and the jobs rerun.
                _log_trouble("jobs not finished", error)
                claimed, quick = [], False
                self._stopping.wait(self.settings.worker_poll_seconds)
            if leading:
                # One job more per quick round, not twice as many: the leading threads of
                # several workers then take on a burst of stores at the same pace and share them
                # about evenly. Doubling let the first to start take most of them, and its
                # stores finished long after the others', with the other workers idle.
                limit = min(limit + 1, self.settings.worker_batch_size) if quick else 1
                self._lead_batches = limit > 1
                # No store is waiting for a thread (the claim had room to spare): the stores
                # held go faster run chained than taken on one job a round.
                settled = quick and len(claimed) < hold
            else:
                step_back = hold == 0
            if self._writers_poll:
                # SQLite has no queue of writers: one waiting for the lock retries now and then
                # and must find it free. Rounds back to back would leave it no gap to find.
                time.sleep(SQLITE_WRITER_GAP_SECONDS)
        if leading:
            self._give_up_lead()
        self._run_held_before_stopping(claimed)

    def _run_held_before_stopping(self, held: list[Job]) -> None:
        """Jobs claimed but not run yet, this thread's or handed off, get the grace period too."""
        try:
            while True:
                if not held:
                    handed = self.round_watch.take_handed()
                    if handed is None:
                        return
                    held = [handed]
                held, _ = self.run_round(held, 0)
        except Exception:
            logger.exception("jobs not finished before stopping; their leases will lapse")

    def _give_up_lead(self) -> None:
        self._lead_batches = False
        self._lead.release()

    def _claim_when_ready(self) -> list[Job]:
        """One job claimed on its own, or nothing after waiting for a signal or a poll."""
        self.signal.clear()
        try:
            claimed = retrying_stale_connection(self.claim_batch, 1)
        except IntegrityError:
            # Another claimer started this store's job first; the database refused ours.
            return []
        except Exception as error:
            _log_trouble("claim failed; retrying", error)
            self._stopping.wait(self.settings.worker_poll_seconds)
            return []
        if not claimed:
            self.signal.wait(self.settings.worker_poll_seconds)
        return claimed

    def claim(self) -> Job | None:
        """Claim one job, in a transaction of its own; None if no store has one ready."""
        claimed = self.claim_batch(1)
        return claimed[0] if claimed else None

    def claim_batch(self, limit: int) -> list[Job]:
        """Claim up to `limit` jobs of as many stores, in a transaction of their own."""
        with write_transaction(self.engine) as connection:
            claimed = self._claim_on(connection, limit)
        self._note_claimed(claimed)
        return claimed

    def _claim_on(
        self,
        connection: Connection,
        limit: int,
        finished: Sequence[tuple[Job, Mapping[str, Any]]] = (),
        chained: Sequence[ChainedRun] = (),
        relined: Collection[str] = (),
    ) -> list[Job]:
        """Claim up to `limit` jobs, after recording the success of `finished` ones.

        The claim is the last statement of the transaction of `connection`, which its callers
        commit right after.
        """
        return finish_and_claim(
            connection,
            finished,
            worker_id=self.id,
            now=utc_now(),
            lease_seconds=self.settings.job_lease_seconds,
            limit=limit,
            chained=chained,
            relined=relined,
            ends_transaction=True,
        )

    def _note_claimed(self, claimed: list[Job]) -> None:
        self.held.add(claimed)
        for job in claimed:
            _record_first_start(job)

    def run_round(
        self, batch: list[Job], hold: int, *, chain: bool = False, reconnect: bool = True
    ) -> tuple[list[Job], bool]:
        """Run claimed jobs in one transaction that claims the next, up to `hold` held after it.

        With `chain`, and while the jobs prove quick, the round also runs the next jobs of their
        stores (see `chains`). Returns the jobs now held and whether every job of the round was
        quick. Jobs the round had not started when it ran out of time are handed off to other
        threads (`RoundWatch`).
        """
        finished: list[tuple[Job, Mapping[str, Any], float]] = []
        taken: list[Job] = []  # jobs of the batch this round started, in order
        round_began = time.monotonic()
        links = _Chain([])
        with self.round_watch.watching(batch) as unstarted:
            try:
                with write_transaction(self.engine) as connection:
                    while unstarted:
                        try:
                            job = unstarted.popleft()
                        except IndexError:  # handed off meanwhile
                            break
                        taken.append(job)
                        job_began = time.monotonic()
                        meta = self._attempt(connection, job, len(finished))
                        finished.append((job, meta, time.monotonic() - job_began))
                    to_record = [(job, meta) for job, meta, _ in finished]
                    links = _Chain(to_record)
                    if chain and _all_quick(finished) and len(taken) == len(batch):
                        self._run_chained(connection, links, round_began)
                    room = 0 if self._stopping.is_set() else hold
                    claimed = self._claim_on(
                        connection, room, links.finished, links.chained, links.stores
                    )
            except _RoundAbandoned as abandoned:
                self._run_one_by_one(taken + take_all(unstarted), abandoned)
                return [], False
            except _ChainAbandoned:
                # The round's own jobs run again one by one; those it took on the way are
                # pending again, and run (and fail, if they do) as any other.
                self._run_one_by_one(taken + take_all(unstarted), None)
                return [], False
            except LeaseLost:
                self._run_one_by_one(taken + take_all(unstarted), None)
                return [], False
            except Exception as error:
                mine = taken + take_all(unstarted)
                if reconnect and isinstance(error, DBAPIError) and error.connection_invalidated:
                    # The database restarted since this connection was last used; the pool
                    # now has fresh ones, and the round was rolled back: run it again.
                    return self.run_round(mine, hold, chain=chain, reconnect=False)
                for job in mine:
                    self._forget(job)
                raise
        for job, _, seconds in finished:
            self._forget(job)
            record_run(job.type, "success", seconds)
        for job, seconds in links.ran:
            record_run(job.type, "success", seconds)
        self._note_claimed(claimed)
        growing = self._lead_batches and room > 1 and room < self.settings.worker_batch_size
        if room > 0 and len(claimed) == room and not growing:
            # This round took all it had room for: there may be more ready for an idle thread.
            # Not while the leading thread is still taking on one more store a round: woken
            # threads would only race it for the same stores.
            self.signal.wake()
        quick = _all_quick(finished) and all(s < QUICK_JOB_SECONDS for _, s in links.ran)
        return claimed, quick

    def _run_chained(self, connection: Connection, links: _Chain, round_began: float) -> None:
        """Run the next jobs of the round's stores in its transaction, while they prove quick.

        Each step records the successes so far and takes the next job of each store that had
        one (see `chains`); the round's claim records the last step's.
        """
        for _ in range(CHAIN_STEPS):
            if self._stopping.is_set() or time.monotonic() - round_began > CHAIN_BUDGET_SECONDS:
                return
            next_jobs = take_next_jobs(
                connection, links.finished, links.chained, worker_id=self.id, now=utc_now()
            )
            links.finished, links.chained = [], []
            for job in next_jobs:
                links.stores.add(job.store_id)
                _record_first_start(job)
                job_began = time.monotonic()
                # Progress goes to memory only: the row is not this worker's under a lease, and
                # the last progress is recorded with the success.
                tracker = ProgressTracker(job.id, None)
                try:
                    meta = do_work(connection, job, self.runners, self.settings, tracker)
                except DBAPIError:
                    raise
                except Exception as error:
                    raise _ChainAbandoned(str(error)) from error
                finally:
                    forget_progress(job.id)
                seconds = time.monotonic() - job_began
                links.ran.append((job, seconds))
                links.chained.append(ChainedRun(job, meta, tracker.latest))
                if seconds >= QUICK_JOB_SECONDS:
                    # The jobs of this step not run yet stay pending, heads of their lines,
                    # released when the round commits (or claimed by it).
                    return
            if not next_jobs:
                return

    def _attempt(self, connection: Connection, job: Job, index: int) -> Mapping[str, Any]:
        """The job's work in a round, where it is the `index`-th; its meta."""
        tracker = ProgressTracker(job.id, progress_writer(self.engine, job))
        try:
            return do_work(connection, job, self.runners, self.settings, tracker)
        except DBAPIError:
            raise
        except Exception as error:
            raise _RoundAbandoned(index, error, tracker) from error
        finally:
            forget_progress(job.id)

    def _run_one_by_one(self, batch: list[Job], abandoned: _RoundAbandoned | None) -> None:
        """After a round was rolled back: each job again in its own transaction.

        The job that stopped the round is not run again: its failure is recorded as it stands.
        """
        for index, job in enumerate(batch):
            if abandoned is not None and index == abandoned.index:
                record_stop(self.engine, job, abandoned.error, abandoned.tracker)
                self._forget(job)
            else:
                self.run(job)

    def run(self, job: Job) -> None:
        """Run a claimed job to `success` or `failed`, unless its lease is lost on the way."""
        self.held.add([job])
        tracker = ProgressTracker(job.id, progress_writer(self.engine, job))
        started = time.monotonic()
        outcome = "failed"
        try:
            with write_transaction(self.engine) as connection:
                meta = do_work(connection, job, self.runners, self.settings, tracker)
                finish_job(connection, job, meta, utc_now())
            outcome = "success"
        except DBAPIError:
            raise
        except Exception as error:
            outcome = record_stop(self.engine, job, error, tracker)
        finally:
            self._forget(job)
            record_run(job.type, outcome, time.monotonic() - started)
        # The store's next job may now be ready for any idle thread.
        self.signal.wake()

    def _forget(self, job: Job) -> None:
        self.held.drop(job)
        forget_progress(job.id)


def _log_trouble(what: str, error: Exception) -> None:
    """A database error is to be expected now and then (a restart); anything else is a bug."""
    if isinstance(error, DBAPIError):
        logger.warning("%s: database unavailable (%s)", what, error.orig)
    else:
        logger.error("%s: the worker itself failed", what, exc_info=error)


def _record_first_start(job: Job) -> None:
    # A rerun's wait includes its earlier runs: only first starts measure the queue.
    if job.attempts == 1 and job.started_at is not None:
        record_pickup(job.type, (job.started_at - job.created_at).total_seconds())


def _all_quick(finished: Sequence[tuple[Job, Mapping[str, Any], float]]) -> bool:
    return all(seconds < QUICK_JOB_SECONDS for _, _, seconds in finished)


@dataclass
class _Chain:
    """A round's chained runs: what is still to be recorded, which stores, what ran and how long."""

    finished: list[tuple[Job, Mapping[str, Any]]]
    chained: list[ChainedRun] = field(default_factory=list)
    stores: set[str] = field(default_factory=set)
    ran: list[tuple[Job, float]] = field(default_factory=list)


class _ChainAbandoned(Exception):
    """A job run chained stopped short of success: the round is rolled back."""


class _RoundAbandoned(Exception):
    """A job of a round stopped short of success, so the round's transaction is rolled back."""

    def __init__(self, index: int, error: Exception, tracker: ProgressTracker) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error
        self.tracker = tracker
