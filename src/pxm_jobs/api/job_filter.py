"""The `filter` of `GET /pcm/jobs`: `eq(status,pending)`, `in(type,a,b)`, joined by `:`."""

from __future__ import annotations

import re

from pxm_jobs.api.errors import ApiError
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.reads import JobQuery

_CLAUSE = re.compile(r"^(?P<op>[a-z_]+)\((?P<attribute>[a-z_]+),(?P<values>[^()]*)\)$")
_ALLOWED = {
    "status": {status.value for status in JobStatus},
    "type": {job_type.value for job_type in JobType},
}


def parse_job_filter(raw: str | None) -> JobQuery:
    if not raw:
        return JobQuery()
    chosen: dict[str, set[str]] = {}
    for clause in raw.split(":"):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise ApiError(400, f"filter clause {clause!r} is not of the form op(attribute,value)")
        op, attribute = match["op"], match["attribute"]
        values = [value.strip().strip('"') for value in match["values"].split(",")]
        if attribute not in _ALLOWED:
            raise ApiError(400, f"jobs cannot be filtered by {attribute!r}; use status or type")
        if op not in ("eq", "in"):
            raise ApiError(400, f"operator {op!r} is not supported for jobs; use eq or in")
        if op == "eq" and len(values) != 1:
            raise ApiError(400, f"eq takes exactly one value; use in({attribute},...) for several")
        unknown = [value for value in values if value not in _ALLOWED[attribute]]
        if unknown:
            allowed = ", ".join(sorted(_ALLOWED[attribute]))
            raise ApiError(400, f"{attribute} {unknown[0]!r} does not exist; use one of {allowed}")
        # Two clauses on one attribute must both hold.
        previous = chosen.get(attribute)
        chosen[attribute] = set(values) if previous is None else previous & set(values)
    return JobQuery(statuses=chosen.get("status"), types=chosen.get("type"))
