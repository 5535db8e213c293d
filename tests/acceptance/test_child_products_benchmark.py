"""The child products benchmark, reduced: it builds and rebuilds over HTTP and prints its line.

Its numbers are for `make bench` to show; here nothing is asserted of a time or a ratio.
"""

from __future__ import annotations

import pytest

from benchmarks import child_products
from tests.conftest import DATABASES


@pytest.mark.parametrize("database", DATABASES)
def test_the_benchmark_builds_rebuilds_and_prints_its_ratio(database: str) -> None:
    [line] = child_products.run(database, 2, 3, repeats=1)
    assert line.startswith(f"child-products {database} 9 children (2 variations x 3 options)")
    assert "floor" in line and "ratio" in line and "rebuilt after a rename" in line
