"""Reading price book files: objects in a stream however the bytes are cut, gzip, bombs."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxm_jobs.catalog import gzip_files
from pxm_jobs.catalog.errors import ImportFileTooLarge
from pxm_jobs.catalog.gzip_files import GzipUnreadable, inflated
from pxm_jobs.catalog.pricebooks import jsonl_format
from pxm_jobs.catalog.pricebooks.jsonl_format import InvalidJsonObject, read_objects
from tests.pricebook_files import library_objects, lines_file, pretty_file

EXAMPLE = pretty_file(library_objects())
LIMIT = 10**9


def cut(content: bytes, size: int) -> list[bytes]:
    return [content[start : start + size] for start in range(0, len(content), size)]


def objects_of(pieces: list[bytes]) -> list[object]:
    return [value for _, value in read_objects(inflated(pieces, LIMIT))]


@pytest.mark.parametrize("size", [1, 2, 7, 100, 4096, len(EXAMPLE)])
def test_pretty_printed_objects_are_read_however_the_bytes_are_cut(size: int) -> None:
    assert objects_of(cut(EXAMPLE, size)) == library_objects()


@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=40))
def test_any_cutting_of_the_file_reads_the_same_objects(sizes: list[int]) -> None:
    pieces, start = [], 0
    for size in sizes * (len(EXAMPLE) // sum(sizes) + 1):
        pieces.append(EXAMPLE[start : start + size])
        start += size
    assert objects_of(pieces) == library_objects()


def test_one_object_per_line_a_bom_and_any_whitespace_between_objects() -> None:
    content = b"\xef\xbb\xbf" + lines_file([{"a": 1}, {"b": 2}]) + b'  \t\r\n{"c":3}{"d":4}'
    assert [ordinal for ordinal, _ in read_objects([content])] == [1, 2, 3, 4]


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_gzip_is_known_by_its_magic_bytes_and_members_follow_one_another(size: int) -> None:
    packed = gzip.compress(EXAMPLE[:500]) + gzip.compress(EXAMPLE[500:]) + b"\x00" * 8
    assert objects_of(cut(packed, size)) == library_objects()


def test_a_truncated_or_damaged_gzip_stream_is_reported_as_such() -> None:
    packed = gzip.compress(EXAMPLE)
    with pytest.raises(GzipUnreadable, match=r"^error processing gzip file: it ends before"):
        list(inflated([packed[:-12]], LIMIT))
    damaged = packed[:30] + bytes(b ^ 0xFF for b in packed[30:60]) + packed[60:]
    with pytest.raises(GzipUnreadable, match=r"^error processing gzip file"):
        list(inflated([damaged], LIMIT))
    with pytest.raises(GzipUnreadable, match="are not gzip data"):
        list(inflated([packed + b"trailing words"], LIMIT))


def test_a_gzip_bomb_stops_at_the_limit_a_bounded_step_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = zlib.decompressobj
    largest = 0

    class Watched:
        def __init__(self, stream: object) -> None:
            self._stream = stream

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            nonlocal largest
            assert 0 < max_length <= gzip_files.INFLATE_STEP_BYTES
            out: bytes = self._stream.decompress(data, max_length)  # type: ignore[attr-defined]
            largest = max(largest, len(out))
            return out

        def __getattr__(self, name: str) -> object:
            return getattr(self._stream, name)

    monkeypatch.setattr(zlib, "decompressobj", lambda **kw: Watched(real(**kw)))
    bomb = gzip.compress(b"\x00" * (64 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(ImportFileTooLarge, match="once decompressed"):
        for _ in inflated(cut(bomb, 65536), 4 * 1024 * 1024):
            pass
    assert 0 < largest <= gzip_files.INFLATE_STEP_BYTES


def test_a_plain_file_over_the_limit_is_too_large() -> None:
    with pytest.raises(ImportFileTooLarge):
        list(inflated(cut(EXAMPLE, 100), len(EXAMPLE) - 1))


@pytest.mark.parametrize("size", [1, 64, len(EXAMPLE)])
def test_the_first_object_that_is_not_json_is_named_with_its_line(size: int) -> None:
    broken = EXAMPLE.replace(b'"SAGA-1"', b'"SAGA-1" "oops"', 1)
    line = EXAMPLE[: EXAMPLE.index(b'"SAGA-1"')].count(b"\n") + 1
    read: list[int] = []
    with pytest.raises(InvalidJsonObject) as raised:
        for ordinal, _ in read_objects(cut(broken, size)):
            read.append(ordinal)
    assert raised.value.ordinal == 6
    assert read == [1, 2, 3, 4, 5]
    assert raised.value.detail.startswith("error processing object 6: invalid json provided (")
    assert f"at line {line}," in raised.value.detail


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"a": 1}\n{"b": ', "Expecting value"),
        (b'{"a": "no end}', "Unterminated string"),
        (b'{"a": 1}\n{"b": \xff}', "not UTF-8 text near byte 15"),
        (b'{"a": "tab\there"}', "Invalid control character"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5000 + b"}", "digits"),
    ],
)
def test_unreadable_objects_are_refused_with_a_reason(content: bytes, words: str) -> None:
    with pytest.raises(InvalidJsonObject, match=words):
        list(read_objects(cut(content, 3)))


def test_an_object_that_never_ends_stops_the_reader_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl_format, "OBJECT_MAX_CHARS", 1000)
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        yield b'{"a": "'
        while True:
            pulled += 1
            yield b"x" * 100

    with pytest.raises(InvalidJsonObject, match="does not end within 1,000 characters"):
        list(read_objects(endless()))
    assert pulled < 100


def test_values_other_than_objects_are_read_for_the_import_to_refuse() -> None:
    assert [value for _, value in read_objects([b'[1, 2] "text" {"a": {}}'])] == [
        [1, 2],
        "text",
        {"a": {}},
    ]
    assert json.loads(EXAMPLE.split(b"\n}\n", 1)[0] + b"\n}") == library_objects()[0]
