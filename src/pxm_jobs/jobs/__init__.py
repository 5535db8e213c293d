"""One module per job type: what the job does, given a connection. `RUNNERS` maps types to them."""

from __future__ import annotations

from pxm_jobs.jobs.hierarchy_duplicate import run_hierarchy_duplicate
from pxm_jobs.jobs.product_export import run_product_export
from pxm_jobs.jobs.product_import import run_product_import
from pxm_jobs.queue.models import JobType
from pxm_jobs.queue.runner import RunnerRegistry

RUNNERS: RunnerRegistry = {
    JobType.PRODUCT_IMPORT: run_product_import,
    JobType.PRODUCT_EXPORT: run_product_export,
    JobType.HIERARCHY_DUPLICATE: run_hierarchy_duplicate,
}
