"""The price book import benchmark, reduced: it runs end to end and prints its two lines.

Its numbers are for `make bench` to show; here nothing is asserted of a time or a ratio.
"""

from __future__ import annotations

import pytest

from benchmarks import pricebook_import
from tests.conftest import DATABASES
from tests.databases import postgres_answers


@pytest.mark.parametrize("database", DATABASES)
def test_the_benchmark_imports_updates_and_measures_memory(database: str) -> None:
    if database == "postgresql" and not postgres_answers():
        pytest.skip("PostgreSQL is not answering")
    speed, memory = pricebook_import.run(database, 300, 0.5)
    assert speed.startswith(f"pricebook import {database} 300 prices x 3 currencies")
    assert "floor" in speed and "ratio" in speed and "updated again" in speed
    assert memory.startswith(f"pricebook import {database}") and "over idle" in memory
