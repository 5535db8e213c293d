"""The client commands against a live service, as a person or a script runs them."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.conftest import Service
from tests.pricebook_files import book, gzipped, lines_file, price
from tests.variation_matrices import variations_for

GOOD_CSV = "name,sku,commodity_type\nTrail shoe,SHOE-1,physical\nRoad shoe,SHOE-2,physical\n"
BAD_CSV = "name,sku,commodity_type\nBroken,B-1,vegetable\n"


@pytest.fixture
def service(shared_service: Service) -> Service:
    """A store of the test's own, in a service that other tests share."""
    return shared_service


def client_environment(service: Service, **extra: str) -> dict[str, str]:
    """The keys in the variables, and a config directory of the test's own for profiles."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PXM_")}
    return {
        **environment,
        "PXM_API_URL": service.base_url,
        "PXM_CLIENT_ID": service.client_id,
        "PXM_CLIENT_SECRET": service.client_secret,
        "XDG_CONFIG_HOME": str(service.directory / "config"),
        **extra,
    }


def pxm_jobs(
    service: Service, *arguments: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pxm_jobs", *arguments],
        env=environment or client_environment(service),
        cwd=service.directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(service: Service, name: str, text: str) -> str:
    path = service.directory / name
    path.write_text(text)
    return str(path)


def test_an_import_waited_for_succeeds_and_the_list_shows_it(service: Service) -> None:
    done = pxm_jobs(service, "import", write(service, "good.csv", GOOD_CSV), "--wait", "--json")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)["data"]
    assert job["attributes"]["status"] == "success"
    assert job["meta"]["rows"] == {"created": 2, "updated": 0}
    assert "product-import: success" in done.stderr and "2/2" in done.stderr

    listed = pxm_jobs(service, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert job["id"] in listed.stdout and "2 created, 0 updated" in listed.stdout
    shown = json.loads(pxm_jobs(service, "jobs", "show", job["id"], "--json").stdout)
    assert shown["data"]["id"] == job["id"]


def test_a_failed_import_exits_1_and_prints_its_first_errors(service: Service) -> None:
    failed = pxm_jobs(service, "import", write(service, "bad.csv", BAD_CSV), "--wait")
    assert failed.returncode == 1
    for said in ("failed", "commodity_type", "vegetable", "invalid_value"):
        assert said in failed.stdout + failed.stderr
    only_failed = json.loads(
        pxm_jobs(service, "jobs", "list", "--status", "failed", "--json").stdout
    )
    (job,) = only_failed["data"]
    errors = json.loads(pxm_jobs(service, "jobs", "errors", job["id"], "--json").stdout)
    assert errors["meta"]["results"]["total"] == 1
    assert errors["data"][0]["meta"] == {
        "row": 2,
        "field": "commodity_type",
        "value": "vegetable",
        "code": "invalid_value",
    }
    table = pxm_jobs(service, "jobs", "errors", job["id"]).stdout
    assert ("commodity_type" in table and "1 errors" in table) or "1 error" in table


def test_a_dry_run_writes_nothing(service: Service) -> None:
    done = pxm_jobs(
        service, "import", write(service, "good.csv", GOOD_CSV), "--dry-run", "--wait", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"]["meta"]["dry_run"] is True
    assert service.client.http.get("/pcm/products").json()["meta"]["results"]["total"] == 0


def test_an_import_keeping_the_valid_rows_succeeds_and_says_what_it_left_out(
    service: Service,
) -> None:
    path = write(service, "mixed.csv", GOOD_CSV.replace("SHOE", "KEPT") + "Broken,B-2,vegetable\n")
    done = pxm_jobs(service, "import", path, "--error-policy", "reject_failed_rows", "--wait")
    assert done.returncode == 0, done.stderr
    assert "2 created, 0 updated, 1 rejected" in done.stdout
    assert "vegetable" in done.stdout + done.stderr and "invalid_value" in done.stdout + done.stderr
    wrong = pxm_jobs(service, "import", path, "--error-policy", "keep_going")
    assert wrong.returncode == 2 and "reject_failed_rows" in wrong.stderr


def test_a_price_book_file_is_imported_with_a_progress_bar(service: Service) -> None:
    objects = [book("outlet", "Outlet"), price("outlet", "boot-1", "BOOT-1", 4999)]
    path = service.directory / "prices.jsonl.gz"
    path.write_bytes(gzipped(lines_file(objects)))
    done = pxm_jobs(service, "import-prices", str(path), "--wait", "--json")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)["data"]
    assert job["attributes"]["type"] == "pricebook-import"
    assert job["meta"]["rows"]["prices"] == {"created": 1, "updated": 0}
    assert "pricebook-import: success" in done.stderr and "2/2" in done.stderr
    listed = pxm_jobs(service, "jobs", "list", "--type", "pricebook-import").stdout
    assert job["id"] in listed and "price books: 1 created, 0 updated" in listed


def test_a_price_book_file_with_a_wrong_object_exits_1_and_says_which(service: Service) -> None:
    objects = [book("outlet", "Outlet"), price("outlet", "boot-1", None, 4999)]
    path = write(service, "prices.jsonl", lines_file(objects).decode())
    failed = pxm_jobs(service, "import-prices", path, "--dry-run", "--wait")
    assert failed.returncode == 1
    said = failed.stdout + failed.stderr
    assert "failed" in said and "missing sku for price" in said
    assert re.search(r"│\s*2\s*│\s*sku\s*│", said), said  # the object's ordinal, its field
    errors = json.loads(pxm_jobs(service, "jobs", "list", "--json").stdout)["data"]
    assert errors[0]["meta"]["dry_run"] is True
    empty = pxm_jobs(service, "import-prices", write(service, "empty.jsonl", ""))
    assert empty.returncode == 2 and "the file is empty" in empty.stderr


def test_an_export_downloads_its_files(service: Service) -> None:
    assert (
        pxm_jobs(service, "import", write(service, "good.csv", GOOD_CSV), "--wait").returncode == 0
    )
    target = service.directory / "exported"
    done = pxm_jobs(
        service,
        "export",
        "--filter",
        "eq(sku,SHOE-1)",
        "--columns",
        "sku,name",
        "--download",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    content = (target / "part_1.csv").read_text()
    assert "SHOE-1" in content and "SHOE-2" not in content
    refused = pxm_jobs(service, "export", "--filter", "eq(sku")
    assert refused.returncode == 2 and "400" in refused.stderr


def test_a_hierarchy_is_duplicated_with_its_products(service: Service) -> None:
    created = service.client.http.post(
        "/pcm/hierarchies",
        json={"data": {"type": "hierarchy", "attributes": {"name": "Footwear", "slug": "shoes"}}},
    ).json()["data"]
    done = pxm_jobs(
        service,
        "duplicate",
        created["id"],
        "--name",
        "Footwear (copy)",
        "--include-products",
        "--wait",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    copy_id = json.loads(done.stdout)["data"]["meta"]["hierarchy_id"]
    copy = service.client.http.get(f"/pcm/hierarchies/{copy_id}").json()["data"]
    assert copy["attributes"]["name"] == "Footwear (copy)"
    unknown = pxm_jobs(service, "duplicate", "00000000-0000-4000-8000-000000000000")
    assert unknown.returncode == 2 and "404" in unknown.stderr


def test_a_base_product_builds_its_children(service: Service) -> None:
    document = {
        "data": {
            "type": "product",
            "attributes": {"name": "Shirt", "sku": "SHIRT", "commodity_type": "physical"},
        }
    }
    shirt = service.client.http.post("/pcm/products", json=document).json()["data"]
    sizes = {size: {"sku_append": f"-{size}", "slug_append": f"-{size}"} for size in "SML"}
    variations_for(service.client.http, shirt["id"], {"Size": sizes})
    done = pxm_jobs(service, "build", shirt["id"], "--wait")
    assert done.returncode == 0, done.stderr
    assert "children: 3 created, 0 updated, 0 deleted" in done.stdout
    again = pxm_jobs(service, "build", shirt["id"], "--wait", "--json")
    assert json.loads(again.stdout)["data"]["meta"]["children"]["unchanged"] == 3
    listed = service.client.http.get(f"/pcm/products/{shirt['id']}/children").json()
    assert sorted(child["attributes"]["sku"] for child in listed["data"]) == [
        "SHIRT-L",
        "SHIRT-M",
        "SHIRT-S",
    ]
    unknown = pxm_jobs(service, "build", "00000000-0000-4000-8000-000000000000")
    assert unknown.returncode == 2 and "404" in unknown.stderr


def test_a_pending_job_is_cancelled_retried_and_deleted(api_only_service: Service) -> None:
    service = api_only_service
    queued = pxm_jobs(service, "import", write(service, "good.csv", GOOD_CSV), "--json")
    job = json.loads(queued.stdout)["data"]
    assert job["attributes"]["status"] == "pending" and job["meta"]["queue_position"] == 1

    cancelled = pxm_jobs(service, "jobs", "cancel", job["id"], "--json")
    assert json.loads(cancelled.stdout)["data"]["attributes"]["status"] == "cancelled"
    retried = json.loads(pxm_jobs(service, "jobs", "retry", job["id"], "--json").stdout)["data"]
    assert retried["meta"]["retried_from"] == job["id"]
    pending = pxm_jobs(service, "jobs", "list", "--status", "pending")
    assert retried["id"] in pending.stdout and job["id"] not in pending.stdout

    too_soon = pxm_jobs(service, "jobs", "delete", retried["id"])
    assert too_soon.returncode == 2 and "cancel it first" in too_soon.stderr
    assert pxm_jobs(service, "jobs", "delete", job["id"]).returncode == 0
    assert pxm_jobs(service, "jobs", "show", job["id"]).returncode == 2


def test_jobs_wait_follows_a_job_to_its_end(service: Service) -> None:
    queued = pxm_jobs(service, "import", write(service, "bad.csv", BAD_CSV), "--json")
    job_id = json.loads(queued.stdout)["data"]["id"]
    waited = pxm_jobs(service, "jobs", "wait", job_id)
    assert waited.returncode == 1 and "failed" in waited.stdout


def test_login_saves_a_profile_the_other_commands_use(service: Service) -> None:
    environment = client_environment(service)
    saved = pxm_jobs(service, "login", "--profile", "shop", environment=environment)
    assert saved.returncode == 0, saved.stderr
    path = service.directory / "config" / "pxm-jobs" / "profiles.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bare = {
        key: value
        for key, value in environment.items()
        if key not in ("PXM_API_URL", "PXM_CLIENT_ID", "PXM_CLIENT_SECRET")
    }
    assert pxm_jobs(service, "jobs", "list", environment=bare).returncode == 2
    listed = pxm_jobs(service, "jobs", "list", "--profile", "shop", environment=bare)
    assert listed.returncode == 0, listed.stderr
    assert (
        pxm_jobs(service, "jobs", "list", environment={**bare, "PXM_PROFILE": "shop"}).returncode
        == 0
    )


def test_wrong_keys_and_no_service_are_said_in_words(service: Service, tmp_path: Path) -> None:
    wrong = pxm_jobs(
        service, "jobs", "list", environment=client_environment(service, PXM_CLIENT_SECRET="no")
    )
    assert wrong.returncode == 2 and "do not match an active API key" in wrong.stderr
    nowhere = pxm_jobs(
        service,
        "jobs",
        "list",
        environment=client_environment(service, PXM_API_URL="http://127.0.0.1:9"),
    )
    assert nowhere.returncode == 3 and "cannot reach http://127.0.0.1:9" in nowhere.stderr
