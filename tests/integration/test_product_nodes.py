"""Products and nodes from either side, on both databases: a product's nodes, attaching and
detaching by filter, node children with sort orders, nodes by id across hierarchies, and what
EP shows of a node's parent and a hierarchy's top nodes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from pxm_jobs.catalog.products.product_ids import new_product_ids
from pxm_jobs.catalog.products.queries import insert_products
from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import node_products
from tests.job_api import Json, only_error, run_jobs, show_job
from tests.store_client import StoreClient, store_client


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def post(api: StoreClient, path: str, body: Json, status: int = 201) -> Json:
    response = api.http.post(path, json=body)
    assert response.status_code == status, response.text
    document: Json = response.json()
    return document


def hierarchy(api: StoreClient, name: str, slug: str | None = None) -> str:
    attributes = {"name": name, **({"slug": slug} if slug else {})}
    return str(
        post(api, "/pcm/hierarchies", {"data": {"type": "hierarchy", "attributes": attributes}})[
            "data"
        ]["id"]
    )


def node(api: StoreClient, hierarchy_id: str, name: str, parent: str | None = None) -> str:
    data: Json = {"type": "node", "attributes": {"name": name}}
    if parent:
        data["relationships"] = {"parent": {"data": {"type": "node", "id": parent}}}
    return str(post(api, f"/pcm/hierarchies/{hierarchy_id}/nodes", {"data": data})["data"]["id"])


def product(api: StoreClient, sku: str) -> str:
    attributes = {"name": sku, "sku": sku, "commodity_type": "physical"}
    return str(
        post(api, "/pcm/products", {"data": {"type": "product", "attributes": attributes}})["data"][
            "id"
        ]
    )


def node_ids_of(api: StoreClient, product_id: str) -> list[str]:
    response = api.http.get(f"/pcm/products/{product_id}/nodes")
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_attach_and_detach_nodes_by_filter(api: StoreClient, engine: Engine) -> None:
    shoes, hats = hierarchy(api, "Shoes"), hierarchy(api, "Hats")
    trail, felt = node(api, shoes, "Trail"), node(api, hats, "Felt")
    books = [product(api, f"book-{n}") for n in range(3)]
    other = product(api, "pen")
    missing = "00000000-0000-4000-8000-000000000000"
    body = {"data": {"filter": "like(sku,book-*)", "node_ids": [trail, felt, missing, "123"]}}
    attached = post(api, "/pcm/products/attach_nodes", body, 200)
    assert attached == {"meta": {"nodes_attached": 2, "nodes_not_found": [missing, "123"]}}
    assert sorted(node_ids_of(api, books[0])) == sorted([trail, felt])
    assert node_ids_of(api, other) == []
    assert post(api, "/pcm/products/attach_nodes", body, 200)["meta"]["nodes_attached"] == 2
    with read_transaction(engine) as connection:
        links = connection.execute(select(func.count()).select_from(node_products)).scalar()
    assert links == 6, "attaching again adds no link"
    unlinked = api.http.get("/pcm/products", params={"filter": "eq(has_nodes,false)"}).json()
    assert [item["id"] for item in unlinked["data"]] == [other]
    detach = {"data": {"filter": "eq(sku,book-0)", "node_ids": [felt]}}
    assert post(api, "/pcm/products/detach_nodes", detach, 200) == {
        "meta": {"nodes_detached": 1, "nodes_not_found": []}
    }
    assert node_ids_of(api, books[0]) == [trail]
    assert sorted(node_ids_of(api, books[1])) == sorted([trail, felt])


def test_a_bad_attach_filter_is_a_400_and_links_nothing(api: StoreClient) -> None:
    shoes = hierarchy(api, "Shoes")
    trail = node(api, shoes, "Trail")
    product(api, "book")
    for text in ("eq(colour,red)", ""):
        body = {"data": {"filter": text, "node_ids": [trail]}}
        response = api.http.post("/pcm/products/attach_nodes", json=body)
        assert response.status_code == 400, response.text
    assert api.http.get(f"/pcm/hierarchies/{shoes}/nodes/{trail}/products").json()["data"] == []


def test_node_children_take_sort_orders_and_show_their_parents_name(api: StoreClient) -> None:
    shoes = hierarchy(api, "Shoes")
    top, a, b = node(api, shoes, "Top"), node(api, shoes, "A"), node(api, shoes, "B")
    body = {
        "data": [
            {"type": "node", "id": a, "meta": {"sort_order": 1}},
            {"type": "node", "id": b, "meta": {"sort_order": 5}},
        ]
    }
    answered = post(api, f"/pcm/hierarchies/{shoes}/nodes/{top}/relationships/children", body, 200)
    assert answered["data"]["id"] == top
    children = api.http.get(f"/pcm/hierarchies/{shoes}/nodes/{top}/children").json()["data"]
    assert [child["id"] for child in children] == [b, a]
    assert [child["meta"]["parent_name"] for child in children] == ["Top", "Top"]
    assert "parent_name" not in answered["data"]["meta"]
    shown = api.http.get(f"/pcm/hierarchies/{shoes}").json()["data"]
    assert shown["relationships"]["children"]["data"] == [{"type": "node", "id": top}]
    itself = {"data": [{"type": "node", "id": top}]}
    refused = api.http.post(
        f"/pcm/hierarchies/{shoes}/nodes/{top}/relationships/children", json=itself
    )
    assert refused.status_code == 422
    elsewhere = node(api, hierarchy(api, "Hats"), "Felt")
    foreign = {"data": [{"type": "node", "id": elsewhere}]}
    refused = api.http.post(
        f"/pcm/hierarchies/{shoes}/nodes/{top}/relationships/children", json=foreign
    )
    assert refused.status_code == 422 and elsewhere in only_error(refused)["detail"]


def test_nodes_by_id_across_hierarchies(api: StoreClient) -> None:
    first = node(api, hierarchy(api, "Shoes"), "Trail")
    second = node(api, hierarchy(api, "Hats"), "Felt")
    node(api, hierarchy(api, "Bags"), "Tote")
    listed = api.http.get("/pcm/hierarchies/nodes", params={"filter": f"in(id,{first},{second},x)"})
    assert listed.status_code == 200, listed.text
    assert sorted(item["id"] for item in listed.json()["data"]) == sorted([first, second])
    assert (
        api.http.get("/pcm/hierarchies/nodes", params={"filter": "eq(name,x)"}).status_code == 400
    )


def test_a_duplicate_takes_a_slug_and_checks_it(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    shoes = hierarchy(api, "Shoes", "shoes")
    bad = {"data": {"type": "hierarchy", "attributes": {"name": "Copy", "slug": "no spaces"}}}
    assert api.http.post(f"/pcm/hierarchies/{shoes}/duplicate_job", json=bad).status_code == 422
    body = {"data": {"type": "hierarchy", "attributes": {"name": "Copy", "slug": "shoes-copy"}}}
    job = post(api, f"/pcm/hierarchies/{shoes}/duplicate_job", body)["data"]
    run_jobs(engine, settings)
    copy_id = show_job(api, job["id"])["meta"]["hierarchy_id"]
    copied = api.http.get(f"/pcm/hierarchies/{copy_id}").json()["data"]
    assert copied["attributes"]["slug"] == "shoes-copy"


def test_attaching_thousands_of_products_is_one_request(api: StoreClient, engine: Engine) -> None:
    shoes = hierarchy(api, "Shoes")
    trail, road = node(api, shoes, "Trail"), node(api, shoes, "Road")
    now = utc_now()
    rows = [
        {
            "id": product_id,
            "store_id": api.store_id,
            "name": f"Shoe {n}",
            "slug": f"shoe-{n}",
            "sku": f"shoe-{n}",
            "status": "live",
            "commodity_type": "physical",
            "created_at": now,
            "updated_at": now,
        }
        for n, product_id in enumerate(new_product_ids(3000))
    ]
    with write_transaction(engine) as connection:
        insert_products(connection, rows)
    body = {"data": {"filter": "like(sku,shoe-*)", "node_ids": [trail, road]}}
    assert post(api, "/pcm/products/attach_nodes", body, 200)["meta"]["nodes_attached"] == 2
    listed = api.http.get(f"/pcm/hierarchies/{shoes}/nodes/{road}/products").json()
    assert listed["meta"]["results"]["total"] == 3000
    assert post(api, "/pcm/products/detach_nodes", body, 200)["meta"]["nodes_detached"] == 2
    with read_transaction(engine) as connection:
        assert connection.execute(select(func.count()).select_from(node_products)).scalar() == 0
