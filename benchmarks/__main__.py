"""`make bench`: every benchmark, each printing its ratio to a floor from the same run."""

from __future__ import annotations

from benchmarks import (
    attribute_filter,
    child_products,
    claim_latency,
    export_speed,
    hierarchy_duplicate,
    import_speed,
    pickup_latency,
    pricebook_import,
    progress_overhead,
)


def main() -> None:
    for database in ("sqlite", "postgresql"):
        for line in import_speed.run(database, 49_999):
            print(line, flush=True)
    for database in ("sqlite", "postgresql"):
        for line in pricebook_import.run(database, 50_000, 49.0):
            print(line, flush=True)
    for database in ("sqlite", "postgresql"):
        print(progress_overhead.run(database, 49_999, 3), flush=True)
    for database in ("sqlite", "postgresql"):
        print(pickup_latency.run(database, 200), flush=True)
    for database in ("sqlite", "postgresql"):
        print(claim_latency.run(database, 200, 1000, 500), flush=True)
        print(claim_latency.run(database, 10_000, 100, 500), flush=True)
    for database in ("sqlite", "postgresql"):
        for line in hierarchy_duplicate.run(database, 10_000, 50_000, 5):
            print(line, flush=True)
    for database in ("sqlite", "postgresql"):
        for line in export_speed.run(database, 100_000, 3):
            print(line, flush=True)
    for database in ("sqlite", "postgresql"):
        for line in attribute_filter.run(database, 100_000, 21):
            print(line, flush=True)
        print(attribute_filter.import_cost(database, 49_999), flush=True)
    for database in ("sqlite", "postgresql"):
        for line in child_products.run(database, 4, 10):
            print(line, flush=True)


if __name__ == "__main__":
    main()
