"""What `GET /pcm/jobs` and a job's errors list may be narrowed and ordered by.

Jobs: `eq` and `in` on `status` and `type`, `gt` and `lt` on `created_at`, joined by `:`, and
`sort`; `price-import` finds `pricebook-import` jobs. Errors: `eq` and `in` on `code`. Anything
else is a 400 saying what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from pxm_jobs.api.errors import ApiError
from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import EQ, GT, IN, LT, FilterTerm, parse_filter
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.reads import JobOrder, JobQuery

# Elastic Path's older spelling of a job type, still found in its documents and scripts.
_TYPE_ALIASES = {"price-import": JobType.PRICEBOOK_IMPORT.value}
_ALLOWED_VALUES = {
    "status": frozenset(status.value for status in JobStatus),
    "type": frozenset(job_type.value for job_type in JobType) | frozenset(_TYPE_ALIASES),
}
_TIME_ATTRIBUTES = ("created_at",)
_OPERATORS = {
    **dict.fromkeys(_ALLOWED_VALUES, (EQ, IN)),
    **dict.fromkeys(_TIME_ATTRIBUTES, (GT, LT)),
}
_SORTS = {order.value: order for order in JobOrder}

JobFilterQuery = Annotated[
    str | None,
    Query(
        description="Terms joined by `:`: `eq`/`in` on status and type, `gt`/`lt` on "
        "created_at, e.g. `in(status,pending,started):gt(created_at,2024-01-05T00:00:00Z)`. "
        "A filter that cannot be used is a 400.",
    ),
]
JobSortQuery = Annotated[
    str | None,
    Query(
        description="created_at, -created_at (the default: newest first), started_at or "
        "-started_at; jobs not started yet come last.",
        json_schema_extra={"enum": list(_SORTS)},
    ),
]
ErrorFilterQuery = Annotated[
    str | None,
    Query(description="`eq(code,...)` or `in(code,...)`: only errors with these codes."),
]


def parse_job_filter(raw: str | None, sort: str | None = None) -> JobQuery:
    """The jobs a `filter` and a `sort` parameter ask for; a 400 naming what is wrong."""
    order = _parse_sort(sort)
    if not raw:
        return JobQuery(order=order)
    chosen: dict[str, frozenset[str]] = {}
    after: datetime | None = None
    before: datetime | None = None
    for term in _parse_terms(raw, _OPERATORS):
        if term.attribute in _TIME_ATTRIBUTES:
            moment = _read_time(term)
            if term.operator == GT:
                after = moment if after is None else max(after, moment)
            else:
                before = moment if before is None else min(before, moment)
            continue
        allowed = _ALLOWED_VALUES[term.attribute]
        unknown = [value for value in term.values if value not in allowed]
        if unknown:
            raise ApiError(
                400,
                f"{term.attribute} {unknown[0]!r} does not exist; "
                f"use one of {', '.join(sorted(allowed))}",
                meta={"parameter": "filter"},
            )
        # Two terms on one attribute must both hold.
        aliases = _TYPE_ALIASES if term.attribute == "type" else {}
        values = frozenset(aliases.get(value, value) for value in term.values)
        chosen[term.attribute] = chosen.get(term.attribute, values) & values
    return JobQuery(
        statuses=chosen.get("status"),
        types=chosen.get("type"),
        created_after=after,
        created_before=before,
        order=order,
    )


def parse_error_filter(raw: str | None) -> frozenset[str] | None:
    """The error codes a job's errors list is narrowed to, e.g. `in(code,too_long,required)`."""
    if not raw:
        return None
    codes: frozenset[str] | None = None
    for term in _parse_terms(raw, {"code": (EQ, IN)}):
        values = frozenset(term.values)
        codes = values if codes is None else codes & values
    return codes


def _parse_terms(raw: str, operators: Mapping[str, tuple[str, ...]]) -> list[FilterTerm]:
    every_operator = sorted({operator for allowed in operators.values() for operator in allowed})
    try:
        terms = parse_filter(
            raw, attributes={name: name for name in operators}, operators=every_operator
        )
    except InvalidFilter as error:
        raise ApiError(400, error.detail, meta={"parameter": "filter"}) from None
    for term in terms:
        allowed = operators[term.attribute]
        if term.operator not in allowed:
            raise ApiError(
                400,
                f"{term.operator} cannot be used on {term.attribute}; use " + " or ".join(allowed),
                meta={"parameter": "filter"},
            )
    return terms


def _read_time(term: FilterTerm) -> datetime:
    (value,) = term.values
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(
            400,
            f"{term.operator}({term.attribute},...) needs a timestamp such as "
            f"2024-01-05T13:46:41.695Z, got {value!r}",
            meta={"parameter": "filter"},
        ) from None
    if moment.tzinfo is None:  # the wire's timestamps are all UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_sort(raw: str | None) -> JobOrder:
    if raw is None or raw == "":
        return JobOrder.NEWEST_FIRST
    order = _SORTS.get(raw.strip())
    if order is None:
        raise ApiError(
            400,
            f"sort {raw!r} is not supported; use one of {', '.join(_SORTS)}",
            meta={"parameter": "sort"},
        )
    return order
