"""Replaying an OpenAPI document's request examples (Elastic Path's `pim.yaml`) against the
service: each product, hierarchy and node example is sent as written, with its placeholder ids
(`shampooProductID`, other products' ids, the path's ids) replaced by ids of real resources of
the store, and what it sent must read back.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

Json = dict[str, Any]


def _load(path: Path) -> Json:
    import yaml  # only this tool reads YAML; the service never does

    document: Json = yaml.safe_load(path.read_text())
    return document


def _examples(document: Json, path: str, method: str) -> Iterator[tuple[str, Json]]:
    operation = document["paths"][path][method]
    content = operation["requestBody"]["content"]["application/json"]
    for name, example in content.get("examples", {}).items():
        if "$ref" in example:
            example = document["components"]["examples"][example["$ref"].rsplit("/", 1)[-1]]
        yield name, example["value"]


def _sent_reads_back(sent: Json, read: Json, where: str) -> list[str]:
    problems = []
    for key, value in sent.items():
        if read.get(key) != value:
            problems.append(f"{where}: {key} sent {value!r}, read back {read.get(key)!r}")
    return problems


class _Store:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.count = 0

    def product(self) -> str:
        self.count += 1
        attributes = {"name": f"Stand-in {self.count}", "commodity_type": "physical"}
        response = self.http.post(
            "/pcm/products", json={"data": {"type": "product", "attributes": attributes}}
        )
        response.raise_for_status()
        return str(response.json()["data"]["id"])

    def real_variations(self, data: Json) -> None:
        """Every variation a product names is one this store has (a product names only those)."""
        linked = ((data.get("relationships") or {}).get("variations") or {}).get("data") or []
        for item in linked:
            if "id" not in item:
                continue
            self.count += 1
            attributes = {"name": f"Stand-in variation {self.count}"}
            response = self.http.post(
                "/pcm/variations",
                json={"data": {"type": "product-variation", "attributes": attributes}},
            )
            response.raise_for_status()
            item["id"] = str(response.json()["data"]["id"])

    def real_components(self, attributes: Json) -> None:
        """Every option of a bundle's components names a product this store has."""
        stand_ins: dict[str, str] = {}
        for component in (attributes.get("components") or {}).values():
            for option in component.get("options", []):
                if option["id"] not in stand_ins:
                    stand_ins[option["id"]] = self.product()
                option["id"] = stand_ins[option["id"]]


def replay_examples(http: httpx.Client, path: Path) -> list[str]:
    """Send every example; the problems found, each printed as it is found."""
    document = _load(path)
    store = _Store(http)
    problems: list[str] = []

    def check(name: str, response: httpx.Response, sent: Json, url: str | None = None) -> Json:
        if response.status_code >= 400:
            problems.append(f"{name}: {response.status_code} {response.text}")
            print(f"FAIL {name}: {response.status_code} {response.text}")
            return {}
        data: Json = response.json()["data"]
        read = http.get(url or "").json()["data"] if url else data
        found = _sent_reads_back(sent.get("attributes", {}), read["attributes"], name)
        problems.extend(found)
        print(("FAIL " if found else "ok   ") + name + ("; " + "; ".join(found) if found else ""))
        return data

    for name, value in _examples(document, "/pcm/products", "post"):
        body = copy.deepcopy(value)
        store.real_components(body["data"]["attributes"])
        store.real_variations(body["data"])
        created = check(
            f"create product ({name})", http.post("/pcm/products", json=body), body["data"]
        )
        if created:
            check(
                f"read product ({name})", http.get(f"/pcm/products/{created['id']}"), body["data"]
            )
    for name, value in _examples(document, "/pcm/products/{productID}", "put"):
        body = copy.deepcopy(value)
        product_id = store.product()
        body["data"]["id"] = product_id
        store.real_components(body["data"]["attributes"])
        store.real_variations(body["data"])
        url = f"/pcm/products/{product_id}"
        check(f"update product ({name})", http.put(url, json=body), body["data"], url)
    for name, value in _examples(document, "/pcm/hierarchies", "post"):
        body = copy.deepcopy(value)
        body["data"]["attributes"]["slug"] = (
            f"{body['data']['attributes'].get('slug', 'h')}-{uuid.uuid4().hex[:6]}"
        )
        hierarchy = check(
            f"create hierarchy ({name})", http.post("/pcm/hierarchies", json=body), body["data"]
        )
        if not hierarchy:
            continue
        base = f"/pcm/hierarchies/{hierarchy['id']}"
        for update_name, update in _examples(document, "/pcm/hierarchies/{hierarchyID}", "put"):
            changed = copy.deepcopy(update)
            changed["data"]["id"] = hierarchy["id"]
            check(
                f"update hierarchy ({update_name})",
                http.put(base, json=changed),
                changed["data"],
                base,
            )
        nodes = []
        for node_name, node in _examples(document, "/pcm/hierarchies/{hierarchyID}/nodes", "post"):
            for suffix in ("a", "b"):
                sent = copy.deepcopy(node)
                sent["data"]["attributes"]["name"] += f" {suffix}"
                sent["data"]["attributes"]["slug"] += f"-{suffix}"
                made = check(
                    f"create node ({node_name})",
                    http.post(f"{base}/nodes", json=sent),
                    sent["data"],
                )
                if made:
                    nodes.append(made["id"])
        if len(nodes) < 2:
            continue
        node_url = f"{base}/nodes/{nodes[0]}"
        for update_name, update in _examples(
            document, "/pcm/hierarchies/{hierarchyID}/nodes/{nodeID}", "put"
        ):
            changed = copy.deepcopy(update)
            changed["data"]["id"] = nodes[0]
            check(
                f"update node ({update_name})",
                http.put(node_url, json=changed),
                changed["data"],
                node_url,
            )
        children_path = "/pcm/hierarchies/{hierarchyID}/nodes/{nodeID}/relationships/children"
        for children_name, children in _examples(document, children_path, "post"):
            sent = copy.deepcopy(children)
            for item in sent["data"]:
                item["id"] = nodes[1]
            response = http.post(f"{node_url}/relationships/children", json=sent)
            check(f"node children ({children_name})", response, {})
        products_path = "/pcm/hierarchies/{hierarchyID}/nodes/{nodeID}/relationships/products"
        for products_name, linked in _examples(document, products_path, "post"):
            sent = copy.deepcopy(linked)
            for item in sent["data"]:
                item["id"] = store.product()
            response = http.post(f"{node_url}/relationships/products", json=sent)
            check(f"node products ({products_name})", response, {})
        for duplicate_name, duplicate in _examples(
            document, "/pcm/hierarchies/{hierarchyID}/duplicate_job", "post"
        ):
            response = http.post(f"{base}/duplicate_job", json=duplicate)
            if response.status_code != 201:
                problems.append(
                    f"duplicate ({duplicate_name}): {response.status_code} {response.text}"
                )
            print(
                ("ok   " if response.status_code == 201 else "FAIL ")
                + f"duplicate ({duplicate_name})"
            )
    print(f"{len(problems)} problems")
    return problems
