"""The jobs pages over HTTP, without a browser (`make e2e` drives a real one), on both databases.

They are a client of the public API: whatever they show or do, the API shows or does for the
same token, and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.lifecycle import record_progress
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.tenancy.stores import StoreCredentials, create_store
from tests.admin_pages import attribute, hidden_value, post_form, problems_on, sign_in
from tests.job_api import run_jobs
from tests.pricebook_files import book, gzipped, lines_file, price
from tests.variation_matrices import variations_for

GOOD_CSV = b"name,sku,commodity_type\nTrail shoe,SHOE-1,physical\nRoad shoe,SHOE-2,physical\n"
BAD_CSV = b"name,sku,commodity_type\nBroken,B-1,vegetable\n"


@dataclass
class Browser:
    http: TestClient
    keys: StoreCredentials
    api: TestClient  # the public API with the same store's token, to compare with

    def jobs(self) -> list[dict[str, object]]:
        data: list[dict[str, object]] = self.api.get("/pcm/jobs").json()["data"]
        return data


def new_store(engine: Engine, name: str = "shop") -> StoreCredentials:
    with write_transaction(engine) as connection:
        return create_store(connection, name)


@pytest.fixture
def anonymous(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


@pytest.fixture
def browser(anonymous: TestClient, engine: Engine) -> Iterator[Browser]:
    keys = new_store(engine)
    assert sign_in(anonymous, keys.client_id, keys.client_secret).status_code == 303
    token = anonymous.post(
        "/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": keys.client_id,
            "client_secret": keys.client_secret,
        },
    ).json()["access_token"]
    api = TestClient(anonymous.app, headers={"Authorization": f"Bearer {token}"})
    yield Browser(anonymous, keys, api)


def start_import(browser: Browser, content: bytes, **fields: str) -> str:
    """The job page a person lands on after sending the import form."""
    answer = post_form(
        browser.http,
        "/admin/start",
        "/admin/start/import",
        fields,
        files={"file": ("products.csv", content, "text/csv")},
    )
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert location.startswith("/admin/jobs/")
    return location


def test_the_root_links_to_the_pages_and_they_ask_to_sign_in(anonymous: TestClient) -> None:
    assert 'href="/admin/"' in anonymous.get("/").text
    for path in ("/admin/", "/admin/start", "/admin/jobs/00000000-0000-4000-8000-000000000000"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/sign-in"
    assert anonymous.get("/admin/jobs/live").status_code == 401


def test_signing_in_sets_a_cookie_scripts_and_other_sites_never_see(
    anonymous: TestClient, engine: Engine
) -> None:
    keys = new_store(engine)
    answer = sign_in(anonymous, keys.client_id, keys.client_secret)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/"
    cookie = next(
        value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith("pxm_admin_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    page = anonymous.get("/admin/")
    assert page.status_code == 200 and "<h1>Jobs</h1>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_a_wrong_secret_or_a_client_id_alone_signs_no_one_in(
    anonymous: TestClient, engine: Engine
) -> None:
    keys = new_store(engine)
    wrong = sign_in(anonymous, keys.client_id, "not-the-secret")
    assert wrong.status_code == 401
    assert "do not match an active API key" in problems_on(wrong.text)[0]
    alone = sign_in(anonymous, keys.client_id, "")
    assert alone.status_code == 422 and problems_on(alone.text)
    assert "pxm_admin_session" not in anonymous.cookies
    assert anonymous.get("/admin/", follow_redirects=False).status_code == 303


def test_a_storefront_token_in_the_cookie_is_sent_back_to_sign_in(
    anonymous: TestClient, engine: Engine
) -> None:
    keys = new_store(engine)
    storefront = anonymous.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": keys.client_id}
    ).json()["access_token"]
    anonymous.cookies.set("pxm_admin_session", storefront, path="/admin")
    answer = anonymous.get("/admin/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/sign-in")
    page = anonymous.get(answer.headers["location"])
    assert "storefront (implicit) tokens cannot use admin endpoints" in problems_on(page.text)[0]
    made_up = anonymous.get("/admin/sign-in", params={"reason": "Call 555-0100 now"})
    assert "555" not in made_up.text, "a link cannot make the page say anything"
    assert "Max-Age=0" in answer.headers["set-cookie"], "the cookie is cleared"


def test_the_sign_in_form_needs_its_own_csrf_token(anonymous: TestClient, engine: Engine) -> None:
    keys = new_store(engine)
    answer = anonymous.post(
        "/admin/sign-in",
        data={"client_id": keys.client_id, "client_secret": keys.client_secret},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "expired" in problems_on(answer.text)[0]
    assert "pxm_admin_session" not in answer.headers.get("set-cookie", "")


def test_a_form_without_the_sessions_csrf_token_changes_nothing(browser: Browser) -> None:
    for token in ("", "forged"):
        answer = browser.http.post(
            "/admin/start/export", data={"csrf_token": token}, follow_redirects=False
        )
        assert answer.status_code == 403
    assert browser.jobs() == []
    assert browser.http.post("/admin/sign-out", follow_redirects=False).status_code == 403


def test_an_upload_becomes_a_job_the_list_and_its_page_show_until_it_succeeds(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    job_page = start_import(browser, GOOD_CSV)
    job_id = job_page.rsplit("/", 1)[1]
    assert [job["id"] for job in browser.jobs()] == [job_id]
    pending = browser.http.get(job_page).text
    assert "status-pending" in pending and "1st in line" in pending and "Cancel this job" in pending
    listed = browser.http.get("/admin/").text
    assert f'href="/admin/jobs/{job_id}"' in listed and "1st in line" in listed

    run_jobs(engine, settings)
    done = browser.http.get(job_page).text
    assert "status-success" in done and "2 created, 0 updated" in done
    assert "Delete" in done and "Cancel this job" not in done and "data-follow=" not in done


def test_a_dry_run_says_so(browser: Browser) -> None:
    job_page = start_import(browser, GOOD_CSV, dry_run="true")
    assert browser.jobs()[0]["meta"]["dry_run"] is True  # type: ignore[index]
    assert "Dry run" in browser.http.get(job_page).text


def test_a_failed_import_shows_each_error_and_its_rejected_rows(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    job_page = start_import(browser, BAD_CSV)
    run_jobs(engine, settings)
    page = browser.http.get(job_page).text
    assert "status-failed" in page and "Errors (1)" in page
    for shown in (
        'data-label="Row">2<',
        ">commodity_type<",
        "<code>vegetable</code>",
        ">invalid_value<",
    ):
        assert shown in page
    rejected = attribute(page.split("rejected rows", 1)[0].rsplit("<a ", 1)[1], "href")
    download = browser.http.get(rejected)
    assert download.status_code == 200 and b"vegetable" in download.content
    assert "Retry" in page


def test_an_import_keeping_the_valid_rows_offers_both_files(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    job_page = start_import(
        browser, GOOD_CSV + b"Broken,B-1,vegetable\n", error_policy="reject_failed_rows"
    )
    assert browser.jobs()[0]["meta"]["error_policy"] == "reject_failed_rows"  # type: ignore[index]
    run_jobs(engine, settings)
    page = browser.http.get(job_page).text
    assert "status-success" in page and "2 created, 0 updated, 1 rejected" in page
    assert "Errors (1)" in page and "left out, the others imported" in page
    results = attribute(page.split("what became of each row", 1)[0].rsplit("<a ", 1)[1], "href")
    download = browser.http.get(results)
    assert download.status_code == 200
    assert download.content.splitlines()[0] == b"row,id,external_ref,sku,action"
    assert len(download.content.splitlines()) == 3
    rejected = attribute(page.split("rejected rows", 1)[0].rsplit("<a ", 1)[1], "href")
    assert b"vegetable" in browser.http.get(rejected).content


def test_an_upload_the_api_refuses_says_why_next_to_the_form(browser: Browser) -> None:
    answer = post_form(
        browser.http,
        "/admin/start",
        "/admin/start/import",
        files={"file": ("products.csv", b"name,sku\nA,A-1\n", "text/csv")},
    )
    assert answer.status_code == 422
    assert problems_on(answer.text) == ["missing required csv header: commodity_type"]
    assert browser.jobs() == []
    no_file = post_form(browser.http, "/admin/start", "/admin/start/import")
    assert problems_on(no_file.text) == ["Choose a CSV file to upload."]


def test_a_price_book_file_is_imported_from_its_form_and_listed_by_type(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    objects = [book("outlet", "Outlet"), price("outlet", "boot-1", "BOOT-1", 4999)]
    answer = post_form(
        browser.http,
        "/admin/start",
        "/admin/start/import-prices",
        files={"file": ("prices.jsonl.gz", gzipped(lines_file(objects)), "application/gzip")},
    )
    assert answer.status_code == 303, answer.text
    job_page = answer.headers["location"]
    assert browser.jobs()[0]["attributes"]["type"] == "pricebook-import"  # type: ignore[index]
    run_jobs(engine, settings)
    done = browser.http.get(job_page).text
    assert "status-success" in done
    assert "price books: 1 created, 0 updated; prices: 1 created, 0 updated" in done
    listed = browser.http.get("/admin/", params={"type": "pricebook-import"}).text
    assert '<option value="pricebook-import" selected>' in listed
    assert listed.count('data-label="Job"') == 1


def test_a_price_book_file_the_api_refuses_says_why_next_to_its_form(browser: Browser) -> None:
    empty = post_form(
        browser.http,
        "/admin/start",
        "/admin/start/import-prices",
        {"dry_run": "true"},
        files={"file": ("prices.jsonl", b"", "application/jsonl")},
    )
    assert empty.status_code == 422
    assert problems_on(empty.text) == [
        "the file is empty; upload a JSONL file of price book objects"
    ]
    # The problems are drawn in the price book form's card, which keeps the dry run ticked.
    card = empty.text.split('id="import-prices"', 1)[1]
    assert '<div class="problems" role="alert">' in card and " checked>" in card
    no_file = post_form(browser.http, "/admin/start", "/admin/start/import-prices")
    assert problems_on(no_file.text) == [
        "Choose a price book file (JSONL, or a gzip of one) to upload."
    ]
    assert browser.jobs() == []


def test_cancel_retry_and_delete_do_what_the_api_does(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    job_page = start_import(browser, GOOD_CSV)
    job_id = job_page.rsplit("/", 1)[1]
    cancelled = post_form(browser.http, job_page, f"{job_page}/cancel")
    assert cancelled.status_code == 303
    assert browser.api.get(f"/pcm/jobs/{job_id}").json()["data"]["attributes"]["status"] == (
        "cancelled"
    )
    retried = post_form(browser.http, job_page, f"{job_page}/retry")
    assert retried.status_code == 303 and retried.headers["location"] != job_page
    retry_id = retried.headers["location"].rsplit("/", 1)[1]
    assert browser.api.get(f"/pcm/jobs/{retry_id}").json()["data"]["meta"]["retried_from"] == job_id

    run_jobs(engine, settings)
    too_late = post_form(browser.http, f"/admin/jobs/{retry_id}", f"/admin/jobs/{retry_id}/cancel")
    assert too_late.status_code == 422
    assert problems_on(too_late.text) == ["only pending jobs can be cancelled; this job is success"]

    deleted = post_form(browser.http, job_page, f"{job_page}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/admin/?notice=deleted"
    assert browser.api.get(f"/pcm/jobs/{job_id}").status_code == 404
    assert "The job was deleted." in browser.http.get(deleted.headers["location"]).text


def test_a_form_sent_twice_starts_one_job(browser: Browser) -> None:
    page = browser.http.get("/admin/start").text
    fields = {
        "csrf_token": hidden_value(page, "csrf_token"),
        "idempotency_key": hidden_value(page, "idempotency_key"),
    }
    first = browser.http.post("/admin/start/export", data=fields, follow_redirects=False)
    second = browser.http.post("/admin/start/export", data=fields, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    assert len(browser.jobs()) == 1


def test_an_export_with_a_filter_lists_its_files_once_done(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    start_import(browser, GOOD_CSV)
    run_jobs(engine, settings)
    answer = post_form(
        browser.http, "/admin/start", "/admin/start/export", {"filter": "eq(sku,SHOE-1)"}
    )
    assert answer.status_code == 303
    run_jobs(engine, settings)
    page = browser.http.get(answer.headers["location"]).text
    assert "eq(sku,SHOE-1)" in page and ">part_1.csv</a>" in page
    link = attribute(page.split(">part_1.csv</a>", 1)[0].rsplit("<a ", 1)[1], "href")
    content = TestClient(browser.http.app).get(link).content  # the link needs no session
    assert b"SHOE-1" in content and b"SHOE-2" not in content

    refused = post_form(browser.http, "/admin/start", "/admin/start/export", {"filter": "eq(sku"})
    assert refused.status_code == 400 and problems_on(refused.text)
    assert 'value="eq(sku"' in refused.text, "the form keeps what was typed"


def test_a_hierarchy_is_picked_from_a_list_and_copied(browser: Browser) -> None:
    created = browser.api.post(
        "/pcm/hierarchies",
        json={"data": {"type": "hierarchy", "attributes": {"name": "Footwear", "slug": "shoes"}}},
    ).json()["data"]
    page = browser.http.get("/admin/start").text
    assert f'<option value="{created["id"]}"' in page and "Footwear (shoes)" in page
    answer = post_form(
        browser.http,
        "/admin/start",
        "/admin/start/duplicate",
        {"hierarchy_id": created["id"], "name": "Footwear (copy)", "include_products": "true"},
    )
    assert answer.status_code == 303
    (job,) = browser.jobs()
    assert job["attributes"]["type"] == "hierarchy-duplicate"  # type: ignore[index]
    assert job["meta"]["copied_from"] == created["id"]  # type: ignore[index]


def test_a_base_product_is_picked_and_its_children_built(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    document = {
        "data": {
            "type": "product",
            "attributes": {"name": "Shirt", "sku": "SHIRT", "commodity_type": "physical"},
        }
    }
    shirt = browser.api.post("/pcm/products", json=document).json()["data"]
    sizes = {size: {"sku_append": f"-{size}", "slug_append": f"-{size}"} for size in "SM"}
    variations_for(browser.api, shirt["id"], {"Size": sizes})
    page = browser.http.get("/admin/start").text
    assert f'<option value="{shirt["id"]}"' in page and "Shirt (SHIRT) · 1 variation" in page
    answer = post_form(
        browser.http, "/admin/start", "/admin/start/build", {"product_id": shirt["id"]}
    )
    assert answer.status_code == 303
    run_jobs(engine, settings)
    shown = browser.http.get(answer.headers["location"]).text
    assert "child-products" in shown and "status-success" in shown
    assert "2 created, 0 updated, 0 unchanged, 0 deleted" in shown
    children = browser.api.get(f"/pcm/products/{shirt['id']}/children").json()["data"]
    assert sorted(child["attributes"]["sku"] for child in children) == ["SHIRT-M", "SHIRT-S"]
    # Children are not offered as base products; a missing pick is said on the page.
    again = browser.http.get("/admin/start").text
    assert all(f'<option value="{child["id"]}"' not in again for child in children)
    refused = post_form(browser.http, "/admin/start", "/admin/start/build", {"product_id": ""})
    assert refused.status_code == 422 and "Pick the product" in refused.text


def test_a_live_region_answers_304_until_its_jobs_change(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    job_page = start_import(browser, GOOD_CSV)
    listed = browser.http.get("/admin/").text
    live, etag = attribute(listed, "data-follow"), attribute(listed, "data-etag")
    assert browser.http.get(live, headers={"If-None-Match": etag}).status_code == 304
    job_live = attribute(browser.http.get(job_page).text, "data-follow")
    job_etag = attribute(browser.http.get(job_page).text, "data-etag")
    assert browser.http.get(job_live, headers={"If-None-Match": job_etag}).status_code == 304

    run_jobs(engine, settings)
    changed = browser.http.get(live, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "status-success" in changed.text and "<html" not in changed.text
    region = browser.http.get(job_live, headers={"If-None-Match": job_etag})
    assert "status-success" in region.text and "data-follow-end" in region.text


def test_the_list_filters_by_status_and_type_and_pages(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    start_import(browser, BAD_CSV)
    run_jobs(engine, settings)
    for _ in range(21):
        post_form(browser.http, "/admin/start", "/admin/start/export")
    failed = browser.http.get("/admin/", params={"status": "failed"}).text
    assert failed.count("status-failed") == 1 and "status-pending" not in failed
    exports = browser.http.get("/admin/", params={"type": "product-export"}).text
    assert "Page 1 of 2" in exports and "product-import</a>" not in exports
    older = browser.http.get("/admin/", params={"type": "product-export", "page": "2"}).text
    assert older.count('data-label="Job"') == 1
    unknown = browser.http.get("/admin/", params={"status": "lost"})
    assert (
        unknown.status_code == 400
        and "status 'lost' does not exist" in problems_on(unknown.text)[0]
    )


def test_another_stores_job_is_not_found_on_the_pages(
    browser: Browser, anonymous: TestClient, engine: Engine
) -> None:
    job_page = start_import(browser, GOOD_CSV)
    other = new_store(engine, "other")
    with TestClient(anonymous.app) as stranger:
        sign_in(stranger, other.client_id, other.client_secret)
        assert stranger.get(job_page).status_code == 404
        assert post_form(stranger, "/admin/", f"{job_page}/cancel").status_code == 404
    assert browser.jobs()[0]["attributes"]["status"] == "pending"  # type: ignore[index]


def test_signing_out_clears_the_session(browser: Browser) -> None:
    answer = post_form(browser.http, "/admin/", "/admin/sign-out")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/sign-in"
    assert browser.http.get("/admin/", follow_redirects=False).status_code == 303


def test_a_running_job_shows_a_progress_bar_that_moves(
    browser: Browser, engine: Engine, settings: Settings
) -> None:
    job_page = start_import(browser, GOOD_CSV)
    worker = Worker(engine, settings, RUNNERS)
    job = worker.claim()
    assert job is not None
    with write_transaction(engine) as connection:
        record_progress(connection, job, (1, 2))
    listed = browser.http.get("/admin/").text
    assert 'value="1" max="2"' in listed and "1 / 2 rows" in listed
    shown = browser.http.get(job_page).text
    live, etag = attribute(shown, "data-follow"), attribute(shown, "data-etag")
    assert "status-started" in shown and 'value="1" max="2"' in shown

    with write_transaction(engine) as connection:
        record_progress(connection, job, (2, 2))
    moved = browser.http.get(live, headers={"If-None-Match": etag})
    assert moved.status_code == 200 and "2 / 2 rows" in moved.text
