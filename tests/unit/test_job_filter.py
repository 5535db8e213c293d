"""The jobs list filter: what it accepts, and the 400 it gives for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.jobs.filter import parse_error_filter, parse_job_filter
from pxm_jobs.queue.reads import JobOrder


def test_no_filter_means_every_job() -> None:
    query = parse_job_filter(None)
    assert query.statuses is None and query.types is None


def test_eq_and_in_join_with_colons() -> None:
    query = parse_job_filter("in(status,pending,started):eq(type,product-import)")
    assert set(query.statuses or ()) == {"pending", "started"}
    assert set(query.types or ()) == {"product-import"}


def test_two_clauses_on_one_attribute_must_both_hold() -> None:
    query = parse_job_filter("in(status,pending,started):eq(status,failed)")
    assert query.statuses is not None and set(query.statuses) == set()


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("eq(colour,red)", "colour"),
        ("gt(status,pending)", "gt"),
        ("eq(status,pending,started)", "exactly one value"),
        ("eq(status,running)", "running"),
        ("status=pending", "operator(attribute,value)"),
    ],
)
def test_bad_filters_get_a_400_naming_the_problem(raw: str, named: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_job_filter(raw)
    assert raised.value.status == 400
    assert named in raised.value.detail


def test_created_at_takes_gt_and_lt_and_the_tightest_bound_wins() -> None:
    query = parse_job_filter(
        "gt(created_at,2024-01-05T13:46:41.695Z):gt(created_at,2024-01-04):"
        "lt(created_at,2024-02-01T00:00:00+01:00)"
    )
    assert query.created_after == datetime(2024, 1, 5, 13, 46, 41, 695000, tzinfo=UTC)
    assert query.created_before == datetime(2024, 1, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize("sort", [order.value for order in JobOrder])
def test_each_sort_is_read(sort: str) -> None:
    assert parse_job_filter(None, sort).order.value == sort


def test_no_sort_means_newest_first() -> None:
    assert parse_job_filter(None, None).order is JobOrder.NEWEST_FIRST


def test_errors_are_filtered_by_code_only() -> None:
    assert parse_error_filter("in(code,a,b):eq(code,b)") == {"b"}
    assert parse_error_filter(None) is None
    with pytest.raises(ApiError) as raised:
        parse_error_filter("eq(field,sku)")
    assert raised.value.status == 400 and "'field'" in raised.value.detail
