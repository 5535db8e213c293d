"""Hierarchies, nodes, node products and duplicate jobs over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from starlette.types import Message, Receive, Scope, Send

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import hierarchies
from pxm_jobs.tenancy.stores import create_store
from tests.hierarchy_trees import add_products

Json = dict[str, Any]


@dataclass(frozen=True)
class Admin:
    store_id: str
    headers: dict[str, str]


def new_admin(client: TestClient, engine: Engine, store_name: str) -> Admin:
    """A new store, and the Authorization header of an admin token for it."""
    with write_transaction(engine) as connection:
        credentials = create_store(connection, store_name)
    response = client.post(
        "/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return Admin(credentials.store_id, {"Authorization": f"Bearer {token}"})


@pytest.fixture
def anonymous(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin(anonymous: TestClient, engine: Engine) -> Admin:
    return new_admin(anonymous, engine, "shop")


@pytest.fixture
def client(anonymous: TestClient, admin: Admin) -> TestClient:
    anonymous.headers.update(admin.headers)
    return anonymous


def error_of(response: Any) -> Json:
    errors = response.json()["errors"]
    assert len(errors) == 1
    error: Json = errors[0]
    return error


def create_hierarchy(client: TestClient, **attributes: Any) -> Json:
    response = client.post(
        "/pcm/hierarchies", json={"data": {"type": "hierarchy", "attributes": attributes}}
    )
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


def create_node(
    client: TestClient,
    hierarchy_id: str,
    parent_id: str | None = None,
    sort_order: int | None = None,
    **attributes: Any,
) -> Json:
    data: Json = {"type": "node", "attributes": attributes}
    if parent_id is not None:
        data["relationships"] = {"parent": {"data": {"type": "node", "id": parent_id}}}
    if sort_order is not None:
        data["meta"] = {"sort_order": sort_order}
    response = client.post(f"/pcm/hierarchies/{hierarchy_id}/nodes", json={"data": data})
    assert response.status_code == 201, response.text
    node: Json = response.json()["data"]
    return node


def names_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["attributes"]["name"] for item in response.json()["data"]]


def test_a_hierarchy_is_created_shown_listed_changed_and_deleted(client: TestClient) -> None:
    created = create_hierarchy(
        client, name="Catalog", slug="catalog", locales={"fr-FR": {"name": "Catalogue"}}
    )
    assert created["type"] == "hierarchy"
    assert created["attributes"] == {
        "name": "Catalog",
        "slug": "catalog",
        "locales": {"fr-FR": {"name": "Catalogue"}},
    }
    assert created["meta"]["owner"] == "store" and created["meta"]["created_at"].endswith("Z")
    path = f"/pcm/hierarchies/{created['id']}"
    assert created["relationships"]["children"]["links"]["related"] == f"{path}/children"
    assert client.get(path).json()["data"] == created
    create_hierarchy(client, name="Second")
    listed = client.get("/pcm/hierarchies", params={"page[limit]": 1})
    assert names_of(listed) == ["Second"]
    assert listed.json()["meta"]["results"]["total"] == 2
    changed = client.put(
        path,
        json={"data": {"type": "hierarchy", "id": created["id"], "attributes": {"slug": None}}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"] == {
        "name": "Catalog",
        "locales": {"fr-FR": {"name": "Catalogue"}},
    }
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert client.delete(path).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"type": "node", "attributes": {"name": "Wrong type"}}},
        {"data": {"type": "hierarchy", "attributes": {}}},
        {"data": {"type": "hierarchy", "attributes": {"name": ""}}},
        {"data": {"type": "hierarchy", "attributes": {"name": "x", "slug": "a b"}}},
        {"data": {"type": "hierarchy", "attributes": {"name": "x", "locales": ["fr"]}}},
        {"name": "not json:api"},
    ],
)
def test_a_bad_hierarchy_body_is_a_422(client: TestClient, body: Json) -> None:
    response = client.post("/pcm/hierarchies", json=body)
    assert response.status_code == 422, response.text
    assert error_of(response)["title"] == "Failed Validation"
    assert client.get("/pcm/hierarchies").json()["meta"]["results"]["total"] == 0


def test_unknown_foreign_and_malformed_ids_are_404s(client: TestClient, engine: Engine) -> None:
    hierarchy = create_hierarchy(client, name="Mine")
    node = create_node(client, hierarchy["id"], name="Node")
    other = new_admin(client, engine, "other").headers
    node_path = f"/pcm/hierarchies/{hierarchy['id']}/nodes/{node['id']}"
    for path in (
        f"/pcm/hierarchies/{uuid.uuid4()}",
        "/pcm/hierarchies/not-a-uuid",
        f"/pcm/hierarchies/{hierarchy['id']}/nodes/not-a-uuid",
        f"/pcm/hierarchies/{hierarchy['id']}/nodes/{uuid.uuid4()}/children",
        f"/pcm/hierarchies/{uuid.uuid4()}/children",
        f"/pcm/hierarchies/{uuid.uuid4()}/nodes",
    ):
        assert client.get(path).status_code == 404, path
    for path in (f"/pcm/hierarchies/{hierarchy['id']}", node_path, f"{node_path}/products"):
        assert client.get(path, headers=other).status_code == 404, path
    rename = {"data": {"type": "node", "attributes": {"name": "Stolen"}}}
    assert client.put(node_path, json=rename, headers=other).status_code == 404
    assert client.delete(node_path, headers=other).status_code == 404
    duplicate = {"data": {"type": "hierarchy", "attributes": {}}}
    response = client.post(
        f"/pcm/hierarchies/{hierarchy['id']}/duplicate_job", json=duplicate, headers=other
    )
    assert response.status_code == 404
    assert client.get("/pcm/jobs", headers=other).json()["meta"]["results"]["total"] == 0
    assert client.get(node_path).json()["data"]["attributes"]["name"] == "Node"


def test_a_tree_is_built_ordered_moved_and_pruned(client: TestClient) -> None:
    hierarchy_id = create_hierarchy(client, name="Tree")["id"]
    base = f"/pcm/hierarchies/{hierarchy_id}"
    shoes = create_node(client, hierarchy_id, name="Shoes", slug="shoes", sort_order=1)
    create_node(client, hierarchy_id, name="Bags")
    hats = create_node(client, hierarchy_id, name="Hats", sort_order=9)
    running = create_node(client, hierarchy_id, parent_id=shoes["id"], name="Running")
    trail = create_node(client, hierarchy_id, parent_id=running["id"], name="Trail")
    assert trail["relationships"]["parent"] == {"data": {"type": "node", "id": running["id"]}}
    assert "parent" not in shoes["relationships"] and shoes["meta"]["sort_order"] == 1
    node_path = f"{base}/nodes/{trail['id']}"
    assert trail["relationships"]["products"]["links"]["related"] == f"{node_path}/products"
    assert names_of(client.get(f"{base}/children")) == ["Hats", "Shoes", "Bags"]
    assert names_of(client.get(f"{base}/nodes/{shoes['id']}/children")) == ["Running"]
    assert client.get(f"{base}/nodes").json()["meta"]["results"]["total"] == 5

    # A node never goes below itself; siblings never share a name.
    cycle = client.put(
        f"{base}/nodes/{shoes['id']}/relationships/parent",
        json={"data": {"type": "node", "id": trail["id"]}},
    )
    assert cycle.status_code == 422 and "below" in error_of(cycle)["detail"]
    clash = client.post(
        f"{base}/nodes", json={"data": {"type": "node", "attributes": {"name": "Bags"}}}
    )
    assert clash.status_code == 422 and "Bags" in error_of(clash)["detail"]

    moved = client.put(
        f"{base}/nodes/{trail['id']}/relationships/parent",
        json={"data": {"type": "node", "id": hats["id"]}},
    )
    assert moved.status_code == 204
    assert names_of(client.get(f"{base}/nodes/{hats['id']}/children")) == ["Trail"]
    changed = client.put(
        node_path,
        json={
            "data": {
                "type": "node",
                "attributes": {"name": "Trail running", "description": "Off road"},
                "relationships": {"parent": {"data": None}},
                "meta": {"sort_order": 20},
            }
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"]["description"] == "Off road"
    assert names_of(client.get(f"{base}/children"))[0] == "Trail running"
    assert client.delete(f"{base}/nodes/{trail['id']}/relationships/parent").status_code == 204

    assert client.delete(f"{base}/nodes/{shoes['id']}").status_code == 204
    assert client.get(f"{base}/nodes/{running['id']}").status_code == 404
    assert client.get(f"{base}/nodes").json()["meta"]["results"]["total"] == 3


def test_products_are_linked_listed_and_unlinked(
    client: TestClient, admin: Admin, engine: Engine
) -> None:
    with write_transaction(engine) as connection:
        product_ids = add_products(connection, admin.store_id, 3)
    hierarchy_id = create_hierarchy(client, name="Linked")["id"]
    node = create_node(client, hierarchy_id, name="Node")
    path = f"/pcm/hierarchies/{hierarchy_id}/nodes/{node['id']}"
    references = [{"type": "product", "id": product_id} for product_id in product_ids]
    missing = str(uuid.uuid4())

    refused = client.post(
        f"{path}/relationships/products",
        json={"data": [*references, {"type": "product", "id": missing}]},
    )
    assert refused.status_code == 422
    assert error_of(refused)["meta"] == {"missing_ids": [missing]}
    assert client.get(f"{path}/relationships/products").json()["data"] == []

    linked = client.post(f"{path}/relationships/products", json={"data": references})
    assert linked.status_code == 201 and linked.json()["data"]["id"] == node["id"]
    listed = client.get(f"{path}/relationships/products").json()
    assert listed["data"] == sorted(references, key=lambda item: item["id"])
    products = client.get(f"{path}/products").json()
    assert {item["id"] for item in products["data"]} == set(product_ids)
    assert products["data"][0]["type"] == "product"

    unlinked = client.request(
        "DELETE", f"{path}/relationships/products", json={"data": references[:2]}
    )
    assert unlinked.status_code == 200, unlinked.text
    assert client.get(f"{path}/relationships/products").json()["data"] == references[2:]
    wrong_type = client.post(
        f"{path}/relationships/products", json={"data": [{"type": "node", "id": missing}]}
    )
    assert wrong_type.status_code == 422


def test_a_duplicate_job_is_queued_then_copies_the_tree(
    client: TestClient, admin: Admin, engine: Engine, settings: Settings
) -> None:
    with write_transaction(engine) as connection:
        product_id = add_products(connection, admin.store_id, 1)[0]
    source = create_hierarchy(client, name="Source", description="Original", slug="source")
    top = create_node(client, source["id"], name="Top", sort_order=2)
    child = create_node(client, source["id"], parent_id=top["id"], name="Child", slug="child")
    client.post(
        f"/pcm/hierarchies/{source['id']}/nodes/{child['id']}/relationships/products",
        json={"data": [{"type": "product", "id": product_id}]},
    )
    response = client.post(
        f"/pcm/hierarchies/{source['id']}/duplicate_job",
        json={
            "data": {
                "type": "hierarchy",
                "attributes": {"name": "Copy", "include_products": True},
            }
        },
        headers={"X-Request-ID": "copy-1"},
    )
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["attributes"]["type"] == "hierarchy-duplicate"
    assert job["attributes"]["status"] == "pending"
    new_id = job["meta"]["hierarchy_id"]
    assert job["meta"]["copied_from"] == source["id"] and uuid.UUID(new_id)
    assert job["meta"]["x_request_id"] == "copy-1"
    assert client.get(f"/pcm/hierarchies/{new_id}").status_code == 404, "not before it runs"

    worker = Worker(engine, settings, RUNNERS, concurrency=1)
    claimed = worker.claim()
    assert claimed is not None and claimed.id == job["id"]
    worker.run(claimed)
    done = client.get(f"/pcm/jobs/{job['id']}").json()["data"]
    assert done["attributes"]["status"] == "success", done
    assert done["meta"]["hierarchy_id"] == new_id

    copy = client.get(f"/pcm/hierarchies/{new_id}").json()["data"]
    assert copy["attributes"] == {"name": "Copy", "description": "Original", "slug": "source"}
    [copied_top] = client.get(f"/pcm/hierarchies/{new_id}/children").json()["data"]
    assert copied_top["id"] != top["id"] and copied_top["meta"]["sort_order"] == 2
    [copied_child] = client.get(
        f"/pcm/hierarchies/{new_id}/nodes/{copied_top['id']}/children"
    ).json()["data"]
    assert copied_child["attributes"] == child["attributes"]
    linked = client.get(
        f"/pcm/hierarchies/{new_id}/nodes/{copied_child['id']}/relationships/products"
    ).json()["data"]
    assert linked == [{"type": "product", "id": product_id}]


def test_a_duplicate_request_is_checked_before_any_job_exists(client: TestClient) -> None:
    source = create_hierarchy(client, name="Source")
    path = f"/pcm/hierarchies/{source['id']}/duplicate_job"
    refusals = [
        (f"/pcm/hierarchies/{uuid.uuid4()}/duplicate_job", {"data": {"type": "hierarchy"}}, 404),
        ("/pcm/hierarchies/nope/duplicate_job", {"data": {"type": "hierarchy"}}, 404),
        (path, {"data": {"type": "node"}}, 422),
        (path, {"data": {"type": "hierarchy", "attributes": {"name": ""}}}, 422),
        (path, {"data": {"type": "hierarchy", "attributes": {"include_products": "maybe"}}}, 422),
        (path, {"data": []}, 422),
    ]
    for target, body, status in refusals:
        response = client.post(target, json=body)
        assert response.status_code == status, (body, response.text)
    assert client.get("/pcm/jobs").json()["meta"]["results"]["total"] == 0
    assert client.post(path).status_code == 201, "the body is optional"


def test_hierarchies_need_an_admin_token(anonymous: TestClient) -> None:
    assert anonymous.get("/pcm/hierarchies").status_code == 401
    assert anonymous.post(f"/pcm/hierarchies/{uuid.uuid4()}/duplicate_job").status_code == 401


def test_a_write_is_committed_before_its_answer_is_sent(settings: Settings, engine: Engine) -> None:
    """A client told 201 must find what it created, whichever connection it asks next."""
    app = create_app(settings, engine=engine, run_worker=False)
    committed_at_answer: list[int] = []

    def count_committed_hierarchies() -> int:
        with read_transaction(engine) as connection:
            return int(
                connection.execute(select(func.count()).select_from(hierarchies)).scalar_one()
            )

    async def probing(scope: Scope, receive: Receive, send: Send) -> None:
        async def probing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["path"] == "/pcm/hierarchies":
                committed_at_answer.append(count_committed_hierarchies())
            await send(message)

        await app(scope, receive, probing_send)

    with TestClient(probing) as test_client:
        test_client.headers.update(new_admin(test_client, engine, "shop").headers)
        create_hierarchy(test_client, name="Seen")
    assert committed_at_answer == [1]
