"""What a worker does besides running jobs: keeping its heartbeat, taking back jobs whose
worker went silent, and deleting finished jobs, files and webhook deliveries past their
retention."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.queue import statements as sql
from pxm_jobs.queue.lifecycle import recover_abandoned_job
from pxm_jobs.queue.metrics import record_recovery
from pxm_jobs.queue.outbox import PRUNE_BATCH as DELIVERY_PRUNE_BATCH
from pxm_jobs.queue.outbox import prune_ended_deliveries
from pxm_jobs.queue.retention import PRUNE_BATCH, prune_finished_jobs
from pxm_jobs.queue.stop_requests import ask_to_stop
from pxm_jobs.queue.wakeup import WorkSignal
from pxm_jobs.queue.workers import (
    find_abandoned_jobs,
    find_stop_requests,
    register_worker,
    touch_worker,
)
from pxm_jobs.store.blobs import PURGE_BATCH, purge_expired_blobs
from pxm_jobs.store.engine import read_transaction, write_transaction

logger = logging.getLogger(__name__)

# Files and finished jobs expire by the day: looking for expired ones every few minutes is plenty.
PURGE_INTERVAL_SECONDS = 300
# A worker row silent this many leases is removed: its jobs were taken back long before.
FORGET_AFTER_LEASES = 10


class Housekeeper:
    """One worker's housekeeping, run by `keep_house` in a thread of its own."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        worker_id: str,
        signal: WorkSignal,
        stopping: threading.Event,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.worker_id = worker_id
        self.signal = signal
        self.stopping = stopping
        self._next_purge_at = 0.0  # time.monotonic() of the next purge; the first comes at once
        self._next_prune_at = 0.0  # likewise, for finished jobs past their retention
        self._next_delivery_prune_at = 0.0  # and for ended webhook deliveries

    def keep_house(self) -> None:
        # A third of the lease: the heartbeat survives two missed beats.
        interval = self.settings.job_lease_seconds / 3
        while True:
            try:
                self.beat()
                self.recover_abandoned()
                self.prune_old_jobs()
                self.purge_expired_files()
                self.prune_old_deliveries()
            except DBAPIError as error:
                logger.warning("housekeeping failed (%s); retrying", error.orig)
            if self.stopping.wait(interval):
                return

    def beat(self) -> None:
        """The heartbeat; a worker whose row was removed while it was silent signs on again.

        It also picks up requests to stop this worker's jobs that no notification brought.
        """
        if not touch_worker(self.engine, self.worker_id):
            logger.warning("worker %s was taken for dead; signing on again", self.worker_id)
            register_worker(self.engine, self.worker_id)
        if self.settings.cancel_started_jobs:
            with read_transaction(self.engine) as connection:
                ask_to_stop(find_stop_requests(connection, self.worker_id))

    def recover_abandoned(self) -> int:
        """Requeue or fail jobs whose worker went silent; how many moved.

        Each job moves in a transaction of its own, and one that another transaction holds is
        passed over (its worker, frozen mid-move, or a recovery elsewhere): nothing here waits.
        """
        lease = self.settings.job_lease_seconds
        with read_transaction(self.engine) as connection:
            abandoned = find_abandoned_jobs(connection, utc_now(), lease)
        moved = 0
        for job in abandoned:
            with write_transaction(self.engine) as connection:
                outcome = recover_abandoned_job(
                    connection, job, utc_now(), self.settings.job_max_attempts
                )
            if outcome is not None:
                moved += 1
                record_recovery(outcome.value)
                logger.warning(
                    "job %s: worker %s went silent; now %s", job.id, job.worker_id, outcome
                )
        with write_transaction(self.engine) as connection:
            sql.run(
                connection,
                sql.forget_silent_workers,
                sql.silence_parameters(utc_now(), lease * FORGET_AFTER_LEASES),
            )
        if moved:
            self.signal.wake()
        return moved

    def prune_old_jobs(self) -> int:
        """Delete finished jobs past their retention, in short batches, every few minutes.

        Each batch is its own transaction, so claims never wait behind a long prune.
        """
        now = time.monotonic()
        if now < self._next_prune_at:
            return 0
        self._next_prune_at = now + PURGE_INTERVAL_SECONDS
        retention = timedelta(days=self.settings.job_retention_days)
        pruned = 0
        while not self.stopping.is_set():
            with write_transaction(self.engine) as connection:
                batch = prune_finished_jobs(connection, utc_now() - retention)
            pruned += batch
            if batch < PRUNE_BATCH:
                break
        if pruned:
            logger.info("deleted %d finished jobs past their retention", pruned)
        return pruned

    def purge_expired_files(self) -> int:
        """Delete stored files past their retention, at most once per PURGE_INTERVAL_SECONDS.

        Every worker does it: deleting is idempotent, and a deployment may have only one.
        """
        now = time.monotonic()
        if now < self._next_purge_at:
            return 0
        self._next_purge_at = now + PURGE_INTERVAL_SECONDS
        purged = 0
        while not self.stopping.is_set():
            with write_transaction(self.engine) as connection:
                batch = purge_expired_blobs(connection, utc_now())
            purged += batch
            if batch < PURGE_BATCH:
                break
        if purged:
            logger.info("deleted %d stored files past their retention", purged)
        return purged

    def prune_old_deliveries(self) -> int:
        """Delete webhook deliveries (and their logs) that ended past their retention."""
        now = time.monotonic()
        if now < self._next_delivery_prune_at:
            return 0
        self._next_delivery_prune_at = now + PURGE_INTERVAL_SECONDS
        retention = timedelta(days=self.settings.webhook_log_retention_days)
        pruned = 0
        while not self.stopping.is_set():
            with write_transaction(self.engine) as connection:
                batch = prune_ended_deliveries(connection, utc_now() - retention)
            pruned += batch
            if batch < DELIVERY_PRUNE_BATCH:
                break
        if pruned:
            logger.info("deleted %d webhook deliveries past their retention", pruned)
        return pruned
