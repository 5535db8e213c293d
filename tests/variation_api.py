"""Making variations, options, modifiers and products through the API, for tests."""

from __future__ import annotations

from typing import Any

from tests.job_api import Json
from tests.store_client import StoreClient

VARIATIONS = "/pcm/variations"


def created(api: StoreClient, path: str, kind: str, **attributes: Any) -> Json:
    response = api.http.post(path, json={"data": {"type": kind, "attributes": attributes}})
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


def new_variation(api: StoreClient, name: str = "Size", **attributes: Any) -> Json:
    return created(api, VARIATIONS, "product-variation", name=name, **attributes)


def options_path(variation_id: str) -> str:
    return f"{VARIATIONS}/{variation_id}/options"


def new_option(api: StoreClient, variation_id: str, name: str = "Small", **attributes: Any) -> Json:
    return created(
        api, options_path(variation_id), "product-variation-option", name=name, **attributes
    )


def modifiers_path(variation_id: str, option_id: str) -> str:
    return f"{options_path(variation_id)}/{option_id}/modifiers"


def new_modifier(api: StoreClient, variation_id: str, option_id: str, **attributes: Any) -> Json:
    path = modifiers_path(variation_id, option_id)
    return created(api, path, "product-variation-modifier", **attributes)


def new_product(api: StoreClient, sku: str, **attributes: Any) -> Json:
    return created(
        api, "/pcm/products", "product", name=sku, sku=sku, commodity_type="physical", **attributes
    )


def links_path(product_id: str) -> str:
    return f"/pcm/products/{product_id}/relationships/variations"


def link_body(*variation_ids: str) -> Json:
    return {"data": [{"type": "product-variation", "id": v} for v in variation_ids]}
