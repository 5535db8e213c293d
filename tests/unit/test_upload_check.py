"""The request-time check of import files, fed in chunks of every size."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pxm_jobs.catalog.errors import (
    DuplicateCsvHeader,
    ImportFileEmpty,
    ImportFileNotUtf8,
    ImportFileTooLarge,
    MalformedCsv,
    MissingCsvHeader,
    TooManyRows,
    UnknownCsvHeader,
)
from pxm_jobs.catalog.products.upload_check import ImportFileChecker, ImportFileSummary
from pxm_jobs.config import Settings

HEADER = "name,sku,commodity_type"
BOM = b"\xef\xbb\xbf"


def check(content: bytes, chunk_size: int = 7, **overrides: int) -> ImportFileSummary:
    checker = ImportFileChecker(Settings().model_copy(update=overrides))
    for start in range(0, len(content), chunk_size):
        checker.feed(content[start : start + chunk_size])
    return checker.finish()


def test_a_valid_file_is_summarised() -> None:
    content = f"{HEADER},description\nShoe,s-1,physical,red\nHat,s-2,digital,\n".encode()
    summary = check(content)
    assert summary == ImportFileSummary(
        rows=3, columns=["name", "sku", "commodity_type", "description"], size=len(content)
    )


def test_a_byte_order_mark_is_accepted_and_not_part_of_the_first_header() -> None:
    summary = check(BOM + f"{HEADER}\nShoe,s-1,physical\n".encode(), chunk_size=1)
    assert summary.columns == ["name", "sku", "commodity_type"]
    assert summary.rows == 2


def test_a_quoted_field_spanning_lines_is_one_row() -> None:
    content = f'{HEADER},description\nShoe,s-1,physical,"line one\nline two\r\nline three"\n'
    assert check(content.encode(), chunk_size=3).rows == 2


def test_blank_lines_are_not_rows() -> None:
    assert check(f"{HEADER}\n\nShoe,s-1,physical\n\n\n".encode()).rows == 2


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_counts_rows_alike(newline: str) -> None:
    content = newline.join([HEADER, "a,1,physical", "b,2,digital", ""]).encode()
    for chunk_size in (1, 2, 5, 1000):
        assert check(content, chunk_size=chunk_size).rows == 3


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ImportFileEmpty) as raised:
        check(b"")
    assert "empty" in raised.value.detail


@pytest.mark.parametrize("content", [BOM, b"\n\n", b"\r\n"])
def test_a_file_without_a_header_row_is_empty(content: bytes) -> None:
    with pytest.raises(ImportFileEmpty) as raised:
        check(content)
    assert "header" in raised.value.detail


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(ImportFileNotUtf8) as raised:
        check(f"{HEADER}\nCaf\xe9,s-1,physical\n".encode("latin-1"))
    assert "UTF-8" in raised.value.detail


def test_a_file_ending_inside_a_character_is_not_utf8() -> None:
    with pytest.raises(ImportFileNotUtf8):
        check(f"{HEADER}\nCafé".encode()[:-1])


def test_a_character_split_across_chunks_is_fine() -> None:
    content = f"{HEADER}\nКофе ☕,s-1,physical\n".encode()
    assert check(content, chunk_size=1).rows == 2


def test_a_nul_byte_is_refused() -> None:
    with pytest.raises(MalformedCsv):
        check(f"{HEADER}\na\x00b,s-1,physical\n".encode())


def test_a_file_over_the_size_limit_is_refused_as_soon_as_it_passes_it() -> None:
    checker = ImportFileChecker(Settings(import_max_bytes=100))
    checker.feed(HEADER.encode() + b"\n")
    checker.feed(b"a" * (100 - len(HEADER) - 1))  # exactly at the limit: still fine
    with pytest.raises(ImportFileTooLarge) as raised:
        checker.feed(b"b")
    assert "100 bytes" in raised.value.detail


def test_the_size_limit_is_described_in_megabytes() -> None:
    checker = ImportFileChecker(Settings(import_max_bytes=1024 * 1024))
    with pytest.raises(ImportFileTooLarge) as raised:
        checker.feed(b"x" * (1024 * 1024 + 1))
    assert "1 MB" in raised.value.detail


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("sku,commodity_type", "name"),
        ("name,sku", "commodity_type"),
        ("description", "name"),
    ],
)
def test_a_missing_required_header_is_named(header: str, missing: str) -> None:
    with pytest.raises(MissingCsvHeader) as raised:
        check(f"{header}\n".encode())
    assert raised.value.detail == f"missing required csv header: {missing}"


def test_sku_is_optional_and_template_headers_may_have_spaces() -> None:
    check(b"name,commodity_type,template: 5d8c2a: condition,admin_attributes.bin\nA,physical,,\n")


def test_an_unknown_header_is_named() -> None:
    with pytest.raises(UnknownCsvHeader) as raised:
        check(f"{HEADER},colour\n".encode())
    assert "colour" in raised.value.detail
    assert raised.value.header == "colour"


@pytest.mark.parametrize("header", ["template:", "template:shoes", "template::size", ""])
def test_malformed_template_and_empty_headers_are_unknown(header: str) -> None:
    with pytest.raises(UnknownCsvHeader):
        check(f"{HEADER},{header}\n".encode())


def test_a_repeated_header_is_refused() -> None:
    with pytest.raises(DuplicateCsvHeader) as raised:
        check(f"{HEADER},sku\n".encode())
    assert "sku" in raised.value.detail


def test_every_documented_column_is_accepted() -> None:
    header = (
        "id,external_ref,name,description,slug,status,commodity_type,sku,upc_ean,mpn,tags,"
        "main_image_id,template:shoes:size,template:shoes:created_at,_created_at,_updated_at"
    )
    assert check(f"{header}\n".encode()).columns == header.split(",")


def test_rows_up_to_the_limit_are_accepted_counting_the_header() -> None:
    content = f'{HEADER}\na,1,physical\n"b\n\n",2,digital\n'.encode()
    assert check(content, import_max_rows=3).rows == 3


def test_one_row_over_the_limit_is_refused() -> None:
    content = f"{HEADER}\na,1,physical\nb,2,digital\nc,3,digital\n".encode()
    with pytest.raises(TooManyRows) as raised:
        check(content, import_max_rows=3)
    assert "3" in raised.value.detail


def test_memory_stays_bounded_on_a_large_file() -> None:
    row = b'Shoe,s-1,physical,"a long, ""quoted"" description\nover two lines"\n'
    checker = ImportFileChecker(Settings(import_max_rows=10**9))
    checker.feed(f"{HEADER},description\n".encode())
    chunk = row * 1000
    tracemalloc.start()
    try:
        for _ in range(200):  # about 13 MB
            checker.feed(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert checker.finish().rows == 200_001
    assert peak < 16 * len(chunk)  # a few chunks as text and lines (1 MB), never the 13 MB file


def test_one_huge_field_across_many_chunks_is_read_in_linear_time() -> None:
    content = f'{HEADER},description\nShoe,s-1,physical,"'.encode() + b"x\n" * 2_000_000 + b'"\n'
    began = time.perf_counter()
    assert check(content, chunk_size=4096).rows == 2
    assert time.perf_counter() - began < 2  # re-reading the field per chunk takes minutes


def test_one_huge_line_across_many_chunks_is_read_in_linear_time() -> None:
    content = f"{HEADER}\n".encode() + b"x" * 4_000_000
    began = time.perf_counter()
    assert check(content, chunk_size=512).rows == 2
    assert time.perf_counter() - began < 2  # joining the line per chunk takes many seconds


cell = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(st.lists(cell, min_size=1, max_size=4), max_size=8),
    chunk_size=st.integers(min_value=1, max_value=40),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_rows_are_counted_as_the_csv_module_reads_them(
    records: list[list[str]], chunk_size: int, newline: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(["name", "sku", "commodity_type"])
    writer.writerows(records)
    text = buffer.getvalue()
    expected = sum(1 for record in csv.reader(io.StringIO(text, newline="")) if record)
    assert check(text.encode(), chunk_size=chunk_size).rows == expected
