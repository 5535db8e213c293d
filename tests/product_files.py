"""Product import files for tests, made here: a user's clone has nothing else to read them from."""

from __future__ import annotations

import csv
import io

PLAIN_COLUMNS = (
    "external_ref",
    "name",
    "sku",
    "slug",
    "commodity_type",
    "description",
    "status",
    "mpn",
    "upc_ean",
)
COLOURS = ("blue", "red", "black", "green")


def products_csv(rows: int, prefix: str = "tablet", *, start: int = 0) -> bytes:
    """A valid import file of `rows` products; descriptions hold commas and doubled quotes.

    The same arguments always give the same bytes, and row n's values all end in n, so a test
    can say which product came from which line.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PLAIN_COLUMNS)
    for n in range(start, start + rows):
        colour = COLOURS[n % len(COLOURS)]
        writer.writerow(
            [
                f"{prefix}-ext-{n}",
                f"{prefix.capitalize()} product {n}",
                f"{prefix}-sku-{n}",
                f"{prefix}-{n}",
                "physical" if n % 2 == 0 else "digital",
                f'A {colour} item, number {n}, the "{colour}" edition',
                "live" if n % 3 == 0 else "draft",
                f"MPN-{n:07d}",
                f"{400000000000 + n}",
            ]
        )
    return out.getvalue().encode()
