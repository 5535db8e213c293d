"""Gzip product imports over HTTP on both databases: told by their first bytes, limited by
their inflated size read as a stream, and a gzip bomb refused without being inflated whole."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pxm_jobs.catalog import gzip_files
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import read_transaction
from pxm_jobs.store.tables import blobs, jobs
from tests.job_api import (
    csv_bytes,
    download,
    only_error,
    post_import,
    queue_import,
    rows_of,
    run_jobs,
    show_job,
)
from tests.product_files import products_csv
from tests.store_client import StoreClient, store_client

MAX_BYTES = 100_000
HEADER = ["name", "sku", "commodity_type"]


def small(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_max_bytes": MAX_BYTES})


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(small(settings), engine) as client:
        yield client


def stored_rows(engine: Engine) -> tuple[int, int]:
    """How many jobs and files the database holds."""
    with read_transaction(engine) as connection:
        count_jobs = connection.execute(select(func.count()).select_from(jobs)).scalar_one()
        count_blobs = connection.execute(select(func.count()).select_from(blobs)).scalar_one()
    return int(count_jobs), int(count_blobs)


def finished(api: StoreClient, engine: Engine, settings: Settings, job: dict[str, Any]) -> Any:
    run_jobs(engine, small(settings))
    return show_job(api, job["id"])


def bomb(inflated_bytes: int) -> bytes:
    """A small gzip file whose CSV is `inflated_bytes` long: one header, then the same row."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b"name,sku,commodity_type\n")]
    row = b"Shoe,SHOE,physical\n" * 50_000
    for _ in range(inflated_bytes // len(row) + 1):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    return b"".join(parts)


def test_a_gzip_upload_imports_whatever_its_name_and_type_say(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    plain = products_csv(20)
    job = queue_import(api, gzip.compress(plain))
    done = finished(api, engine, settings, job)
    assert done["attributes"]["status"] == "success", done
    assert done["meta"]["rows"] == {"created": 20, "updated": 0}
    again = finished(api, engine, settings, queue_import(api, plain))
    assert again["meta"]["rows"] == {"created": 0, "updated": 0}, "the same products"


def test_a_gzip_of_several_members_is_read_to_its_end(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    first = csv_bytes(HEADER, ["Boot", "B-1", "physical"])
    second = csv_bytes(["Sandal", "S-1", "digital"])
    job = queue_import(api, gzip.compress(first) + gzip.compress(second))
    done = finished(api, engine, settings, job)
    assert done["meta"]["rows"] == {"created": 2, "updated": 0}


def test_a_gzip_upload_is_checked_like_the_csv_it_holds(api: StoreClient) -> None:
    missing = post_import(api, gzip.compress(b"name,sku\nA,A-1\n"))
    assert missing.status_code == 422
    assert only_error(missing)["detail"] == "missing required csv header: commodity_type"
    latin = post_import(
        api, gzip.compress("name,sku,commodity_type\nCafé,1,physical\n".encode("cp1252"))
    )
    assert latin.status_code == 422 and "UTF-8" in only_error(latin)["detail"]
    empty = post_import(api, gzip.compress(b""))
    assert empty.status_code == 422 and "empty" in only_error(empty)["detail"]


def test_a_damaged_gzip_upload_is_a_422_that_stores_nothing(
    api: StoreClient, engine: Engine
) -> None:
    packed = gzip.compress(products_csv(20))
    for damaged in (packed[:-12], packed[:40] + bytes(b ^ 0xFF for b in packed[40:80])):
        response = post_import(api, damaged)
        assert response.status_code == 422, response.text
        assert only_error(response)["detail"].startswith("error processing gzip file")
    assert stored_rows(engine) == (0, 0)


def test_the_limit_holds_for_the_inflated_size(api: StoreClient, engine: Engine) -> None:
    rows = [[f"Boot {n}", f"B-{n}", "physical"] for n in range(4000)]
    content = csv_bytes(HEADER, *rows)
    assert len(content) > MAX_BYTES > len(gzip.compress(content))
    response = post_import(api, gzip.compress(content))
    assert response.status_code == 413, response.text
    assert "once decompressed" in only_error(response)["detail"]
    fits = csv_bytes(HEADER, *rows[:100])
    assert post_import(api, gzip.compress(fits)).status_code == 201


def test_a_gzip_bomb_gets_413_without_being_inflated_whole(
    api: StoreClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = zlib.decompressobj
    inflated_bytes = 0

    class Counted:
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            nonlocal inflated_bytes
            out: bytes = self._stream.decompress(data, max_length)
            inflated_bytes += len(out)
            return out

        def __getattr__(self, name: str) -> Any:
            return getattr(self._stream, name)

    monkeypatch.setattr(zlib, "decompressobj", lambda **kw: Counted(real(**kw)))
    packed = bomb(10_000_000)
    assert len(packed) < MAX_BYTES // 2
    response = post_import(api, packed)
    assert response.status_code == 413, response.text
    assert "once decompressed" in only_error(response)["detail"]
    # It stopped at the limit: one bounded step past it at most, not 10 MB.
    assert MAX_BYTES < inflated_bytes <= MAX_BYTES + gzip_files.INFLATE_STEP_BYTES
    assert stored_rows(engine) == (0, 0)


def test_empty_gzip_members_are_capped_by_their_own_size(api: StoreClient, engine: Engine) -> None:
    # They inflate to nothing, so only their compressed size can stop them.
    packed = gzip.compress(products_csv(2)) + gzip.compress(b"") * (MAX_BYTES // 20)
    assert len(packed) > MAX_BYTES
    response = post_import(api, packed)
    assert response.status_code == 413, response.text
    assert stored_rows(engine) == (0, 0)


def test_the_rejected_rows_of_a_gzip_upload_are_plain_csv(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    content = csv_bytes(HEADER, ["Boot", "B-1", "physical"], ["Broken", "B-2", "vegetable"])
    done = finished(api, engine, settings, queue_import(api, gzip.compress(content)))
    assert done["attributes"]["status"] == "failed"
    rejected = download(api, done["meta"]["error_file_location"])
    assert rejected.status_code == 200
    assert rows_of(rejected.content)[1][1:] == ["Broken", "B-2", "vegetable"]


def test_a_file_sent_gzipped_then_plain_under_one_key_is_one_request(
    api: StoreClient, engine: Engine
) -> None:
    key = {"Idempotency-Key": "gzip-then-plain"}
    content = products_csv(3)
    first = queue_import(api, gzip.compress(content), headers=key)
    again = post_import(api, content, headers=key)
    assert again.status_code == 201 and again.json()["data"]["id"] == first["id"]
    assert stored_rows(engine) == (1, 1)
