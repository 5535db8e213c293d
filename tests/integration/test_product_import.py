"""Product import from CSV, end to end on SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from pxm_jobs.catalog.errors import ImportRejected
from pxm_jobs.catalog.products import csv_import
from pxm_jobs.catalog.products.csv_import import ImportResult, import_products, new_product_ids
from pxm_jobs.catalog.products.queries import Product, list_products
from pxm_jobs.config import Settings
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.jobs.product_import import run_product_import
from pxm_jobs.queue.models import Job, JobStatus
from pxm_jobs.queue.runner import JobContext, JobFailed
from pxm_jobs.store.blobs import write_blob
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import stores
from tests.product_files import products_csv
from tests.sent_statements import statements_sent


def example_file() -> bytes:
    return products_csv(5)


def add_store(engine: Engine) -> str:
    store_id = str(uuid.uuid4())
    with write_transaction(engine) as connection:
        connection.execute(
            insert(stores).values(id=store_id, name="shop", created_at=datetime.now(UTC))
        )
    return store_id


@pytest.fixture
def store_id(engine: Engine) -> str:
    return add_store(engine)


def as_bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


def run_import(
    engine: Engine,
    settings: Settings,
    store_id: str,
    content: str | bytes,
    *,
    dry_run: bool = False,
    chunk_size: int = 5,
    progress: list[tuple[int, int | None]] | None = None,
) -> ImportResult:
    data = as_bytes(content)
    chunks = (data[start : start + chunk_size] for start in range(0, len(data), chunk_size))
    reports = progress if progress is not None else []
    with write_transaction(engine) as connection:
        return import_products(
            connection,
            store_id=store_id,
            chunks=chunks,
            settings=settings,
            dry_run=dry_run,
            report_progress=lambda processed, total: reports.append((processed, total)),
        )


def rejected(
    engine: Engine, settings: Settings, store_id: str, content: str | bytes
) -> list[JobErrorDetail]:
    with pytest.raises(ImportRejected) as raised:
        run_import(engine, settings, store_id, content)
    return raised.value.errors


def problems(errors: list[JobErrorDetail]) -> list[tuple[int | None, str | None, str | None]]:
    return [(error.row, error.field, error.code) for error in errors]


def catalog(engine: Engine, store_id: str) -> dict[str, Product]:
    """The store's products by sku (or by name when they have none)."""
    with read_transaction(engine) as connection:
        found, _ = list_products(connection, store_id, limit=10_000, offset=0)
    return {product.sku or product.name: product for product in found}


def csv_text(*rows: list[str]) -> str:
    """Rows as CSV the way spreadsheets write it: CRLF endings, so a lone CR is quoted too."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


HEADER = ["name", "sku", "commodity_type"]


def test_the_example_file_creates_its_products(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    result = run_import(engine, settings, store_id, example_file(), chunk_size=64)
    assert result == ImportResult(created=5, updated=0)
    products = catalog(engine, store_id)
    assert sorted(products) == [f"tablet-sku-{n}" for n in range(5)]
    first = products["tablet-sku-0"]
    assert (first.name, first.slug, first.external_ref) == (
        "Tablet product 0",
        "tablet-0",
        "tablet-ext-0",
    )
    assert first.description == 'A blue item, number 0, the "blue" edition'
    assert (first.commodity_type, first.status) == ("physical", "live")
    assert (first.mpn, first.upc_ean) == ("MPN-0000000", "400000000000")
    assert first.created_at == first.updated_at
    assert first.store_id == store_id
    uuid.UUID(first.id)


def test_values_are_normalised_and_defaulted(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(
        [*HEADER, "status", "tags", "slug"],
        ["Crème Brûlée", "s-1", "PHYSICAL", "", "dessert,french", ""],
        ["Tea", "s-2", "Digital", "LIVE", "", "tea.1"],
    )
    assert run_import(engine, settings, store_id, content).created == 2
    products = catalog(engine, store_id)
    assert products["s-1"].slug == "creme-brulee"
    assert (products["s-1"].status, products["s-1"].commodity_type) == ("draft", "physical")
    assert products["s-1"].tags == ["dessert", "french"]
    assert (products["s-2"].status, products["s-2"].commodity_type) == ("live", "digital")
    assert (products["s-2"].slug, products["s-2"].tags) == ("tea.1", None)


def test_a_dry_run_reports_but_writes_nothing(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    result = run_import(engine, settings, store_id, example_file(), dry_run=True)
    assert result == ImportResult(created=5, updated=0)
    assert catalog(engine, store_id) == {}


def test_a_dry_run_reports_errors_like_a_real_one(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    with pytest.raises(ImportRejected) as raised, write_transaction(engine) as connection:
        import_products(
            connection,
            store_id=store_id,
            chunks=[csv_text(HEADER, ["", "s-1", "physical"]).encode()],
            settings=settings,
            dry_run=True,
            report_progress=lambda processed, total: None,
        )
    assert problems(raised.value.errors) == [(2, "name", "required")]


def test_rows_with_an_id_update_only_the_columns_present(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    before = catalog(engine, store_id)["tablet-sku-1"]
    content = csv_text(["id", *HEADER], [before.id, "Renamed", "tablet-sku-1", "physical"])
    assert run_import(engine, settings, store_id, content) == ImportResult(created=0, updated=1)
    after = catalog(engine, store_id)["tablet-sku-1"]
    assert (after.name, after.commodity_type) == ("Renamed", "physical")
    assert (after.description, after.slug, after.mpn) == (
        before.description,
        before.slug,
        before.mpn,
    )
    assert after.created_at == before.created_at
    assert after.updated_at >= before.updated_at


def test_rows_with_a_known_external_ref_update_that_product(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    before = catalog(engine, store_id)["tablet-sku-2"]
    content = csv_text(
        ["external_ref", *HEADER, "status"],
        ["tablet-ext-2", "Tablet two", "tablet-sku-2", "digital", "draft"],
        ["tablet-ext-new", "Tablet new", "tablet-sku-new", "digital", "live"],
    )
    assert run_import(engine, settings, store_id, content) == ImportResult(created=1, updated=1)
    products = catalog(engine, store_id)
    assert products["tablet-sku-2"].id == before.id
    assert (products["tablet-sku-2"].name, products["tablet-sku-2"].status) == (
        "Tablet two",
        "draft",
    )
    assert products["tablet-sku-new"].external_ref == "tablet-ext-new"
    assert len(products) == 6


def test_blank_cells_keep_required_values_and_clear_optional_ones(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    before = catalog(engine, store_id)["tablet-sku-3"]
    content = csv_text(
        ["id", "name", "sku", "commodity_type", "status", "slug", "description", "mpn", "tags"],
        [before.id, "", "", " ", "", "", "", "", ""],
    )
    assert run_import(engine, settings, store_id, content).updated == 1
    after = next(p for p in catalog(engine, store_id).values() if p.id == before.id)
    assert (after.name, after.commodity_type, after.status, after.slug) == (
        before.name,
        before.commodity_type,
        before.status,
        before.slug,
    )
    assert (after.sku, after.description, after.mpn, after.tags) == (None, None, None, None)
    assert after.upc_ean == before.upc_ean  # not a column of the file


def test_reimporting_unchanged_rows_changes_nothing(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    before = catalog(engine, store_id)
    result = run_import(engine, settings, store_id, example_file())
    assert result == ImportResult(created=0, updated=0, unchanged=5)
    assert catalog(engine, store_id) == before


def test_an_unknown_id_fails_the_whole_import(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    missing = str(uuid.uuid4())
    content = csv_text(
        ["id", *HEADER], ["", "Good", "s-1", "physical"], [missing, "Bad", "s-2", "physical"]
    )
    errors = rejected(engine, settings, store_id, content)
    assert problems(errors) == [(3, "id", "not_found")]
    assert missing in errors[0].message
    assert errors[0].value == missing
    assert catalog(engine, store_id) == {}


def test_another_stores_products_are_invisible(engine: Engine, settings: Settings) -> None:
    mine, theirs = add_store(engine), add_store(engine)
    run_import(engine, settings, theirs, example_file())
    their_product = catalog(engine, theirs)["tablet-sku-0"]
    by_id = csv_text(["id", *HEADER], [their_product.id, "Mine", "s-1", "physical"])
    assert problems(rejected(engine, settings, mine, by_id)) == [(2, "id", "not_found")]
    # The same external_ref and sku in another store are free: this creates a product.
    assert run_import(engine, settings, mine, example_file()).created == 5
    assert catalog(engine, theirs)["tablet-sku-0"] == their_product


def test_a_product_changed_twice_in_one_file_is_an_error(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    product = catalog(engine, store_id)["tablet-sku-0"]
    content = csv_text(
        ["id", "external_ref", *HEADER],
        [product.id, "", "One", "tablet-sku-0", "physical"],
        ["", "tablet-ext-0", "Two", "tablet-sku-0", "physical"],
    )
    errors = rejected(engine, settings, store_id, content)
    assert problems(errors) == [(3, "external_ref", "duplicate_in_file")]
    assert "row 2" in errors[0].message


def test_unique_values_repeated_in_the_file_are_errors_on_the_later_rows(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(
        [*HEADER, "slug", "external_ref"],
        ["A", "dup", "physical", "a", "ref-a"],
        ["B", "dup", "physical", "b", "ref-b"],
        ["C", "c", "physical", "a", "ref-c"],
        ["D", "d", "physical", "d", "ref-c"],
    )
    errors = rejected(engine, settings, store_id, content)
    assert problems(errors) == [
        (3, "sku", "duplicate_in_file"),
        (4, "slug", "duplicate_in_file"),
        (5, "external_ref", "duplicate_in_file"),
    ]
    assert errors[0].message == "sku 'dup' is also used by row 2"


def test_a_derived_slug_must_be_unique_too(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(HEADER, ["Blue Shoe", "s-1", "physical"], ["blue shoe", "s-2", "physical"])
    assert problems(rejected(engine, settings, store_id, content)) == [
        (3, "slug", "duplicate_in_file")
    ]


def test_values_held_by_other_products_are_errors(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    holder = catalog(engine, store_id)["tablet-sku-0"]
    content = csv_text(
        [*HEADER, "slug"],
        ["New", "tablet-sku-0", "physical", "fresh"],
        ["Newer", "other", "physical", "tablet-1"],
    )
    errors = rejected(engine, settings, store_id, content)
    assert problems(errors) == [(2, "sku", "already_exists"), (3, "slug", "already_exists")]
    assert holder.id in errors[0].message


def test_a_value_an_update_keeps_cannot_be_taken_by_another_row(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    content = csv_text(
        ["external_ref", "name", "sku", "commodity_type"],
        ["", "Thief", "tablet-sku-4-new", "physical"],
        ["tablet-ext-4", "Tablet four", "tablet-sku-4", "physical"],
    )
    # The second row keeps tablet-4 as its slug; the first derives slug "thief": no clash.
    assert run_import(engine, settings, store_id, content) == ImportResult(created=1, updated=1)
    clash = csv_text(
        ["external_ref", "name", "sku", "commodity_type", "slug"],
        ["", "Thief 2", "thief-2", "physical", "tablet-3"],
        ["tablet-ext-3", "Tablet three", "tablet-sku-3", "physical", ""],
    )
    errors = rejected(engine, settings, store_id, clash)
    assert problems(errors) == [(2, "slug", "duplicate_in_file")]
    assert "row 3" in errors[0].message


def test_values_freed_in_the_same_file_can_be_reused_and_swapped(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    run_import(engine, settings, store_id, example_file())
    content = csv_text(
        ["external_ref", "name", "sku", "commodity_type", "slug"],
        # tablets 0 and 1 swap skus and slugs; tablet 2 gives its sku to a new product.
        ["tablet-ext-0", "Tablet product 0", "tablet-sku-1", "physical", "tablet-1"],
        ["tablet-ext-1", "Tablet product 1", "tablet-sku-0", "digital", "tablet-0"],
        ["", "Newcomer", "tablet-sku-2", "physical", "tablet-2"],
        ["tablet-ext-2", "Tablet product 2", "tablet-sku-2b", "digital", "tablet-2b"],
    )
    assert run_import(engine, settings, store_id, content) == ImportResult(created=1, updated=3)
    products = catalog(engine, store_id)
    assert (products["tablet-sku-1"].external_ref, products["tablet-sku-1"].slug) == (
        "tablet-ext-0",
        "tablet-1",
    )
    assert (products["tablet-sku-0"].external_ref, products["tablet-sku-0"].slug) == (
        "tablet-ext-1",
        "tablet-0",
    )
    assert products["tablet-sku-2"].name == "Newcomer"
    assert products["tablet-sku-2b"].external_ref == "tablet-ext-2"


def test_rule_errors_carry_row_field_and_value(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(
        [*HEADER, "external_ref", "tags", "status", "slug"],
        ["Good", "s-1", "physical", "", "a,b", "live", "good"],
        ["", "s-2", "service", "x" * 2049, "a b,c", "gone", "bad slug"],
    )
    errors = rejected(engine, settings, store_id, content)
    assert sorted(problems(errors)) == [
        (3, "commodity_type", "invalid_value"),
        (3, "external_ref", "too_long"),
        (3, "name", "required"),
        (3, "slug", "invalid_value"),
        (3, "status", "invalid_value"),
        (3, "tags", "invalid_value"),
    ]
    assert next(e for e in errors if e.field == "status").value == "gone"


def test_too_many_tags_is_its_own_error(engine: Engine, settings: Settings, store_id: str) -> None:
    tags = ",".join(f"t{n}" for n in range(21))
    content = csv_text([*HEADER, "tags"], ["A", "s-1", "physical", tags])
    assert problems(rejected(engine, settings, store_id, content)) == [(2, "tags", "too_many")]


def test_rows_are_numbered_by_the_line_they_start_on(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = (
        "name,sku,commodity_type,description\n"
        'A,s-1,physical,"two\nlines"\n'
        "\n"
        'B,s-2,physical,"three\r\nshort\nlines"\n'
        "C,s-3,none,\n"
    )
    assert problems(rejected(engine, settings, store_id, content)) == [
        (8, "commodity_type", "invalid_value")
    ]


def test_a_row_with_the_wrong_number_of_cells_is_an_error(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = "name,sku,commodity_type\nA,s-1,physical,extra\nB,s-2\n"
    errors = rejected(engine, settings, store_id, content)
    assert problems(errors) == [(2, None, "invalid_row"), (3, None, "invalid_row")]
    assert "4 cells" in errors[0].message


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "invalid_file"),
        (b"name,sku\n", "invalid_header"),
        (b"name,sku,commodity_type,colour\n", "invalid_header"),
        ("name,sku,commodity_type\nCafé,s-1,physical\n".encode("latin-1"), "invalid_file"),
        (b"name,sku,commodity_type\nA\x00,s-1,physical\n", "invalid_file"),
    ],
)
def test_an_unreadable_file_is_one_error(
    engine: Engine, settings: Settings, store_id: str, content: bytes, code: str
) -> None:
    errors = rejected(engine, settings, store_id, content)
    assert [error.code for error in errors] == [code]


def test_more_rows_than_allowed_are_refused(
    engine: Engine, store_id: str, settings: Settings
) -> None:
    small = settings.model_copy(update={"import_max_rows": 3})
    content = csv_text(
        HEADER, ["A", "1", "physical"], ["B", "2", "physical"], ["C", "3", "physical"]
    )
    assert [e.code for e in rejected(engine, small, store_id, content)] == ["too_many"]
    assert (
        run_import(engine, small, store_id, csv_text(HEADER, ["A", "1", "physical"])).created == 1
    )


def test_template_columns_are_custom_data(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(
        [
            *HEADER,
            "template:shoes:size",
            "template:shoes:colour",
            "template:care:wash",
            "_created_at",
            "template:shoes:created_at",
        ],
        ["A", "s-1", "physical", "42", "red", "", "2020-01-01", "2020-01-01"],
    )
    run_import(engine, settings, store_id, content)
    product = catalog(engine, store_id)["s-1"]
    assert product.templates == {"shoes": {"size": "42", "colour": "red"}}
    update = csv_text(
        ["id", *HEADER, "template:shoes:size", "template:care:wash"],
        [product.id, "", "s-1", "", "", "cold"],
    )
    assert run_import(engine, settings, store_id, update).updated == 1
    assert catalog(engine, store_id)["s-1"].templates == {
        "shoes": {"colour": "red"},
        "care": {"wash": "cold"},
    }


def test_progress_is_reported_in_steps_and_at_the_end(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    rows = [[f"P{n}", f"s-{n}", "physical"] for n in range(2500)]
    reports: list[tuple[int, int | None]] = []
    run_import(
        engine, settings, store_id, csv_text(HEADER, *rows), chunk_size=4096, progress=reports
    )
    # The rows read, in steps; then all of them, checked, before the writes; then done.
    assert reports == [(1000, None), (2000, None), (2500, 2500), (2500, 2500)]


def test_a_large_file_imports_in_one_go(engine: Engine, settings: Settings, store_id: str) -> None:
    rows = [[f"P{n}", f"s-{n}", "digital", f"ref-{n}"] for n in range(3000)]
    content = csv_text([*HEADER, "external_ref"], *rows)
    assert run_import(engine, settings, store_id, content, chunk_size=65536).created == 3000
    rows[1234][0] = "Changed"
    result = run_import(engine, settings, store_id, csv_text([*HEADER, "external_ref"], *rows))
    assert result == ImportResult(created=0, updated=1, unchanged=2999)
    assert catalog(engine, store_id)["s-1234"].name == "Changed"


def test_new_product_ids_are_version_4_uuids() -> None:
    ids = new_product_ids(500)
    assert len(set(ids)) == 500
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)


awkward_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=30
).filter(lambda value: not value.isspace())


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=awkward_text, description=awkward_text, size=awkward_text)
def test_any_text_round_trips_through_the_import(
    engine: Engine, settings: Settings, name: str, description: str, size: str
) -> None:
    store_id = add_store(engine)
    content = csv_text(
        [*HEADER, "description", "template:shoes:size"],
        [name, "s-1", "physical", description, size],
    )
    run_import(engine, settings, store_id, content, chunk_size=3)
    product = catalog(engine, store_id)["s-1"]
    assert (product.name, product.description) == (name, description)
    assert product.templates == {"shoes": {"size": size}}


def make_job(store_id: str, file_id: str | None, **job_input: Any) -> Job:
    now = datetime.now(UTC)
    return Job(
        seq=1,
        id=str(uuid.uuid4()),
        store_id=store_id,
        type="product-import",
        status=JobStatus.STARTED,
        created_at=now,
        updated_at=now,
        started_at=now,
        completed_at=None,
        request_id=None,
        input=dict(job_input),
        file_id=file_id,
        meta={},
        progress_processed=None,
        progress_total=None,
        worker_id="w",
        attempts=1,
    )


def run_job(
    engine: Engine,
    settings: Settings,
    store_id: str,
    content: bytes | None,
    *,
    file_store_id: str | None = None,
    reports: list[tuple[int, int | None]] | None = None,
    **job_input: Any,
) -> dict[str, Any]:
    """Run the job runner as the queue would, on a file uploaded to `file_store_id`."""
    progress = reports if reports is not None else []
    with write_transaction(engine) as connection:
        file_id = None
        if content is not None:
            file_id = write_blob(
                connection,
                store_id=file_store_id or store_id,
                name="products.csv",
                content_type="text/csv",
                chunks=[content],
            ).id
        context = JobContext(
            job=make_job(store_id, file_id, **job_input),
            settings=settings,
            report_progress=lambda processed, total: progress.append((processed, total)),
        )
        return run_product_import(context, connection)


def test_the_job_imports_its_uploaded_file(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    meta = run_job(engine, settings, store_id, example_file(), rows=6)
    assert meta["rows"] == {"created": 5, "updated": 0}
    assert set(meta) == {"rows", "_result_file"}  # no rejected rows: no file of them
    assert len(catalog(engine, store_id)) == 5


def test_the_job_honours_dry_run(engine: Engine, settings: Settings, store_id: str) -> None:
    meta = run_job(engine, settings, store_id, example_file(), dry_run=True)
    assert meta["rows"] == {"created": 5, "updated": 0}
    assert catalog(engine, store_id) == {}


def test_the_job_fails_with_every_row_error(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(HEADER, ["", "s-1", "physical"], ["B", "s-2", "x"]).encode()
    with pytest.raises(JobFailed) as raised:
        run_job(engine, settings, store_id, content)
    assert problems(raised.value.errors) == [
        (2, "name", "required"),
        (3, "commodity_type", "invalid_value"),
    ]


def test_the_job_fails_clearly_without_its_file(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    with pytest.raises(JobFailed) as raised:
        run_job(engine, settings, store_id, None)
    assert [error.code for error in raised.value.errors] == ["file_missing"]
    assert "upload it again" in raised.value.errors[0].message


@pytest.mark.parametrize(("flag", "writes"), [("false", True), ("true", False), (False, True)])
def test_a_dry_run_flag_given_as_text_is_read_as_meant(
    engine: Engine, settings: Settings, store_id: str, flag: object, writes: bool
) -> None:
    run_job(engine, settings, store_id, example_file(), dry_run=flag)
    assert len(catalog(engine, store_id)) == (5 if writes else 0)


def test_the_job_reports_progress_against_the_counted_rows(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    content = csv_text(HEADER, *([f"P{n}", f"s-{n}", "physical"] for n in range(1500))).encode()
    reports: list[tuple[int, int | None]] = []
    run_job(engine, settings, store_id, content, reports=reports, rows=1501)
    assert reports == [(1000, 1500), (1500, 1500), (1500, 1500)]


def test_the_job_never_reads_another_stores_file(
    engine: Engine, settings: Settings, store_id: str
) -> None:
    other_store = add_store(engine)
    with pytest.raises(JobFailed) as raised:
        run_job(engine, settings, store_id, example_file(), file_store_id=other_store)
    assert [error.code for error in raised.value.errors] == ["file_missing"]
    assert catalog(engine, store_id) == {}


def test_a_collision_the_checks_could_not_see_fails_cleanly(
    engine: Engine, settings: Settings, store_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import(engine, settings, store_id, example_file())
    # As if another writer took the sku between the checks and the writes.
    blind = lambda connection, store_id, wanted: {column: {} for column in wanted}  # noqa: E731
    monkeypatch.setattr(csv_import, "find_product_ids_by_values", blind)
    monkeypatch.setattr(csv_import, "find_products_matching", lambda *_: [])
    content = csv_text(HEADER, ["Late", "tablet-sku-0", "physical"])
    errors = rejected(engine, settings, store_id, content)
    assert [error.code for error in errors] == ["conflict"]
    assert len(catalog(engine, store_id)) == 5


@pytest.mark.parametrize("in_one_query", [True, False], ids=["one look-up", "look-ups in steps"])
def test_an_import_finds_the_products_it_names_and_the_values_they_hold(
    engine: Engine,
    settings: Settings,
    store_id: str,
    monkeypatch: pytest.MonkeyPatch,
    in_one_query: bool,
) -> None:
    run_import(engine, settings, store_id, example_file())
    if not in_one_query:
        monkeypatch.setattr(csv_import, "ONE_LOOKUP_ROWS", 1)  # as for a bigger file
    content = csv_text(
        ["external_ref", "name", "sku", "slug", "commodity_type"],
        # Found by its external_ref: an update keeping its sku and slug.
        ["tablet-ext-0", "Renamed", "tablet-sku-0", "tablet-0", "physical"],
        # A new product asking for the sku product 1 holds.
        ["new-ext", "New", "tablet-sku-1", "new-slug", "physical"],
    )
    with statements_sent(engine, monkeypatch) as sent:
        errors = rejected(engine, settings, store_id, content)
    reads = [text for text in sent if re.match(r"\s*SELECT\b.*\bFROM products\b", text, re.DOTALL)]
    holder = catalog(engine, store_id)["tablet-sku-1"].id
    assert [(e.row, e.field, e.code, e.message) for e in errors] == [
        (3, "sku", "already_exists", f"sku 'tablet-sku-1' is already used by product {holder}")
    ]
    if in_one_query:
        assert len(reads) == 1, reads
    else:
        assert len(reads) > 1, "a bigger file is looked up in steps"
