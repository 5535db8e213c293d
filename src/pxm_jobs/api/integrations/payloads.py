"""The job document a webhook's event carries: the Jobs API's rendering of the job.

Workers have no request to take a host from, so download links in it (an export's
`file_locations`) are minted for `PXM_PUBLIC_URL`.
"""

from __future__ import annotations

from typing import Any

from pxm_jobs.api.jobs.rendering import render_job
from pxm_jobs.config import Settings
from pxm_jobs.jobs import JOB_KINDS
from pxm_jobs.queue.models import Job
from pxm_jobs.webhooks.courier import PayloadRenderer


def job_payload_renderer(settings: Settings, signing_secret: bytes) -> PayloadRenderer:
    """Renders `{"data": <job>}` for a job as an event left it."""

    def render(job: Job) -> dict[str, Any]:
        kind = JOB_KINDS.get(job.type)
        # Download links are tied to the API key that reads them, and a webhook has none: a
        # receiver reads the job with its own key for fresh links.
        extra_meta = kind.wire_meta(job, None) if kind is not None else None
        progress = None
        if job.progress_processed is not None:
            progress = (job.progress_processed, job.progress_total)
        return {"data": render_job(job, progress=progress, extra_meta=extra_meta)}

    return render
