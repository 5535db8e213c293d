"""The throughput benchmark's rule check: it finds every way a system can break the rule."""

from __future__ import annotations

from benchmarks.run_notes import find_rule_breaks

ORDER = [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A")]


def test_runs_one_after_another_in_creation_order_keep_the_rule() -> None:
    runs = [("a1", "A", 1.0, 2.0), ("b1", "B", 1.5, 1.6), ("a2", "A", 2.1, 2.2)]
    runs.append(("a3", "A", 2.3, 2.4))

    assert find_rule_breaks(ORDER, runs) == []


def test_an_overlap_an_overtaking_a_rerun_and_a_missing_run_are_each_found() -> None:
    overlap = [("a1", "A", 1.0, 2.0), ("b1", "B", 1.0, 1.1), ("a2", "A", 1.5, 2.5)]
    overlap.append(("a3", "A", 3.0, 3.1))
    [problem] = find_rule_breaks(ORDER, overlap)
    assert "a2 began 500.0 ms before the end of a1" in problem

    overtaken = [("a1", "A", 1.0, 1.1), ("b1", "B", 1.0, 1.1), ("a3", "A", 1.2, 1.3)]
    overtaken.append(("a2", "A", 1.4, 1.5))
    [problem] = find_rule_breaks(ORDER, overtaken)
    assert "a3 began" in problem and "end of a2" in problem

    twice = [("a1", "A", 1.0, 1.1), ("a1", "A", 1.2, 1.3), ("b1", "B", 1.0, 1.1)]
    assert "job a1 ran 2 times" in find_rule_breaks(ORDER, twice)
    assert "job a2 ran 0 times" in find_rule_breaks(ORDER, twice)

    stray = [*overtaken[:1], ("zz", "A", 5.0, 5.1)]
    assert "job zz ran but was never queued" in find_rule_breaks(ORDER, stray)
