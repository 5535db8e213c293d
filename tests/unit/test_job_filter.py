"""The jobs list filter: what it accepts, and the 400 it gives for the rest."""

from __future__ import annotations

import pytest

from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.job_filter import parse_job_filter


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
