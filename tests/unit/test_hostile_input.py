"""Arbitrary bytes and near-miss text against the parsers of untrusted input.

Whatever arrives, the upload check, the CSV reader and the filter parser either accept it or
raise a `CatalogError` subclass, which the API answers with a 4xx; nothing else ever escapes,
so nothing else can become a 500.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pxm_jobs.catalog.errors import CatalogError
from pxm_jobs.catalog.filters import EQ, IN, LIKE, parse_filter
from pxm_jobs.catalog.products.csv_format import read_csv_records
from pxm_jobs.catalog.products.product_filter import PRODUCT_FILTER_ATTRIBUTES, parse_product_filter
from pxm_jobs.catalog.products.upload_check import ImportFileChecker, ImportFileSummary
from pxm_jobs.config import Settings
from tests.hostile_inputs import near_filters, uploads

# Small limits, so that generated files can cross them.
LIMITS = Settings().model_copy(update={"import_max_bytes": 4096, "import_max_rows": 6})


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def check(data: bytes, chunk_size: int) -> ImportFileSummary | CatalogError:
    checker = ImportFileChecker(LIMITS)
    try:
        for chunk in chunks_of(data, chunk_size):
            checker.feed(chunk)
        return checker.finish()
    except CatalogError as error:
        return error


def read_all(data: bytes, chunk_size: int) -> list[tuple[int, list[str]]] | CatalogError:
    try:
        return list(read_csv_records(chunks_of(data, chunk_size)))
    except CatalogError as error:
        return error


@settings(max_examples=300, deadline=None)
@given(data=uploads, chunk_size=st.integers(1, 64))
@example(data=b"\xef\xbb", chunk_size=1)
@example(data=b'name,sku,commodity_type\n"open', chunk_size=3)
@example(data=b"name,sku,commodity_type\r", chunk_size=1)
def test_the_upload_check_accepts_or_refuses_with_a_catalog_error(
    data: bytes, chunk_size: int
) -> None:
    outcome = check(data, chunk_size)
    if isinstance(outcome, CatalogError):
        assert outcome.detail
    else:
        assert outcome.size == len(data) and 1 <= outcome.rows <= LIMITS.import_max_rows


@settings(max_examples=300, deadline=None)
@given(data=uploads, chunk_size=st.integers(1, 64))
def test_the_job_reads_every_file_the_check_accepted_as_the_check_counted_it(
    data: bytes, chunk_size: int
) -> None:
    """An accepted upload never fails later for a reason the check could have seen."""
    summary = check(data, chunk_size)
    records = read_all(data, chunk_size)
    if isinstance(summary, ImportFileSummary):
        assert not isinstance(records, CatalogError), records
        assert len(records) == summary.rows
        assert [cell.strip() for cell in records[0][1]] == summary.columns


@given(data=st.binary(max_size=300), chunk_size=st.integers(1, 16))
@example(data=b"\xef", chunk_size=1)  # a cut-short byte order mark decodes to nothing
def test_the_reader_refuses_any_bytes_only_with_a_catalog_error(
    data: bytes, chunk_size: int
) -> None:
    records = read_all(data, chunk_size)
    if not isinstance(records, CatalogError):
        assert all(line >= 1 and cells for line, cells in records)
        assert not any("\x00" in cell for _, cells in records for cell in cells)


# -- near-filters ------------------------------------------------------------------------------


@settings(max_examples=500)
@given(near_filters)
@example('eq(sku,"a\\')
@example("in(sku,a,,b)")
@example("eq(sku,a):")
def test_the_product_filter_parses_or_refuses_with_a_catalog_error(text: str) -> None:
    try:
        terms = parse_product_filter(text)
    except CatalogError as error:
        assert error.detail
    else:
        assert terms
        for term in terms:
            assert term.operator in (EQ, LIKE, IN) and term.values
            assert term.attribute in PRODUCT_FILTER_ATTRIBUTES.values()
            assert not any("\x00" in value for value in term.values)


@given(near_filters, st.sets(st.sampled_from([EQ, LIKE, IN]), min_size=1))
def test_any_grammar_parses_or_refuses_with_a_catalog_error(text: str, operators: set[str]) -> None:
    try:
        terms = parse_filter(
            text, attributes={"sku": "sku", "status": "status"}, operators=operators
        )
    except CatalogError as error:
        assert error.detail
    else:
        assert all(term.operator in operators for term in terms)
