"""The queue alone: no-op jobs, one at a time per store, pxm-jobs against its peers in one run.

    python -m benchmarks.throughput [--jobs 2000 --stores 20 --workers 2 --concurrency 4]
        [--rounds 3] [--poll SECONDS] [--graphile-local-queue SIZE] [--pg-boss-batch-size N]
        [--system NAME ...]

Every system drains the same work on the same PostgreSQL server (`benchmarks/drains.py`):
`--jobs` no-op jobs dealt round-robin over `--stores` stores, queued before `--workers` worker
processes with `--concurrency` slots each are started. The peers (`benchmarks/peer_systems.py`)
are Procrastinate (a lock per store), graphile-worker (a named queue per store) and pg-boss
(the `key_strict_fifo` policy, the store as key); each is asked to keep one job at a time per
store, in creation order, and the jobs' own notes of their runs check that it did. A system
that broke the rule in any round gets no speed printed.

Each round uses a fresh database per system, and rounds alternate the order of the systems, as
the machine may be shared. The summary gives each system's median rate with and without
process start-up and its ratio to the fastest peer's; the target for pxm-jobs is at least 1.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.drains import PXM_JOBS, Drain, QueueSystem, Workload, drain
from benchmarks.noop_worker import DEFAULT_CONCURRENCY
from benchmarks.peer_systems import DEFAULT_POLL_SECONDS, GraphileWorker, PgBoss, Procrastinate

SHOWN_PROBLEMS = 3


@dataclass
class Tally:
    """One system's drains over the rounds."""

    system: QueueSystem
    with_start_up: list[float] = field(default_factory=list)
    without_start_up: list[float] = field(default_factory=list)
    broken_rounds: int = 0

    def add(self, result: Drain) -> None:
        if result.problems:
            self.broken_rounds += 1
        else:
            self.with_start_up.append(result.rate_with_start_up())
            self.without_start_up.append(result.rate_without_start_up())

    @property
    def clean(self) -> bool:
        return self.broken_rounds == 0 and bool(self.with_start_up)


def describe_drain(label: str, result: Drain) -> str:
    if result.problems:
        return (
            f"{label}: BROKE the one-at-a-time rule {len(result.problems)} times, first: "
            + "; ".join(result.problems[:SHOWN_PROBLEMS])
            + "; no speed"
        )
    idle = f"; {result.idle_workers} worker processes ran no job" if result.idle_workers else ""
    cpu = f"workers {result.worker_cpu_seconds * 1000 / result.jobs:.2f} ms"
    if result.database_cpu_seconds is not None:
        cpu += f", database {result.database_cpu_seconds * 1000 / result.jobs:.2f} ms"
    return (
        f"{label}: {result.rate_with_start_up():,.0f} jobs/s with start-up "
        f"({result.jobs:,} jobs in {result.seconds_with_start_up:.2f} s), "
        f"{result.rate_without_start_up():,.0f} jobs/s without "
        f"({result.jobs_without_start_up:,} jobs in {result.seconds_without_start_up:.2f} s "
        f"once every process ran); CPU per job: {cpu}; rule kept{idle}"
    )


def describe_tallies(workload: Workload, rounds: int, tallies: Sequence[Tally]) -> list[str]:
    lines = [
        f"throughput postgresql {workload.jobs:,} no-op jobs / {workload.stores} stores / "
        f"{workload.workers} worker processes x {workload.concurrency} slots, one job at a time "
        f"per store, medians of {rounds} rounds (fresh database each, order alternating):"
    ]
    peers = [tally for tally in tallies if tally.system is not PXM_JOBS and tally.clean]
    fastest_with = max((statistics.median(t.with_start_up) for t in peers), default=None)
    fastest_without = max((statistics.median(t.without_start_up) for t in peers), default=None)
    for tally in tallies:
        label = f"  {tally.system.name} ({tally.system.settings})"
        if not tally.clean:
            lines.append(
                f"{label}: no speed: BROKE the one-at-a-time rule in {tally.broken_rounds} of "
                f"{rounds} rounds"
            )
            continue
        with_start_up = statistics.median(tally.with_start_up)
        without_start_up = statistics.median(tally.without_start_up)
        line = (
            f"{label}: {with_start_up:,.0f} jobs/s with start-up, {without_start_up:,.0f} without"
        )
        if fastest_with is not None and fastest_without is not None:
            ratio_with = with_start_up / fastest_with
            ratio_without = without_start_up / fastest_without
            line += f"; {ratio_with:.2f}x and {ratio_without:.2f}x the fastest peer"
            if tally.system is PXM_JOBS:
                met = ratio_with >= 1 and ratio_without >= 1
                line += f" ({'meets' if met else 'MISSES'} the target: at least the fastest peer)"
        lines.append(line)
    return lines


def run(systems: Sequence[QueueSystem], workload: Workload, rounds: int) -> bool:
    """Print a line per drain and the medians; False if pxm-jobs broke the rule."""
    tallies = [Tally(system) for system in systems]
    for round_number in range(rounds):
        ordered = tallies if round_number % 2 == 0 else list(reversed(tallies))
        for tally in ordered:
            with tally.system.fresh_database() as url:
                result = drain(tally.system, url, workload)
            tally.add(result)
            label = f"throughput round {round_number + 1}/{rounds} {tally.system.name}"
            print(describe_drain(label, result), flush=True)
    for line in describe_tallies(workload, rounds, tallies):
        print(line, flush=True)
    return all(tally.broken_rounds == 0 for tally in tallies if tally.system is PXM_JOBS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll", type=float, default=DEFAULT_POLL_SECONDS, help="peers' poll")
    parser.add_argument("--graphile-local-queue", type=int, default=-1)
    parser.add_argument("--pg-boss-batch-size", type=int, default=2)
    parser.add_argument(
        "--system",
        action="append",
        choices=("pxm-jobs", "procrastinate", "graphile-worker", "pg-boss"),
        help="only these systems (repeat the option); all by default",
    )
    args = parser.parse_args()
    every: list[QueueSystem] = [
        PXM_JOBS,
        Procrastinate(poll_seconds=args.poll),
        GraphileWorker(poll_seconds=args.poll, local_queue_size=args.graphile_local_queue),
        PgBoss(poll_seconds=args.poll, batch_size=args.pg_boss_batch_size),
    ]
    systems = [system for system in every if args.system is None or system.name in args.system]
    workload = Workload(
        jobs=args.jobs, stores=args.stores, workers=args.workers, concurrency=args.concurrency
    )
    if not run(systems, workload, args.rounds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
