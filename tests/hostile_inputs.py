"""Strategies for hostile input: arbitrary bytes, and near misses of each grammar.

Near-miss input (almost a CSV file, almost a filter) is where parsers break, so these build it
from the tokens that matter to each grammar, and break it in one or two places at most, so that
accepted input stays common enough for the properties about it to be tested too.
"""

from __future__ import annotations

import csv
import io

from hypothesis import strategies as st

from pxm_jobs.catalog.filters import EQ, IN, LIKE
from pxm_jobs.catalog.products.csv_format import ATTRIBUTE_COLUMNS
from pxm_jobs.catalog.products.product_filter import PRODUCT_FILTER_ATTRIBUTES

REQUIRED = ["name", "sku", "commodity_type"]
OPTIONAL = [column for column in ATTRIBUTE_COLUMNS if column not in REQUIRED]
OPTIONAL += ["id", "_created_at", "template:shoes:size"]
ODD_HEADERS = ["bogus", "template:x", "", " name", "name"]
CSV_TOKENS = [",", '"', '""', "\n", "\r\n", "\r", " ", "\t", "\\", "\ufeff", "\x85", "\u2028"]
cell = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["live", "DRAFT", "physical", "digital", "a,b", "x" * 300, "00000000-0"]),
    st.lists(st.sampled_from(CSV_TOKENS), max_size=4).map("".join),
)
# Mostly none: each edit usually breaks the file, and accepted files must be common too.
byte_edits = st.one_of(
    st.just([]), st.lists(st.tuples(st.integers(0), st.integers(0, 255)), max_size=3)
)


@st.composite
def near_csv(draw: st.DrawFn) -> bytes:
    """A CSV file, or something one edit away from it: wrong quoting, bad bytes, odd lines."""
    header = REQUIRED + draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=4))
    if draw(st.integers(0, 4)) == 0:
        header.append(draw(st.sampled_from(ODD_HEADERS)))
    if draw(st.integers(0, 4)) == 0:
        header.remove(draw(st.sampled_from(REQUIRED)))
    header = draw(st.permutations(header))
    width = len(header)
    rows = draw(st.lists(st.lists(cell, min_size=width - 1, max_size=width + 1), max_size=8))
    if draw(st.integers(0, 3)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
        writer.writerows([header, *rows])
        text = buffer.getvalue()
    else:  # joined by hand: quotes and separators inside cells stay unbalanced
        text = "\n".join(",".join(row) for row in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    data = bytearray(text.encode(encoding, errors="replace"))
    for position, value in draw(byte_edits):
        if data:
            data[position % len(data)] = value
    return bytes(data)


uploads = st.one_of(st.binary(max_size=600), near_csv())


FILTER_TOKENS = [*"(),:\"\\ *%_';", "--", "\x00", "\ud800"]
ATTRIBUTES = [*sorted(PRODUCT_FILTER_ATTRIBUTES), "price", ""]
plain_value = st.text(st.characters(exclude_characters=',)"'), min_size=1, max_size=6)
quoted_value = st.text(max_size=6).map(
    lambda value: '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
token_edits = st.one_of(
    st.just([]), st.lists(st.tuples(st.integers(0), st.sampled_from(FILTER_TOKENS)), max_size=2)
)


@st.composite
def near_filter(draw: st.DrawFn) -> str:
    """A filter, or one with a token too many in some place: a quote, a bracket, a separator."""
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        operator = draw(st.sampled_from([EQ, LIKE, IN, IN, "nope"]))
        attribute = draw(st.sampled_from(ATTRIBUTES))
        values = draw(st.lists(st.one_of(plain_value, quoted_value), min_size=1, max_size=3))
        terms.append(f"{operator}({attribute},{','.join(values)})")
    text = ":".join(terms)
    for position, token in draw(token_edits):
        position %= len(text) + 1
        text = text[:position] + token + text[position:]
    return text


near_filters = st.one_of(st.text(max_size=40), near_filter())


def _encodable(text: str) -> bool:
    return not any("\ud800" <= char <= "\udfff" for char in text)


# A lone surrogate cannot be put in a URL at all; the client, not the service, would fail.
sendable_filters = near_filters.filter(_encodable)
