"""One module per job type, each declaring its whole life in a `JobKind` (see `kind`)."""

from __future__ import annotations

from collections.abc import Mapping

from pxm_jobs.jobs import (
    child_products,
    hierarchy_duplicate,
    pricebook_import,
    product_export,
    product_import,
)
from pxm_jobs.jobs.kind import JobKind
from pxm_jobs.queue.runner import RunnerRegistry

JOB_KINDS: Mapping[str, JobKind] = {
    kind.type: kind
    for kind in (
        product_import.KIND,
        product_export.KIND,
        hierarchy_duplicate.KIND,
        pricebook_import.KIND,
        child_products.KIND,
    )
}

# What the queue's workers run, by job type.
RUNNERS: RunnerRegistry = {job_type: kind.run for job_type, kind in JOB_KINDS.items()}
