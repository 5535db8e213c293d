"""Reading `?wait=N`, and telling retried requests from different ones."""

from __future__ import annotations

import pytest

from pxm_jobs.api.errors import ApiError
from pxm_jobs.api.jobs.wait import read_wait
from pxm_jobs.queue.idempotency import fingerprint_request


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 0), ("", 0), ("0", 0), ("2.5", 2.5), ("60", 60)]
)
def test_wait_reads_seconds(raw: str | None, seconds: float) -> None:
    assert read_wait(raw) == seconds


@pytest.mark.parametrize("raw", ["60.5", "-0.1", "ten", "nan", "inf", "1e9"])
def test_wait_out_of_range_is_a_400_naming_it(raw: str) -> None:
    with pytest.raises(ApiError) as raised:
        read_wait(raw)
    assert raised.value.status == 400 and raised.value.meta == {"parameter": "wait"}


def test_fingerprints_ignore_key_order_but_not_values_or_kind() -> None:
    one = fingerprint_request("product-export", {"filter": "eq(sku,a)", "columns": None})
    assert one == fingerprint_request("product-export", {"columns": None, "filter": "eq(sku,a)"})
    assert one != fingerprint_request("product-export", {"filter": "eq(sku,b)", "columns": None})
    assert one != fingerprint_request("product-import", {"filter": "eq(sku,a)", "columns": None})
