"""Schemathesis drives a live `pxm-jobs serve` through every operation of its own /openapi.json.

Each documented operation gets generated requests, valid and invalid, as a store admin. Every
answer must be no server error, carry a documented status and content type, and match the
documented schema. Half the generated path ids are swapped for ids that exist, so the 200s are
checked as well as the 404s. It runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine
from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)
from tests.conftest import DATABASES
from tests.databases import copy_sqlite, empty_postgres

# Enough to cross every operation's branches in a second or so; `make stress` digs deeper
# (PXM_CONTRACT_EXAMPLES=100). A failing run prints the seed that reproduces it.
MAX_EXAMPLES = int(os.environ.get("PXM_CONTRACT_EXAMPLES", "10"))
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        # The coverage phase alone sends hundreds of boundary cases per operation; the
        # fuzzing phase reaches the same answers within the time this suite can give it.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
        },
    }
)
# A job that is waited on but never changes holds its request this long, not up to a minute.
LONGEST_WAIT_SECONDS = 0.1
BAD_ROW_CSV = b"name,sku,commodity_type\nBroken,B-1,vegetable\n"
PRICE_FILE = (
    b'{"data": {"type": "product-price", "pricebook_external_ref": "nowhere", '
    b'"attributes": {"sku": "BOOT-1", "currencies": {"USD": {"amount": 1}}}}}\n'
)


@dataclass(frozen=True)
class LiveService:
    base_url: str
    token: str
    # Path parameter name -> ids that exist in the store under test.
    ids: dict[str, list[str]]


def seed_store(client: Client) -> dict[str, list[str]]:
    """A product in a node of a hierarchy, a variation with an option and its modifier, and a
    job of each kind that has ended."""
    http = client.http

    def created(path: str, document: Any = None, **kwargs: Any) -> str:
        response = http.post(path, json=document, **kwargs)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    attributes = {"name": "Boot", "sku": "BOOT-1", "commodity_type": "physical"}
    product = created("/pcm/products", {"data": {"type": "product", "attributes": attributes}})
    hierarchy = created(
        "/pcm/hierarchies", {"data": {"type": "hierarchy", "attributes": {"name": "Shoes"}}}
    )
    node = created(
        f"/pcm/hierarchies/{hierarchy}/nodes",
        {"data": {"type": "node", "attributes": {"name": "Boots"}}},
    )
    created(
        f"/pcm/hierarchies/{hierarchy}/nodes/{node}/relationships/products",
        {"data": [{"type": "product", "id": product}]},
    )
    book = created(
        "/pcm/pricebooks", {"data": {"type": "pricebook", "attributes": {"name": "Retail"}}}
    )
    usd = {"USD": {"amount": 100, "includes_tax": False}}
    price = created(
        f"/pcm/pricebooks/{book}/prices",
        {"data": {"type": "product-price", "attributes": {"sku": "BOOT-1", "currencies": usd}}},
    )
    modifier = created(
        f"/pcm/pricebooks/{book}/modifiers",
        {
            "data": {
                "type": "price-modifier",
                "attributes": {"name": "large", "modifier_type": "price_equals", "currencies": usd},
            }
        },
    )
    variation = created(
        "/pcm/variations", {"data": {"type": "product-variation", "attributes": {"name": "Size"}}}
    )
    option = created(
        f"/pcm/variations/{variation}/options",
        {"data": {"type": "product-variation-option", "attributes": {"name": "Large"}}},
    )
    variation_modifier = created(
        f"/pcm/variations/{variation}/options/{option}/modifiers",
        {
            "data": {
                "type": "product-variation-modifier",
                "attributes": {"type": "sku_append", "value": "-L"},
            }
        },
    )
    jobs = [
        created("/pcm/products/export"),
        created("/pcm/products/import", files={"file": ("bad.csv", BAD_ROW_CSV)}),
        created(f"/pcm/hierarchies/{hierarchy}/duplicate_job"),
        created("/pcm/pricebooks/import", files={"file": ("prices.jsonl", PRICE_FILE)}),
    ]
    for job in jobs:
        client.wait_for_job(job)
    # On loopback (the service allows it here), so that whatever URL an enabled webhook ends
    # up with, its courier posts nowhere beyond this machine.
    webhook = {
        "type": "integration",
        "name": "Job events",
        "observes": ["pim-job.succeeded"],
        "configuration": {"url": "http://127.0.0.1:9/hooks", "secret_key": "s3cret"},
    }
    integration = created("/v2/integrations", {"data": webhook})
    return {
        "product_id": [product],
        "hierarchy_id": [hierarchy],
        "node_id": [node],
        "pricebook_id": [book],
        "price_id": [price],
        "modifier_id": [modifier],
        "variation_id": [variation],
        "option_id": [option],
        "variation_modifier_id": [variation_modifier],
        "job_id": jobs,
        "integration_id": [integration],
    }


@pytest.fixture(scope="module", params=DATABASES)
def live_service(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveService]:
    directory = tmp_path_factory.mktemp("contract")
    if request.param == "sqlite":
        database_url = copy_sqlite(sqlite_template, directory)
    else:
        database_url = request.getfixturevalue("postgres_url")
        engine = make_engine(Settings(database_url=database_url))
        empty_postgres(engine)
        engine.dispose()
    port = free_port()
    environment = bootstrapped_environment(
        database_url, port, PXM_WEBHOOK_ALLOW_PRIVATE_TARGETS="true"
    )
    base_url = f"http://127.0.0.1:{port}"
    with running(["serve"], environment, directory) as process:
        wait_until_serving(base_url, process)
        client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
        try:
            ids = seed_store(client)
            token = str(client.http.headers["Authorization"]).removeprefix("Bearer ")
            yield LiveService(base_url, token, ids)
        finally:
            client.close()


# Built from the app factory, so that pytest can make one test per operation while collecting;
# the first test proves the live service serves this very document.
DOCUMENT = create_app(Settings(database_url="sqlite://"), run_worker=False).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_the_live_service_serves_the_fuzzed_document(live_service: LiveService) -> None:
    with httpx.Client(base_url=live_service.base_url) as http:
        assert http.get("/openapi.json").json() == DOCUMENT


@schema.parametrize()
def test_every_answer_keeps_the_documented_contract(case: Case, live_service: LiveService) -> None:
    use_existing_ids(case, live_service.ids)
    keep_waits_short(case)
    case.call_and_validate(
        base_url=live_service.base_url,
        headers={"Authorization": f"Bearer {live_service.token}"},
    )


def use_existing_ids(case: Case, ids: dict[str, list[str]]) -> None:
    """Swap about half the generated path ids for ids of the store, so 200s are checked too.

    The choice depends only on the generated values, so a failing example replays the same way.
    DELETE keeps its generated ids: deleting the seeds would turn later 200s into 404s.
    """
    parameters = case.path_parameters
    if not parameters or case.method.upper() == "DELETE":
        return
    digest = zlib.crc32(repr(sorted(parameters.items())).encode())
    if digest % 2:
        case.path_parameters = {
            name: ids[name][digest % len(ids[name])] if name in ids else value
            for name, value in parameters.items()
        }


def keep_waits_short(case: Case) -> None:
    wait = (case.query or {}).get("wait")
    try:
        seconds = float(wait) if isinstance(wait, str | int | float) else None
    except ValueError:
        seconds = None
    if seconds is not None and LONGEST_WAIT_SECONDS < seconds <= 60:
        case.query = {**(case.query or {}), "wait": str(LONGEST_WAIT_SECONDS)}
