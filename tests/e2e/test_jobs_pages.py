"""The jobs pages in a real browser (Chromium through Playwright), on SQLite and PostgreSQL.

A person signs in with the keyboard, sees a pending job wait for a worker and cancels it,
uploads an import and watches it reach `success` without reloading, opens a failed import's
errors, and downloads an export. Each page is saved as a screenshot under build/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.acceptance.conftest import Service, start_service
from tests.acceptance.service import CLIENT_ID, CLIENT_SECRET, ROOT, running
from tests.variation_matrices import variations_for

SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("PXM_CHROMIUM", "/usr/bin/chromium")
LIVE_TIMEOUT_MS = 30_000
GOOD_CSV = "".join(
    ["external_ref,name,sku,commodity_type,status\n"]
    + [f"boot-{n},Hiking boot {n},BOOT-{n},physical,live\n" for n in range(1, 301)]
)
BAD_CSV = "name,sku,commodity_type\nBroken,B-1,vegetable\nNameless,,physical\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Root in a container has no user namespace for Chromium's sandbox.
        arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=arguments)
        yield chromium
        chromium.close()


@pytest.fixture
def api_only(database_url: str, tmp_path: Path) -> Iterator[Service]:
    """The API without a worker: jobs stay pending until the test starts one."""
    yield from start_service(database_url, tmp_path, "--no-worker")


def shoot(page: Page, database: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{database}-{name}.png"), full_page=True)


def database_of(service: Service) -> str:
    return "postgresql" if service.database_url.startswith("postgresql") else "sqlite"


def sign_in_with_the_keyboard(page: Page, service: Service, database: str) -> None:
    page.goto(service.base_url + "/")
    page.get_by_role("link", name="The jobs page").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, database, "sign-in")
    # The client id field has the focus; Tab moves to the secret, Enter sends the form.
    page.keyboard.type(CLIENT_ID)
    page.keyboard.press("Tab")
    page.keyboard.type(CLIENT_SECRET)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()


def upload(page: Page, service: Service, name: str, content: str, dry_run: bool = False) -> None:
    page.get_by_role("link", name="Start a job").first.click()
    path = service.directory / name
    path.write_text(content)
    page.get_by_label("CSV file", exact=True).set_input_files(str(path))
    if dry_run:
        page.get_by_label("Dry run").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#job")).to_be_visible()


def job_status(page: Page) -> object:
    return page.locator("#job .status")


def test_a_person_watches_steers_and_downloads_jobs(
    browser: Browser, api_only: Service, tmp_path: Path
) -> None:
    service = api_only
    database = database_of(service)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in_with_the_keyboard(page, service, database)
    shoot(page, database, "jobs-empty")

    # No worker runs: the import waits first in line, and is cancelled.
    upload(page, service, "waiting.csv", GOOD_CSV)
    expect(job_status(page)).to_have_text("pending")
    expect(page.locator("#job")).to_contain_text("1st in line")
    shoot(page, database, "job-pending")
    page.get_by_role("button", name="Cancel this job").click()
    expect(job_status(page)).to_have_text("cancelled")
    shoot(page, database, "job-cancelled")

    worker_environment = service.environment(PXM_WORKER_POLL_SECONDS="0.2")
    with running(["worker"], worker_environment, tmp_path):
        # The page follows the job by itself: it was not reloaded when it shows success.
        upload(page, service, "boots.csv", GOOD_CSV)
        page.evaluate("window.stayedOnThisPage = true")
        expect(job_status(page)).to_have_text("success", timeout=LIVE_TIMEOUT_MS)
        assert page.evaluate("window.stayedOnThisPage === true")
        expect(page.locator("#job")).to_contain_text("300 created, 0 updated")
        shoot(page, database, "job-success")

        upload(page, service, "broken.csv", BAD_CSV)
        expect(job_status(page)).to_have_text("failed", timeout=LIVE_TIMEOUT_MS)
        errors = page.locator("table.errors")
        expect(errors).to_contain_text("commodity_type")
        expect(errors).to_contain_text("vegetable")
        expect(errors).to_contain_text("invalid_value")
        expect(page.get_by_role("link", name="Download the rejected rows")).to_be_visible()
        shoot(page, database, "job-failed")

        page.get_by_role("link", name="Start a job").first.click()
        page.get_by_label("Filter", exact=True).fill("like(sku,BOOT-1*)")
        shoot(page, database, "start")
        page.get_by_role("button", name="Export").click()
        expect(job_status(page)).to_have_text("success", timeout=LIVE_TIMEOUT_MS)
        with page.expect_download() as downloading:
            page.get_by_role("link", name="part_1.csv").click()
        exported = Path(downloading.value.path()).read_text()
        assert "BOOT-1," in exported and "BOOT-100," in exported and "BOOT-2," not in exported
        shoot(page, database, "job-export")

        # A base product's children, built from the page once it has variations.
        shirt = {"name": "Shirt", "sku": "SHIRT", "commodity_type": "physical"}
        created = service.client.http.post(
            "/pcm/products", json={"data": {"type": "product", "attributes": shirt}}
        ).json()["data"]
        sizes = {size: {"sku_append": f"-{size}", "slug_append": f"-{size}"} for size in "SML"}
        variations_for(service.client.http, created["id"], {"Size": sizes})
        page.get_by_role("link", name="Start a job").first.click()
        page.get_by_label("Base product", exact=True).select_option(created["id"])
        page.get_by_role("button", name="Build").click()
        expect(job_status(page)).to_have_text("success", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator("#job")).to_contain_text("3 created, 0 updated")
        shoot(page, database, "job-build")

        page.get_by_role("link", name="Jobs", exact=True).click()
        table = page.locator("table.jobs")
        expect(table).to_contain_text("product-export")
        expect(table.locator(".status-cancelled")).to_have_count(1)
        expect(table.locator(".status-failed")).to_have_count(1)
        shoot(page, database, "jobs")
        page.get_by_label("Status", exact=True).select_option("failed")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("table.jobs tbody tr")).to_have_count(1)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(context.cookies())
    small = phone.new_page()
    small.goto(service.base_url + "/admin/")
    expect(small.locator("table.jobs")).to_contain_text("product-import")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the list is {width}px wide on a 390px phone screen"
    shoot(small, database, "jobs-phone")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(service.base_url + "/admin/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    phone.close()
    context.close()
