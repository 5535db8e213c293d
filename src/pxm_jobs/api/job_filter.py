"""The `filter` of `GET /pcm/jobs`: `eq(status,pending)`, `in(type,a,b)`, joined by `:`."""

from __future__ import annotations

from pxm_jobs.api.errors import ApiError
from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import EQ, IN, parse_filter
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.reads import JobQuery

_ALLOWED_VALUES = {
    "status": frozenset(status.value for status in JobStatus),
    "type": frozenset(job_type.value for job_type in JobType),
}


def parse_job_filter(raw: str | None) -> JobQuery:
    if not raw:
        return JobQuery()
    try:
        terms = parse_filter(
            raw, attributes={name: name for name in _ALLOWED_VALUES}, operators=(EQ, IN)
        )
    except InvalidFilter as error:
        raise ApiError(400, error.detail) from None
    chosen: dict[str, frozenset[str]] = {}
    for term in terms:
        allowed = _ALLOWED_VALUES[term.attribute]
        unknown = [value for value in term.values if value not in allowed]
        if unknown:
            raise ApiError(
                400,
                f"{term.attribute} {unknown[0]!r} does not exist; "
                f"use one of {', '.join(sorted(allowed))}",
            )
        # Two terms on one attribute must both hold.
        values = frozenset(term.values)
        chosen[term.attribute] = chosen.get(term.attribute, values) & values
    return JobQuery(statuses=chosen.get("status"), types=chosen.get("type"))
