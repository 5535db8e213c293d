"""Whole variation matrices (variations, options, modifiers) made through the Variations API,
for tests and benchmarks of child builds.

Works with any client that has httpx's `post`/`put`/`delete` (the in-process TestClient, or an
httpx client of a live service).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# An option's modifiers: type -> value, (seek, set) for the builders, reference name for price.
Modifiers = Mapping[str, Any]


class Http(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...
    def put(self, url: str, **kwargs: Any) -> Any: ...
    def delete(self, url: str, **kwargs: Any) -> Any: ...
    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


@dataclass
class Variation:
    id: str
    name: str
    # option name -> option id
    options: dict[str, str] = field(default_factory=dict)
    # option name -> modifier type -> modifier id
    modifiers: dict[str, dict[str, str]] = field(default_factory=dict)


def _created(http: Http, path: str, kind: str, attributes: Mapping[str, Any]) -> str:
    response = http.post(path, json={"data": {"type": kind, "attributes": dict(attributes)}})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def _modifier_attributes(kind: str, value: Any) -> dict[str, Any]:
    if kind.endswith("_builder"):
        seek, replacement = value
        return {"type": kind, "seek": seek, "set": replacement}
    if kind == "price":
        return {"type": kind, "reference_name": value}
    return {"type": kind, "value": value}


def add_option(
    http: Http,
    variation: Variation,
    name: str,
    modifiers: Modifiers | None = None,
    sort_order: int | None = None,
) -> str:
    attributes: dict[str, Any] = {"name": name, "description": f"{name} option"}
    if sort_order is not None:
        attributes["sort_order"] = sort_order
    path = f"/pcm/variations/{variation.id}/options"
    option_id = _created(http, path, "product-variation-option", attributes)
    variation.options[name] = option_id
    made = variation.modifiers.setdefault(name, {})
    for kind, value in (modifiers or {}).items():
        made[kind] = _created(
            http,
            f"{path}/{option_id}/modifiers",
            "product-variation-modifier",
            _modifier_attributes(kind, value),
        )
    return option_id


def add_variation(
    http: Http,
    name: str,
    options: Mapping[str, Modifiers | None],
    sort_order: int | None = None,
) -> Variation:
    """A variation with its options, in the given order (highest sort_order first keeps it)."""
    attributes: dict[str, Any] = {"name": name}
    if sort_order is not None:
        attributes["sort_order"] = sort_order
    variation = Variation(_created(http, "/pcm/variations", "product-variation", attributes), name)
    for position, (option, modifiers) in enumerate(options.items()):
        add_option(http, variation, option, modifiers, len(options) - position)
    return variation


def _links(found: Sequence[Variation]) -> dict[str, Any]:
    return {"data": [{"type": "product-variation", "id": variation.id} for variation in found]}


def attach(http: Http, product_id: str, *found: Variation) -> None:
    response = http.post(f"/pcm/products/{product_id}/relationships/variations", json=_links(found))
    assert response.status_code == 204, response.text


def detach(http: Http, product_id: str, variation: Variation) -> None:
    response = http.request(
        "DELETE", f"/pcm/products/{product_id}/relationships/variations", json=_links([variation])
    )
    assert response.status_code == 204, response.text


def remove_option(http: Http, variation: Variation, name: str) -> None:
    option_id = variation.options.pop(name)
    response = http.delete(f"/pcm/variations/{variation.id}/options/{option_id}")
    assert response.status_code == 204, response.text


def set_modifier_value(
    http: Http, variation: Variation, option: str, kind: str, value: Any
) -> None:
    option_id = variation.options[option]
    modifier_id = variation.modifiers[option][kind]
    path = f"/pcm/variations/{variation.id}/options/{option_id}/modifiers/{modifier_id}"
    document = {
        "data": {
            "type": "product-variation-modifier",
            "id": modifier_id,
            "attributes": _modifier_attributes(kind, value),
        }
    }
    response = http.put(path, json=document)
    assert response.status_code == 200, response.text


def variations_for(
    http: Http, product_id: str, matrix: Mapping[str, Mapping[str, Modifiers | None]]
) -> list[Variation]:
    """Variations named by `matrix` (first the highest sort_order), attached to the product."""
    made = [
        add_variation(http, name, options, sort_order=len(matrix) - position)
        for position, (name, options) in enumerate(matrix.items())
    ]
    attach(http, product_id, *made)
    return made


def option_ids(found: Sequence[Variation], *names: str) -> list[str]:
    """The ids of options by name, looked up across the variations."""
    by_name = {name: option for variation in found for name, option in variation.options.items()}
    return [by_name[name] for name in names]
