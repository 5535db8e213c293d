"""Stores with something of everything, driven through the HTTP API, for security tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import metadata
from pxm_jobs.tenancy.stores import create_store

TOKEN_PATH = "/oauth/access_token"
BAD_ROW_CSV = b"name,sku,commodity_type\nBroken,B-1,vegetable\n"


@dataclass
class Tenant:
    """A store, its keys and tokens, and one of each kind of thing it owns."""

    store_id: str
    client_id: str
    client_secret: str
    admin_token: str
    storefront_token: str
    # Path parameter name -> ids of the store's resources that parameter names.
    ids: dict[str, list[str]] = field(default_factory=dict)
    download_url: str = ""

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def storefront(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.storefront_token}"}

    def first_ids(self) -> dict[str, str]:
        return {name: found[0] for name, found in self.ids.items()}


@contextmanager
def service_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The API without a worker: jobs run only when `run_jobs` says so."""
    app = create_app(settings, engine=engine, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


def run_jobs(engine: Engine, settings: Settings) -> None:
    worker = Worker(engine, settings, RUNNERS)
    while (job := worker.claim()) is not None:
        worker.run(job)


def exchange(http: TestClient, grant_type: str, client_id: str, secret: str | None = None) -> Any:
    form = {"grant_type": grant_type, "client_id": client_id}
    if secret is not None:
        form["client_secret"] = secret
    return http.post(TOKEN_PATH, data=form)


def new_tenant(http: TestClient, engine: Engine, name: str) -> Tenant:
    """A store whose keys are exchanged for an admin and a storefront token."""
    with write_transaction(engine) as connection:
        credentials = create_store(connection, name)
    admin = exchange(http, "client_credentials", credentials.client_id, credentials.client_secret)
    storefront = exchange(http, "implicit", credentials.client_id)
    assert admin.status_code == storefront.status_code == 200, admin.text
    return Tenant(
        store_id=credentials.store_id,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        admin_token=admin.json()["access_token"],
        storefront_token=storefront.json()["access_token"],
    )


def seed_tenant(http: TestClient, engine: Engine, settings: Settings, tenant: Tenant) -> None:
    """A product in a node of a hierarchy, a variation with an option and its modifier, a
    finished export, a failed and a pending import, and a webhook told of the jobs' events (no
    courier runs: they stay undelivered)."""

    def created(path: str, document: Any = None, **kwargs: Any) -> dict[str, Any]:
        response = http.post(path, json=document, headers=tenant.admin, **kwargs)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    sku = f"SKU-{tenant.store_id[:8]}"
    attributes = {"name": "Boot", "sku": sku, "commodity_type": "physical", "external_ref": sku}
    product = created("/pcm/products", {"data": {"type": "product", "attributes": attributes}})
    hierarchy = created(
        "/pcm/hierarchies", {"data": {"type": "hierarchy", "attributes": {"name": "Shoes"}}}
    )
    nodes = f"/pcm/hierarchies/{hierarchy['id']}/nodes"
    node = created(nodes, {"data": {"type": "node", "attributes": {"name": "Boots"}}})
    created(
        f"{nodes}/{node['id']}/relationships/products",
        {"data": [{"type": "product", "id": product["id"]}]},
    )
    book = created(
        "/pcm/pricebooks",
        {"data": {"type": "pricebook", "attributes": {"name": "Retail", "external_ref": sku}}},
    )
    usd = {"USD": {"amount": 100, "includes_tax": False}}
    price = created(
        f"/pcm/pricebooks/{book['id']}/prices",
        {"data": {"type": "product-price", "attributes": {"sku": sku, "currencies": usd}}},
    )
    modifier = created(
        f"/pcm/pricebooks/{book['id']}/modifiers",
        {
            "data": {
                "type": "price-modifier",
                "attributes": {"name": "large", "modifier_type": "price_equals", "currencies": usd},
            }
        },
    )
    variation = created(
        "/pcm/variations",
        {"data": {"type": "product-variation", "attributes": {"name": "Size"}}},
    )
    option = created(
        f"/pcm/variations/{variation['id']}/options",
        {"data": {"type": "product-variation-option", "attributes": {"name": "Large"}}},
    )
    variation_modifier = created(
        f"/pcm/variations/{variation['id']}/options/{option['id']}/modifiers",
        {
            "data": {
                "type": "product-variation-modifier",
                "attributes": {"type": "sku_append", "value": "-L"},
            }
        },
    )
    integration = http.post(
        "/v2/integrations",
        json={
            "data": {
                "type": "integration",
                "name": "Job events",
                "observes": ["pim-job.started", "pim-job.succeeded"],
                "configuration": {"url": "https://93.184.215.14/hooks"},
            }
        },
        headers=tenant.admin,
    ).json()["data"]
    export = created("/pcm/products/export")
    failed = created("/pcm/products/import", files={"file": ("bad.csv", BAD_ROW_CSV)})
    run_jobs(engine, settings)
    pending = created("/pcm/products/import", files={"file": ("bad.csv", BAD_ROW_CSV)})
    shown = http.get(f"/pcm/jobs/{export['id']}", headers=tenant.admin).json()["data"]
    tenant.download_url = shown["meta"]["file_locations"][0]
    tenant.ids = {
        "product_id": [product["id"]],
        "hierarchy_id": [hierarchy["id"]],
        "node_id": [node["id"]],
        "pricebook_id": [book["id"]],
        "price_id": [price["id"]],
        "modifier_id": [modifier["id"]],
        "variation_id": [variation["id"]],
        "option_id": [option["id"]],
        "variation_modifier_id": [variation_modifier["id"]],
        "job_id": [pending["id"], failed["id"], export["id"]],
        "integration_id": [integration["id"]],
        "integration_job_id": [
            delivery["id"]
            for delivery in http.get(
                f"/v2/integrations/{integration['id']}/jobs", headers=tenant.admin
            ).json()["data"]
        ],
    }


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with its prefix, as clients call it
    route: APIRoute
    documented: bool  # in /openapi.json; aliases are not

    @property
    def needs_body(self) -> bool:
        field = self.route.body_field
        return field is not None and field.field_info.is_required()


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every endpoint the app serves, read from its routes, so that one added later is covered
    without anyone listing it."""
    found = [
        Endpoint(method, path, route, documented)
        for path, route, documented in _api_routes(app)
        for method in route.methods
    ]
    return sorted(found, key=lambda endpoint: (endpoint.path, endpoint.method))


# Where the admin endpoints are: the catalog and its jobs, and the Integrations API.
ADMIN_PREFIXES = ("/pcm/", "/v2/")


def admin_endpoints(app: FastAPI) -> list[Endpoint]:
    """Every admin endpoint, undocumented aliases included."""
    return [endpoint for endpoint in endpoints(app) if endpoint.path.startswith(ADMIN_PREFIXES)]


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute, bool]]:
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]
    except ImportError:  # FastAPI before included routers were kept nested
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, route, route.include_in_schema
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.path, context.original_route, context.include_in_schema


def fill_path(path: str, ids: dict[str, str]) -> str:
    """`path` with each `{name}` replaced by `ids[name]`, or by a fresh UUID if it has none."""
    names = {name: ids.get(name, str(uuid.uuid4())) for name in _path_names(path)}
    return path.format(**names)


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def database_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: what 'nothing changed' compares."""
    with read_transaction(engine) as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }
