"""The job document a webhook's event carries: the Jobs API's rendering of the job.

Workers have no request to take a host from, so download links in it (an export's
`file_locations`) are minted for `PXM_PUBLIC_URL`. A download link names the API key it was
made for and stops working once that key is revoked; a webhook's links name the store's oldest
active key, so revoking every key of a store ends them too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from pxm_jobs.api.downloads import DownloadLinks
from pxm_jobs.api.jobs.rendering import render_job
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import JOB_KINDS
from pxm_jobs.queue.models import Job
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.tenancy.keys import find_oldest_active_key
from pxm_jobs.webhooks.courier import PayloadRenderer


def job_payload_renderer(
    settings: Settings, signing_secret: bytes, engine: Engine
) -> PayloadRenderer:
    """Renders `{"data": <job>}` for a job as an event left it."""

    def render(job: Job) -> dict[str, Any]:
        with read_transaction(engine) as connection:
            client_id = find_oldest_active_key(connection, job.store_id)
        links = None
        if client_id is not None:
            links = DownloadLinks(
                base_url=settings.public_base_url(),
                signing_secret=signing_secret,
                lifetime_seconds=settings.download_link_seconds,
                now=utc_now(),
                client_id=client_id,
            )
        kind = JOB_KINDS.get(job.type)
        extra_meta = kind.wire_meta(job, links) if kind is not None else None
        progress = None
        if job.progress_processed is not None:
            progress = (job.progress_processed, job.progress_total)
        return {"data": render_job(job, progress=progress, extra_meta=extra_meta)}

    return render
