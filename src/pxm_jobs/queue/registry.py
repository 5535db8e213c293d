"""Which workers are alive: each one touches its row while it runs."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import Engine, update

from pxm_jobs.store.engine import write_transaction
from pxm_jobs.store.tables import workers


def touch_worker(engine: Engine, worker_id: str, now: datetime) -> None:
    """Record that the worker is alive now, registering it on first sight."""
    with write_transaction(engine) as connection:
        touched = connection.execute(
            update(workers).where(workers.c.id == worker_id).values(last_seen_at=now)
        )
        if touched.rowcount == 0:
            connection.execute(
                workers.insert().values(
                    id=worker_id,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    last_seen_at=now,
                )
            )
