"""`make bench`: every benchmark, each printing its ratio to a floor from the same run."""

from __future__ import annotations

from benchmarks import claim_latency, import_speed


def main() -> None:
    for database in ("sqlite", "postgresql"):
        for line in import_speed.run(database, 49_999):
            print(line, flush=True)
    for database in ("sqlite", "postgresql"):
        print(claim_latency.run(database, 200, 1000, 500), flush=True)
        print(claim_latency.run(database, 10_000, 100, 500), flush=True)


if __name__ == "__main__":
    main()
