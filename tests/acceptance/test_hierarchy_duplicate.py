"""A user builds a tree, links products, duplicates it with and without them, and compares."""

from __future__ import annotations

from typing import Any

from tests.acceptance.conftest import Service
from tests.acceptance.service import Client

PRODUCTS_CSV = (
    b"name,sku,slug,commodity_type,status\n"
    b"Trail shoe,hd-trail,hd-trail,physical,live\n"
    b"Road shoe,hd-road,hd-road,physical,live\n"
    b"Tote bag,hd-tote,hd-tote,physical,draft\n"
)

# name -> (parent name, slug, sort order, products by sku)
TREE: dict[str, tuple[str | None, str, int | None, list[str]]] = {
    "Shoes": (None, "shoes", 2, ["hd-trail"]),
    "Bags": (None, "bags", None, ["hd-tote"]),
    "Running": ("Shoes", "running", None, []),
    "Trail": ("Running", "trail", 1, ["hd-trail", "hd-road"]),
    "Road": ("Running", "road", None, ["hd-road"]),
}


def import_products(client: Client) -> dict[str, str]:
    """Product ids by sku, imported as a user would: a CSV file and a job."""
    created = client.import_csv(PRODUCTS_CSV)
    assert created.status_code == 201, created.text
    done = client.wait_for_job(created.json()["data"]["id"])
    assert done["attributes"]["status"] == "success", done
    listed = client.http.get("/pcm/products", params={"filter": "like(sku,hd-*)"}).json()
    return {item["attributes"]["sku"]: item["id"] for item in listed["data"]}


def build_tree(client: Client, product_ids: dict[str, str]) -> str:
    response = client.http.post(
        "/pcm/hierarchies",
        json={
            "data": {
                "type": "hierarchy",
                "attributes": {
                    "name": "Outdoor",
                    "description": "Things for outside",
                    "slug": "outdoor",
                    "locales": {"fr-FR": {"name": "Plein air"}},
                },
            }
        },
    )
    assert response.status_code == 201, response.text
    hierarchy_id: str = response.json()["data"]["id"]
    node_ids: dict[str, str] = {}
    for name, (parent, slug, sort_order, skus) in TREE.items():
        data: dict[str, Any] = {
            "type": "node",
            "attributes": {"name": name, "slug": slug, "description": f"All {name.lower()}"},
        }
        if parent is not None:
            data["relationships"] = {"parent": {"data": {"type": "node", "id": node_ids[parent]}}}
        if sort_order is not None:
            data["meta"] = {"sort_order": sort_order}
        created = client.http.post(f"/pcm/hierarchies/{hierarchy_id}/nodes", json={"data": data})
        assert created.status_code == 201, created.text
        node_ids[name] = created.json()["data"]["id"]
        if skus:
            linked = client.http.post(
                f"/pcm/hierarchies/{hierarchy_id}/nodes/{node_ids[name]}/relationships/products",
                json={"data": [{"type": "product", "id": product_ids[sku]} for sku in skus]},
            )
            assert linked.status_code == 201, linked.text
    return hierarchy_id


def read_tree(client: Client, hierarchy_id: str) -> tuple[list[dict[str, Any]], set[str]]:
    """The tree as the API shows it, without ids, in sibling order; and every node id in it."""
    ids: set[str] = set()

    def read(path: str) -> list[dict[str, Any]]:
        listed = client.http.get(path, params={"page[limit]": 100})
        assert listed.status_code == 200, listed.text
        nodes = []
        for node in listed.json()["data"]:
            ids.add(node["id"])
            node_path = f"/pcm/hierarchies/{hierarchy_id}/nodes/{node['id']}"
            products = client.http.get(f"{node_path}/relationships/products").json()["data"]
            meta = {key: value for key, value in node["meta"].items() if key != "hierarchy_id"}
            nodes.append(
                {
                    "attributes": node["attributes"],
                    "meta": meta,
                    "products": sorted(item["id"] for item in products),
                    "children": read(f"{node_path}/children"),
                }
            )
        return nodes

    return read(f"/pcm/hierarchies/{hierarchy_id}/children"), ids


def duplicate(client: Client, hierarchy_id: str, attributes: dict[str, Any]) -> str:
    response = client.http.post(
        f"/pcm/hierarchies/{hierarchy_id}/duplicate_job",
        json={"data": {"type": "hierarchy", "attributes": attributes}},
    )
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["attributes"]["status"] == "pending"
    assert job["meta"]["copied_from"] == hierarchy_id
    done = client.wait_for_job(job["id"])
    assert done["attributes"]["status"] == "success", done
    assert done["meta"]["hierarchy_id"] == job["meta"]["hierarchy_id"]
    return str(job["meta"]["hierarchy_id"])


def without_products(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**node, "products": [], "children": without_products(node["children"])} for node in tree
    ]


def test_a_duplicate_is_the_same_tree_under_new_ids(shared_service: Service) -> None:
    client = shared_service.client
    source_id = build_tree(client, import_products(client))
    source_tree, source_ids = read_tree(client, source_id)
    assert [node["attributes"]["name"] for node in source_tree] == ["Shoes", "Bags"]

    with_products = duplicate(client, source_id, {"name": "Outdoor 2", "include_products": True})
    copy_tree, copy_ids = read_tree(client, with_products)
    assert copy_tree == source_tree
    assert len(copy_ids) == len(TREE) and not copy_ids & source_ids
    copied = client.http.get(f"/pcm/hierarchies/{with_products}").json()["data"]["attributes"]
    assert copied == {
        "name": "Outdoor 2",
        "description": "Things for outside",
        "slug": "outdoor",
        "locales": {"fr-FR": {"name": "Plein air"}},
    }

    bare = duplicate(client, source_id, {"description": "No products"})
    bare_tree, bare_ids = read_tree(client, bare)
    assert bare_tree == without_products(source_tree)
    assert not bare_ids & (source_ids | copy_ids)
    attributes = client.http.get(f"/pcm/hierarchies/{bare}").json()["data"]["attributes"]
    assert (attributes["name"], attributes["description"]) == ("Outdoor", "No products")

    # The copies stand on their own: deleting the source leaves them whole.
    assert client.http.delete(f"/pcm/hierarchies/{source_id}").status_code == 204
    assert read_tree(client, with_products)[0] == source_tree
