"""Price book import files made by the tests, in the shape of Elastic Path's example file:
pretty-printed `{"data": ...}` objects one after another, blank lines here and there.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from typing import Any

Json = dict[str, Any]


def book(external_ref: str | None, name: str, description: str | None = None) -> Json:
    attributes: Json = {"name": name}
    if external_ref is not None:
        attributes["external_ref"] = external_ref
    if description is not None:
        attributes["description"] = description
    return {"data": {"type": "pricebook", "attributes": attributes}}


def price(book_ref: str, external_ref: str | None, sku: str | None, usd: int, **extra: Any) -> Json:
    attributes: Json = {"currencies": {"USD": {"amount": usd, "includes_tax": False}}}
    if external_ref is not None:
        attributes["external_ref"] = external_ref
    if sku is not None:
        attributes["sku"] = sku
    attributes.update(extra)
    return {
        "data": {
            "type": "product-price",
            "pricebook_external_ref": book_ref,
            "attributes": attributes,
        }
    }


def pretty_file(objects: Iterable[Json], *, blank_every: int = 3) -> bytes:
    """Objects pretty-printed one after another, as Elastic Path's example file has them."""
    parts = []
    for position, item in enumerate(objects, start=1):
        parts.append(json.dumps(item, indent=4))
        if position % blank_every == 0:
            parts.append("")  # a blank line between some objects, as in the example
    return ("\n".join(parts) + "\n\n").encode()


def lines_file(objects: Iterable[Json]) -> bytes:
    """One object per line: JSON Lines proper."""
    return "".join(json.dumps(item) + "\n" for item in objects).encode()


def library_objects() -> list[Json]:
    """A library's price books and prices, in the example file's order and with its traits:
    a book updated by a later object, a book without an external ref, prices before the book
    they name, a price updated twice, tiers, and sales with and without a zone in the schedule.
    """
    tiers = {"min_5": {"amount": 180, "minimum_quantity": 5}}
    everything = {
        "currencies": {
            "USD": {"amount": 250, "includes_tax": True, "tiers": tiers},
            "CAD": {
                "amount": 320,
                "includes_tax": True,
                "tiers": {"min_5": {"amount": 290, "minimum_quantity": 5}},
            },
        },
        "sales": {
            "spring": {
                "currencies": {"USD": {"amount": 199, "includes_tax": False}},
                "schedule": {
                    "valid_from": "2025-03-01T00:00:00.000Z",
                    "valid_to": "2025-03-31T23:59:59.000Z",
                },
            }
        },
    }
    return [
        book("lib-fiction", "Fiction"),
        book("lib-poetry", "Poetry", "verse and song"),
        book(None, "Unreferenced"),
        price("lib-maps", "atlas-price", "ATLAS-1", 900),
        price("lib-fiction", "novel-price", "NOVEL-1", 1500),
        price("lib-fiction", "saga-price", "SAGA-1", 2500),
        book("lib-maps", "Maps"),
        price("lib-poetry", "novel-price", "ODE-1", 700),
        {
            "data": {
                "type": "product-price",
                "pricebook_external_ref": "lib-fiction",
                "attributes": {"external_ref": "boxed-price", "sku": "BOXED-1", **everything},
            }
        },
        price("lib-fiction", "novel-price", "NOVEL-1", 1750),
        price(
            "lib-maps",
            "globe-price",
            "GLOBE-1",
            4000,
            sales={
                "summer": {
                    "schedule": {
                        "valid_from": "2025-06-01T00:00:00",
                        "valid_to": "2025-08-31T11:59:59",
                    }
                }
            },
        ),
        book("lib-fiction", "Fiction, revised"),
        price("lib-fiction", "novel-price", "NOVEL-1", 1999),
    ]


def gzipped(content: bytes) -> bytes:
    return gzip.compress(content)


def bench_objects(
    count: int, books: int = 5, padding: int = 0, amount: int = 1000
) -> Iterator[Json]:
    """`books` price books, then `count` prices spread over them, each in three currencies
    with a tier; `padding` characters of admin attributes make the file as large as asked.
    """
    for number in range(books):
        yield book(f"bench-book-{number}", f"Bench book {number}")
    for number in range(count):
        currencies = {
            code: {
                "amount": amount + number,
                "includes_tax": code == "EUR",
                "tiers": {"min_10": {"minimum_quantity": 10, "amount": amount - 100 + number}},
            }
            for code in ("USD", "EUR", "GBP")
        }
        attributes: Json = {
            "external_ref": f"bench-price-{number}",
            "sku": f"BENCH-SKU-{number}",
            "currencies": currencies,
        }
        if padding:
            attributes["admin_attributes"] = {"note": "x" * padding}
        yield {
            "data": {
                "type": "product-price",
                "pricebook_external_ref": f"bench-book-{number % books}",
                "attributes": attributes,
            }
        }
