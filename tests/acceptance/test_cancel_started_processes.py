"""A cancel sent to one process stops a job running in another (PostgreSQL, real processes).

The worker is frozen (SIGSTOP) while the import is started, so the cancel lands while it runs;
once thawed, the job hears of it (NOTIFY, or its heartbeat) and ends `cancelled`, having
written nothing.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sqlalchemy import text

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine
from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)
from tests.databases import empty_postgres
from tests.product_files import products_csv

ROWS = 20_000
DEADLINE_SECONDS = 120.0


def wait_for_status(client: Client, job_id: str, wanted: set[str]) -> str:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        status = str(client.http.get(f"/pcm/jobs/{job_id}").json()["data"]["attributes"]["status"])
        if status in wanted:
            return status
        assert time.monotonic() < deadline, f"job {job_id} stayed {status}"
        time.sleep(0.05)


def test_a_cancel_reaches_a_job_running_in_another_process(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(Settings(database_url=postgres_url))
    empty_postgres(engine)
    port = free_port()
    environment = bootstrapped_environment(
        postgres_url, port, PXM_CANCEL_STARTED_JOBS="true", PXM_JOB_LEASE_SECONDS="3"
    )
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve", "--no-worker"], environment, tmp_path) as api:
        wait_until_serving(base_url, api)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        job = client.import_csv(products_csv(ROWS)).json()["data"]
        with running(["worker"], environment, tmp_path) as worker:
            wait_for_status(client, job["id"], {"started"})
            os.kill(worker.pid, signal.SIGSTOP)
            try:
                answer = client.http.post(f"/pcm/jobs/{job['id']}/cancel")
            finally:
                os.kill(worker.pid, signal.SIGCONT)
            if answer.status_code == 422:
                # The job ended before the freeze took hold: it must have ended whole.
                assert "success" in answer.text
                ended = "success"
            else:
                assert answer.status_code == 200, answer.text
                assert answer.json()["data"]["attributes"]["status"] == "cancelling"
                ended = wait_for_status(client, job["id"], {"cancelled", "success", "failed"})
        products = client.http.get("/pcm/products").json()["meta"]["results"]["total"]
        client.close()
    with engine.connect() as connection:
        started = connection.execute(text("SELECT count(*) FROM jobs WHERE status = 'started'"))
        assert started.scalar_one() == 0
    engine.dispose()
    assert (ended, products) in {("cancelled", 0), ("success", ROWS)}
