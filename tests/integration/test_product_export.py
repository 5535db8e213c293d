"""Product export to CSV parts, and the round trip back through the import, on both databases."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from pxm_jobs.catalog.errors import InvalidExportColumns
from pxm_jobs.catalog.products import csv_export
from pxm_jobs.catalog.products.csv_export import (
    CSV_CONTENT_TYPE,
    export_products,
    rows_per_part,
)
from pxm_jobs.catalog.products.csv_import import ImportResult, import_products
from pxm_jobs.catalog.products.export_columns import check_export_columns
from pxm_jobs.catalog.products.product_filter import parse_product_filter
from pxm_jobs.catalog.products.queries import Product, list_products
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.jobs.product_export import UNCLAIMED_PARTS_KEPT, run_product_export
from pxm_jobs.queue.models import FILES_META_KEY, Job, JobStatus
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store import blobs as blob_store
from pxm_jobs.store.blobs import get_blob, open_blob, purge_expired_blobs, read_blob, write_blob
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import blob_chunks, blobs
from tests.factories import add_store

HEADER = ["name", "sku", "commodity_type"]
IMPORT_COLUMNS = [
    "id",
    "external_ref",
    "name",
    "description",
    "slug",
    "status",
    "commodity_type",
    "sku",
    "upc_ean",
    "mpn",
    "tags",
    "main_image_id",
]


def new_store(engine: Engine) -> str:
    with write_transaction(engine) as connection:
        return add_store(connection)


def csv_text(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def run_import(engine: Engine, settings: Settings, store_id: str, content: bytes) -> ImportResult:
    with write_transaction(engine) as connection:
        return import_products(
            connection,
            store_id=store_id,
            chunks=[content[start : start + 7] for start in range(0, len(content), 7)],
            settings=settings,
            dry_run=False,
            report_progress=lambda processed, total: None,
        )


def export(
    engine: Engine,
    store_id: str,
    *,
    filter_text: str | None = None,
    columns: list[str] | None = None,
    rows_per_file: int = 50_000,
    progress: list[tuple[int, int | None]] | None = None,
) -> list[tuple[str, bytes]]:
    """The export's files as (name, content)."""
    reports = progress if progress is not None else []
    with write_transaction(engine) as connection:
        files = export_products(
            connection,
            store_id=store_id,
            filters=parse_product_filter(filter_text) if filter_text else [],
            columns=columns,
            rows_per_file=rows_per_file,
            expires_at=utc_now() + timedelta(days=7),
            report_progress=lambda processed, total: reports.append((processed, total)),
        )
        return [(file.name, b"".join(read_blob(connection, file.blob_id))) for file in files]


def wait_for_the_clock_to_pass(moment: datetime) -> None:
    """Until the service's clock, kept to the millisecond, reads later than `moment`: an import
    can take less than a millisecond, and products made next must be newer."""
    while utc_now() <= moment:
        time.sleep(0.0001)


def records(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


def catalog(engine: Engine, store_id: str) -> dict[str, Product]:
    with read_transaction(engine) as connection:
        found, _ = list_products(connection, store_id, limit=10_000, offset=0)
    return {product.id: product for product in found}


def numbered_products(engine: Engine, settings: Settings, store_id: str, count: int) -> None:
    rows = [[f"P{n}", f"s-{n:03d}", "physical"] for n in range(count)]
    run_import(engine, settings, store_id, csv_text(HEADER, *rows))


def test_the_csv_has_the_import_columns_and_the_timestamps(
    engine: Engine, settings: Settings
) -> None:
    store_id = new_store(engine)
    content = csv_text(
        ["name", "sku", "commodity_type", "tags", "upc_ean", "description", "status"],
        ['Blue, "big" shoe', "S-1", "digital", "a,b", "000123", "Line 1\nLine 2", "live"],
    )
    run_import(engine, settings, store_id, content)
    [(name, data)] = export(engine, store_id)
    product = next(iter(catalog(engine, store_id).values()))
    stamp = product.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{product.created_at:%f}"[:3]
    assert name == "part_1.csv"
    assert records(data) == [
        [*IMPORT_COLUMNS, "_created_at", "_updated_at"],
        [
            product.id,
            "",
            'Blue, "big" shoe',
            "Line 1\nLine 2",
            "blue-big-shoe",
            "live",
            "digital",
            "S-1",
            "000123",
            "",
            "a,b",
            "",
            stamp + "Z",
            stamp + "Z",
        ],
    ]
    assert data.count(b"\r\n") == 2, "records end with CRLF; a line break inside is quoted"


def test_an_export_matching_nothing_writes_no_file(engine: Engine) -> None:
    store_id = new_store(engine)
    assert export(engine, store_id) == []


# An export that fits in the first batch is not counted; a longer one is (exactly one batch too).
@pytest.mark.parametrize("fetch_rows", [4, 10, 2000])
def test_parts_hold_at_most_their_rows_and_every_product_once_oldest_first(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, fetch_rows: int
) -> None:
    monkeypatch.setattr(csv_export, "FETCH_ROWS", fetch_rows)
    store_id = new_store(engine)
    for start in range(0, 10, 5):  # two imports: two creation times
        rows = [[f"P{n}", f"s-{n}", "physical"] for n in range(start, start + 5)]
        run_import(engine, settings, store_id, csv_text(HEADER, *rows))
        wait_for_the_clock_to_pass(max(p.created_at for p in catalog(engine, store_id).values()))
    progress: list[tuple[int, int | None]] = []
    parts = export(engine, store_id, rows_per_file=3, progress=progress)
    assert [name for name, _ in parts] == [f"part_{n}.csv" for n in range(1, 5)]
    bodies = [records(data) for _, data in parts]
    assert all(body[0] == bodies[0][0] for body in bodies)
    assert [len(body) - 1 for body in bodies] == [3, 3, 3, 1]
    skus = [row[7] for body in bodies for row in body[1:]]
    assert sorted(skus) == sorted(f"s-{n}" for n in range(10))
    assert {f"s-{n}" for n in range(5)} == set(skus[:5]), "older products come first"
    assert progress[-1] == (10, 10)


def test_an_exact_multiple_of_the_part_size_makes_no_empty_part(
    engine: Engine, settings: Settings
) -> None:
    store_id = new_store(engine)
    numbered_products(engine, settings, store_id, 4)
    assert [len(records(data)) for _, data in export(engine, store_id, rows_per_file=2)] == [3, 3]


def test_a_part_is_never_longer_than_an_import_accepts() -> None:
    assert rows_per_part(Settings()) == 49_999
    assert rows_per_part(Settings(export_rows_per_file=10)) == 10
    assert rows_per_part(Settings(export_rows_per_file=100, import_max_rows=20)) == 19


def test_the_filter_selects_what_the_product_list_selects(
    engine: Engine, settings: Settings
) -> None:
    store_id = new_store(engine)
    numbered_products(engine, settings, store_id, 12)
    filter_text = 'like(sku,"s-00*"):in(name,P1,P3,P11)'
    [(_, data)] = export(engine, store_id, filter_text=filter_text)
    with read_transaction(engine) as connection:
        listed, _ = list_products(
            connection, store_id, filters=parse_product_filter(filter_text), limit=100, offset=0
        )
    assert sorted(row[0] for row in records(data)[1:]) == sorted(p.id for p in listed)
    assert len(listed) == 2


def test_other_stores_products_are_never_exported(engine: Engine, settings: Settings) -> None:
    store_id = new_store(engine)
    numbered_products(engine, settings, store_id, 3)
    assert export(engine, new_store(engine)) == []


def test_template_columns_come_from_the_exported_products_only(
    engine: Engine, settings: Settings
) -> None:
    store_id = new_store(engine)
    content = csv_text(
        [*HEADER, "template:shoes:size", "template:care:wash"],
        ["A", "a", "physical", "42", ""],
        ["B", "b", "physical", "", "cold"],
        ["C", "c", "physical", "", ""],
    )
    run_import(engine, settings, store_id, content)
    [(_, everything)] = export(engine, store_id)
    header, *rows = records(everything)
    assert header[12:14] == ["template:care:wash", "template:shoes:size"]
    assert sorted(row[12:14] for row in rows) == [["", ""], ["", "42"], ["cold", ""]]
    [(_, only_a)] = export(engine, store_id, filter_text="eq(sku,a)")
    assert "template:care:wash" not in records(only_a)[0]


def test_chosen_columns_come_in_the_order_asked_after_the_ones_an_import_needs(
    engine: Engine, settings: Settings
) -> None:
    store_id = new_store(engine)
    run_import(
        engine,
        settings,
        store_id,
        csv_text([*HEADER, "template:shoes:size"], ["A", "a", "digital", "42"]),
    )
    columns = ["sku", "template:shoes:size", "template:x:y", "_updated_at", "name"]
    [(_, data)] = export(engine, store_id, columns=columns)
    header, row = records(data)
    assert header == ["id", "external_ref", "commodity_type", *columns]
    assert row[1:3] == ["", "digital"]
    row = row[3:]
    assert row[:3] == ["a", "42", ""] and row[4] == "A" and row[3].endswith("Z")


def test_export_columns_are_checked_and_kept_once() -> None:
    assert check_export_columns(["sku", "name", "sku"]) == ("sku", "name")
    assert check_export_columns([]) is None
    for bad in (["colour"], ["template:only-two"], ["template::x"], ["store_id"]):
        with pytest.raises(InvalidExportColumns) as raised:
            check_export_columns(bad)
        assert repr(bad[0]) in raised.value.detail


def test_exported_files_are_csv_blobs_that_expire(engine: Engine, settings: Settings) -> None:
    store_id = new_store(engine)
    run_import(engine, settings, store_id, csv_text(HEADER, ["A", "a", "digital"]))
    before = utc_now()
    job = make_job(store_id, {"filter": "eq(sku,a)"})
    with write_transaction(engine) as connection:
        meta = run_product_export(
            JobContext(job=job, settings=settings, report_progress=lambda p, t: None), connection
        )
        [file] = meta[FILES_META_KEY]
        blob = get_blob(connection, file["blob_id"])
    assert blob is not None and blob.name == file["name"] == "part_1.csv"
    assert blob.store_id == store_id and blob.content_type == CSV_CONTENT_TYPE
    assert blob.expires_at is not None
    retention = timedelta(days=settings.export_retention_days)
    assert before + retention <= blob.expires_at <= utc_now() + retention


def test_parts_stored_apart_keep_the_retention_only_once_the_export_succeeds(
    engine: Engine, settings: Settings
) -> None:
    """Parts stored in transactions of their own outlive an export that then fails, but only
    briefly; the export's success gives them the retention."""
    store_id = new_store(engine)
    run_import(engine, settings, store_id, csv_text(HEADER, ["A", "a", "digital"]))
    job = make_job(store_id, {})
    context = JobContext(
        job=job,
        settings=settings,
        report_progress=lambda p, t: None,
        read_separately=lambda: read_transaction(engine),
        write_separately=lambda: write_transaction(engine),
    )

    class Failed(Exception):
        """The job's transaction ends without success."""

    # As the worker runs it on SQLite: the write lock taken at the job's first write only.
    stored: list[str] = []
    with pytest.raises(Failed), write_transaction(engine, lock_first=False) as connection:
        meta = run_product_export(context, connection)
        stored = [file["blob_id"] for file in meta[FILES_META_KEY]]
        raise Failed()
    before = utc_now()
    with write_transaction(engine, lock_first=False) as connection:
        meta = run_product_export(context, connection)
        [kept] = [file["blob_id"] for file in meta[FILES_META_KEY]]
    with read_transaction(engine) as connection:
        [left] = [get_blob(connection, blob_id) for blob_id in stored]
        succeeded = get_blob(connection, kept)
    assert left is not None and left.expires_at is not None
    assert left.expires_at <= utc_now() + UNCLAIMED_PARTS_KEPT
    assert succeeded is not None and succeeded.expires_at is not None
    assert succeeded.expires_at >= before + timedelta(days=settings.export_retention_days)


def test_the_job_fails_clearly_on_a_filter_it_cannot_read(
    engine: Engine, settings: Settings
) -> None:
    job = make_job(new_store(engine), {"filter": "eq(colour,red)"})
    with pytest.raises(JobFailed) as raised, write_transaction(engine) as connection:
        run_product_export(
            JobContext(job=job, settings=settings, report_progress=lambda p, t: None), connection
        )
    assert "colour" in raised.value.errors[0].message


def test_only_blobs_past_their_retention_are_purged(engine: Engine) -> None:
    store_id = new_store(engine)
    now = utc_now()
    with write_transaction(engine) as connection:
        ids = {
            label: write_blob(
                connection,
                store_id=store_id,
                name=f"{label}.csv",
                content_type="text/csv",
                chunks=[b"x" * 10],
                expires_at=expires_at,
            ).id
            for label, expires_at in [
                ("expired", now - timedelta(seconds=1)),
                ("live", now + timedelta(days=1)),
                ("kept", None),
            ]
        }
        assert purge_expired_blobs(connection, now) == 1
        assert purge_expired_blobs(connection, now) == 0
        left = set(connection.execute(select(blobs.c.id)).scalars())
        chunks = set(connection.execute(select(blob_chunks.c.blob_id)).scalars())
    assert left == chunks == {ids["live"], ids["kept"]}


def make_job(store_id: str, job_input: dict[str, Any]) -> Job:
    now = datetime.now(UTC)
    return Job(
        seq=1,
        id=str(uuid.uuid4()),
        store_id=store_id,
        type="product-export",
        status=JobStatus.STARTED,
        created_at=now,
        updated_at=now,
        started_at=now,
        completed_at=None,
        request_id=None,
        input=job_input,
        file_id=None,
        meta={},
        progress_processed=None,
        progress_total=None,
        worker_id="w",
        attempts=1,
    )


# -- the round trip -----------------------------------------------------------------------------

# Text a CSV file finds hard: separators, quotes, every line break, other scripts, edge spaces.
awkward_text = st.lists(
    st.one_of(
        st.sampled_from([",", '"', "\n", "\r", "\r\n", " ", "'", ";", "\t", "=1+1", "\\"]),
        st.sampled_from(["é", "日本語", "Жёлтый", "عربى", "🙂", "ß"]),
        st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=5),
    ),
    min_size=1,
    max_size=6,
).map("".join)
present_text = awkward_text.filter(lambda text: text.strip() != "")
optional_text = st.one_of(st.just(""), present_text)
tag = st.text(st.sampled_from("abcxyzé日0-_."), min_size=1, max_size=8)


@st.composite
def product_rows(draw: st.DrawFn, number: int) -> list[str]:
    return [
        draw(present_text),  # name
        f"{number}{draw(awkward_text)}",  # sku: unique by its prefix
        draw(st.sampled_from(["physical", "digital"])),
        draw(optional_text),  # description
        draw(st.one_of(st.just(""), st.from_regex(r"0{1,4}[0-9]{0,8}", fullmatch=True))),
        draw(optional_text),  # mpn
        ",".join(draw(st.lists(tag, max_size=4, unique=True))),
        draw(st.sampled_from(["draft", "live"])),
        draw(st.one_of(st.just(""), st.just(f"ref-{number}"))),  # external_ref
        draw(optional_text),  # template:shoes:size
        f"p-{number}",  # slug: derived ones may collide
    ]


ROUND_TRIP_HEADER = [
    *HEADER,
    "description",
    "upc_ean",
    "mpn",
    "tags",
    "status",
    "external_ref",
    "template:shoes:size",
    "slug",
]


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), count=st.integers(1, 6))
def test_an_unedited_export_imports_back_changing_nothing_and_edits_apply_exactly(
    engine: Engine, settings: Settings, data: st.DataObject, count: int
) -> None:
    store_id = new_store(engine)
    rows = [data.draw(product_rows(number)) for number in range(count)]
    run_import(engine, settings, store_id, csv_text(ROUND_TRIP_HEADER, *rows))
    before = catalog(engine, store_id)
    parts = export(engine, store_id, rows_per_file=4)

    for _, content in parts:
        result = run_import(engine, settings, store_id, content)
        assert (result.created, result.updated) == (0, 0)
    assert catalog(engine, store_id) == before

    header, *exported = records(parts[0][1])
    edited = [list(row) for row in exported]
    new_name = data.draw(present_text)
    edited[0][header.index("name")] = new_name
    edited[-1][header.index("description")] = ""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *edited])
    run_import(engine, settings, store_id, buffer.getvalue().encode())

    after = catalog(engine, store_id)
    expected = dict(before)
    first, last = edited[0][0], edited[-1][0]
    expected[first] = _changed(expected[first], name=new_name)
    expected[last] = _changed(expected[last], description=None)
    for product_id, product in after.items():
        wanted = expected[product_id]
        if product != _changed(wanted, updated_at=product.updated_at):
            raise AssertionError(f"{product} != {wanted}")
        if wanted == before[product_id]:
            assert product.updated_at == wanted.updated_at, "an unchanged product was touched"


def _changed(product: Product, **values: Any) -> Product:
    return Product(**{**product.__dict__, **values})


def test_the_worker_purges_expired_files_now_and_then(engine: Engine, settings: Settings) -> None:
    store_id = new_store(engine)
    now = utc_now()
    with write_transaction(engine) as connection:
        for expires_at in (now - timedelta(days=1), now - timedelta(seconds=1), now + timedelta(1)):
            write_blob(
                connection,
                store_id=store_id,
                name="part_1.csv",
                content_type=CSV_CONTENT_TYPE,
                chunks=[b"id\r\n"],
                expires_at=expires_at,
            )
    worker = Worker(engine, settings, RUNNERS)
    assert worker.housekeeper.purge_expired_files() == 2
    with write_transaction(engine) as connection:
        connection.execute(update(blobs).values(expires_at=now - timedelta(seconds=1)))
    assert worker.housekeeper.purge_expired_files() == 0, "not again before the interval has passed"


@pytest.mark.parametrize("pieces", [0, 1, 2, 5])
def test_a_blob_knows_its_size_whether_it_is_one_piece_or_many(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, pieces: int
) -> None:
    monkeypatch.setattr(blob_store, "CHUNK_BYTES", 8)
    store_id = new_store(engine)
    content = b"0123456789abcdef"[: 8 * pieces] + (b"tail" if pieces > 1 else b"")
    with write_transaction(engine) as connection:
        written = write_blob(
            connection,
            store_id=store_id,
            name="part_1.csv",
            content_type="text/csv",
            chunks=[content[:3], content[3:]],
        )
    with read_transaction(engine) as connection:
        stored = get_blob(connection, written.id)
        assert stored is not None and stored.size == len(content) == written.size
        assert b"".join(read_blob(connection, written.id)) == content
        opened = open_blob(connection, written.id)  # its first chunk comes with its row
        assert opened is not None and opened.info == stored
        assert b"".join(opened.chunks) == content
