"""Security rules as tests, on every admin endpoint the app serves (new ones are enumerated too).

Two stores, each with one of everything. A store's token reaches nothing of the other: every
route that takes an id answers the other store's ids, in every spelling a UUID accepts, exactly
as it answers ids that exist nowhere, and changes nothing. Storefront tokens are refused on
every admin endpoint, revoked keys and expired or altered tokens stop working at once, and
altered or expired download links are refused.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from pxm_jobs.clock import utc_now
from pxm_jobs.config import Settings
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.tenancy.keys import revoke_key
from pxm_jobs.tenancy.links import sign_download
from pxm_jobs.tenancy.tokens import Grant, issue_token
from tests.tenants import (
    Endpoint,
    Tenant,
    admin_endpoints,
    database_rows,
    exchange,
    fill_path,
    new_tenant,
    seed_tenant,
    service_client,
)

NODE = "/pcm/hierarchies/{hierarchy_id}/nodes/{node_id}"
PRODUCT = "/pcm/products/{product_id}"
BOOK = "/pcm/pricebooks/{pricebook_id}"
USD = {"USD": {"amount": 100, "includes_tax": False}}
VARIATION = "/pcm/variations/{variation_id}"
OPTION = VARIATION + "/options/{option_id}"


@dataclass
class World:
    http: TestClient
    engine: Engine
    ours: Tenant  # the caller
    theirs: Tenant  # the store it must not reach

    def endpoints(self) -> list[Endpoint]:
        app = self.http.app
        assert isinstance(app, FastAPI)
        return admin_endpoints(app)


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    with service_client(settings, engine) as http:
        ours, theirs = new_tenant(http, engine, "ours"), new_tenant(http, engine, "theirs")
        for tenant in (ours, theirs):
            seed_tenant(http, engine, settings, tenant)
        yield World(http, engine, ours, theirs)


def valid_body(endpoint: Endpoint, own: dict[str, str]) -> Any:
    """A body that passes validation, so that only the ids in the path decide the answer."""
    bodies: dict[tuple[str, str], Any] = {
        ("PUT", "/pcm/products/{product_id}"): {"data": {"type": "product", "attributes": {}}},
        ("PUT", "/pcm/hierarchies/{hierarchy_id}"): {
            "data": {"type": "hierarchy", "attributes": {"name": "Mine now"}}
        },
        ("POST", "/pcm/hierarchies/{hierarchy_id}/duplicate_job"): {
            "data": {"type": "hierarchy", "attributes": {}}
        },
        ("POST", "/pcm/hierarchies/{hierarchy_id}/nodes"): {
            "data": {"type": "node", "attributes": {"name": "Planted"}}
        },
        ("PUT", NODE): {"data": {"type": "node", "attributes": {"name": "Mine now"}}},
        ("PUT", NODE + "/relationships/parent"): {"data": {"type": "node", "id": own["node_id"]}},
        ("POST", NODE + "/relationships/products"): {
            "data": [{"type": "product", "id": own["product_id"]}]
        },
        ("DELETE", NODE + "/relationships/products"): {
            "data": [{"type": "product", "id": own["product_id"]}]
        },
        ("POST", NODE + "/relationships/children"): {
            "data": [{"type": "node", "id": own["node_id"]}]
        },
        **{
            (method, PRODUCT + "/relationships/files"): {"data": [{"type": "file", "id": "f-1"}]}
            for method in ("POST", "PUT", "DELETE")
        },
        **{
            (method, PRODUCT + "/relationships/templates"): {
                "data": [{"type": "template", "id": "t-1"}]
            }
            for method in ("POST", "DELETE")
        },
        ("POST", PRODUCT + "/relationships/main_image"): {"data": {"type": "file", "id": "i-1"}},
        ("PUT", PRODUCT + "/relationships/main_image"): {"data": [{"type": "file", "id": "i-1"}]},
        ("PUT", BOOK): {"data": {"type": "pricebook", "attributes": {"name": "Mine now"}}},
        ("POST", BOOK + "/prices"): {
            "data": {"type": "product-price", "attributes": {"sku": "PLANTED", "currencies": USD}}
        },
        ("PUT", BOOK + "/prices/{price_id}"): {
            "data": {"type": "product-price", "attributes": {"currencies": USD}}
        },
        ("POST", BOOK + "/modifiers"): {
            "data": {
                "type": "price-modifier",
                "attributes": {
                    "name": "planted",
                    "modifier_type": "price_equals",
                    "currencies": USD,
                },
            }
        },
        ("PUT", BOOK + "/modifiers/{modifier_id}"): {
            "data": {"type": "price-modifier", "attributes": {"name": "Mine now"}}
        },
        ("PUT", VARIATION): {"data": {"type": "product-variation", "attributes": {"name": "Mine"}}},
        ("POST", VARIATION + "/options"): {
            "data": {"type": "product-variation-option", "attributes": {"name": "Planted"}}
        },
        ("PUT", OPTION): {"data": {"type": "product-variation-option", "attributes": {}}},
        ("POST", OPTION + "/modifiers"): {
            "data": {
                "type": "product-variation-modifier",
                "attributes": {"type": "status", "value": "live"},
            }
        },
        ("PUT", OPTION + "/modifiers/{variation_modifier_id}"): {
            "data": {"type": "product-variation-modifier", "attributes": {"value": "-XL"}}
        },
        **{
            (method, PRODUCT + "/relationships/variations"): {
                "data": [{"type": "product-variation", "id": own["variation_id"]}]
            }
            for method in ("POST", "PUT", "DELETE")
        },
        ("PUT", "/v2/integrations/{integration_id}"): {
            "data": {"type": "integration", "name": "Mine now"}
        },
    }
    body = bodies.get((endpoint.method, endpoint.path))
    if body is None and endpoint.needs_body:
        pytest.fail(f"add a valid body for {endpoint.method} {endpoint.path} to valid_body()")
    return body


def call(world: World, method: str, path: str, headers: dict[str, str], body: Any) -> Response:
    return world.http.request(method, path, headers=headers, json=body)


def answer(response: Response) -> tuple[int, Any]:
    """Status and error envelope without the request id: what the caller learns."""
    document = response.json() if response.content else None
    if isinstance(document, dict) and "errors" in document:
        for error in document["errors"]:
            error.pop("request_id", None)
    return response.status_code, document


def spellings(id_: str) -> list[str]:
    """Every form `uuid.UUID` reads as this id."""
    return [id_, id_.upper(), f"{{{id_}}}", f"urn:uuid:{id_}", id_.replace("-", "")]


def foreign_paths(
    path: str, ours: dict[str, str], theirs: dict[str, list[str]]
) -> Iterator[tuple[str, str]]:
    """(path with ids of the other store, the same path with ids that exist nowhere instead).

    Their ids go in all together, in every spelling, and one at a time beside the caller's own
    ids (its own hierarchy with their node, say).
    """
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    nowhere = {name: str(uuid.uuid4()) for name in names}
    for name in names:
        for their_id in theirs.get(name, []):
            all_theirs = {n: theirs[n][0] for n in names}
            for spelled in spellings(their_id):
                yield fill_path(path, {**all_theirs, name: spelled}), fill_path(path, nowhere)
            if len(names) > 1:
                yield (
                    fill_path(path, {**ours, name: their_id}),
                    fill_path(path, {**ours, name: nowhere[name]}),
                )


def test_no_route_reaches_anything_of_another_store(world: World) -> None:
    before = database_rows(world.engine)
    own = world.ours.first_ids()
    checked = 0
    for endpoint in world.endpoints():
        if "{" not in endpoint.path:
            continue
        method, body = endpoint.method, valid_body(endpoint, own)
        for path, twin in foreign_paths(endpoint.path, own, world.theirs.ids):
            response = call(world, method, path, world.ours.admin, body)
            unknown = answer(call(world, method, twin, world.ours.admin, body))
            assert unknown[0] == 404, (endpoint, unknown)
            assert answer(response) == unknown, (method, path, response.text)
            checked += 1
    assert checked > 100
    assert database_rows(world.engine) == before


def test_ids_of_another_store_in_a_body_are_unknown_there(world: World) -> None:
    own, theirs = world.ours.first_ids(), world.theirs.first_ids()
    node = NODE.format(**own)
    before = database_rows(world.engine)
    for path, document in [
        (
            f"{node}/relationships/products",
            {"data": [{"type": "product", "id": theirs["product_id"]}]},
        ),
        (f"{node}/relationships/parent", {"data": {"type": "node", "id": theirs["node_id"]}}),
        (
            PRODUCT.format(**own) + "/relationships/variations",
            {"data": [{"type": "product-variation", "id": theirs["variation_id"]}]},
        ),
    ]:
        method = "PUT" if path.endswith("parent") else "POST"
        response = world.http.request(method, path, json=document, headers=world.ours.admin)
        assert response.status_code == 422, response.text
    assert database_rows(world.engine) == before


def test_storefront_tokens_are_refused_on_every_admin_endpoint(world: World) -> None:
    before = database_rows(world.engine)
    own = world.ours.first_ids()
    for endpoint in world.endpoints():
        path = fill_path(endpoint.path, own)
        body = valid_body(endpoint, own) if "{" in endpoint.path else None
        response = call(world, endpoint.method, path, world.ours.storefront, body)
        assert response.status_code == 403, (endpoint, response.text)
        assert response.json()["errors"][0]["status"] == "403"
    assert database_rows(world.engine) == before


MALFORMED_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic abc",
    "bearer x.y.z",
    "Token abc",
]


def test_no_or_a_malformed_token_is_refused_on_every_admin_endpoint(world: World) -> None:
    for authorization in MALFORMED_AUTHORIZATIONS:
        headers = {} if authorization is None else {"Authorization": authorization}
        for endpoint in world.endpoints():
            path = fill_path(endpoint.path, {})
            response = world.http.request(endpoint.method, path, headers=headers)
            assert response.status_code == 401, (authorization, endpoint, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_and_every_token_of_it_stop_working(world: World) -> None:
    ours = world.ours
    assert world.http.get("/pcm/products", headers=ours.admin).status_code == 200
    with write_transaction(world.engine) as connection:
        revoke_key(connection, ours.client_id)
    for headers in (ours.admin, ours.storefront):
        for endpoint in world.endpoints():
            path = fill_path(endpoint.path, ours.first_ids())
            response = world.http.request(endpoint.method, path, headers=headers)
            assert response.status_code == 401, (endpoint, response.text)
    assert (
        exchange(world.http, "client_credentials", ours.client_id, ours.client_secret).status_code
        == 401
    )
    assert exchange(world.http, "implicit", ours.client_id).status_code == 401
    # The other store's key is untouched.
    assert world.http.get("/pcm/products", headers=world.theirs.admin).status_code == 200


def forged_tokens(world: World) -> dict[str, str]:
    ours, theirs = world.ours, world.theirs
    secret = world.http.app.state.signing_secret  # type: ignore[attr-defined]
    token = ours.admin_token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))

    def encoded(changes: dict[str, Any]) -> str:
        raw = json.dumps({**claims, **changes}).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def flipped(part: str) -> str:
        return part[:-2] + ("A" if part[-2] != "A" else "B") + part[-1]

    expired = issue_token(
        store_id=ours.store_id,
        client_id=ours.client_id,
        grant=Grant.ADMIN,
        signing_secret=secret,
        lifetime_seconds=1,
        now=utc_now() - timedelta(seconds=2),
    ).access_token
    return {
        "expired": expired,
        "header altered": f"{flipped(header)}.{payload}.{signature}",
        "payload altered": f"{header}.{flipped(payload)}.{signature}",
        "signature altered": f"{header}.{payload}.{flipped(signature)}",
        "their store, our signature": f"{header}.{encoded({'store_id': theirs.store_id})}."
        f"{signature}",
        "storefront raised to admin": ".".join(
            [*world.ours.storefront_token.split(".")[:1], encoded({}), signature]
        ),
        "never expires": f"{header}.{encoded({'exp': 2**40})}.{signature}",
        "unsigned": jwt.encode({**claims, "store_id": theirs.store_id}, None, algorithm="none"),
        "another deployment": jwt.encode(claims, "another-secret-of-32-bytes-or-more!"),
    }


def test_expired_and_altered_tokens_are_refused(world: World) -> None:
    for name, token in forged_tokens(world).items():
        for endpoint in world.endpoints():
            path = fill_path(endpoint.path, world.ours.first_ids())
            response = world.http.request(
                endpoint.method, path, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, (name, endpoint, response.text)
            assert token not in response.text


def relinked(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    path = changes.pop("path", parts.path)
    return f"{path}?{urlencode({**query, **changes})}"


def test_altered_and_expired_download_links_are_refused(world: World) -> None:
    url, their_url = world.ours.download_url, world.theirs.download_url
    secret = world.http.app.state.signing_secret  # type: ignore[attr-defined]
    parts = urlsplit(url)
    file_id, name = parts.path.split("/")[2:4]
    query = parse_qs(parts.query)
    signature, expires = query["signature"][0], int(query["expires"][0])
    past = int(time.time()) - 1
    their_file = urlsplit(their_url).path.split("/")[2]
    for bad in [
        relinked(url, signature=signature[:-1] + ("A" if signature[-1] != "A" else "B")),
        relinked(url, expires=str(expires + 1)),
        relinked(url, path=parts.path.replace(file_id, their_file)),
        relinked(url, path=parts.path.replace(name, "part_2.csv")),
        relinked(url, expires=str(past), signature=sign_download(secret, file_id, name, past)),
        relinked(url, signature=sign_download(b"another secret", file_id, name, expires)),
    ]:
        response = world.http.get(bad)
        assert response.status_code == 403, (bad, response.text)
    assert world.http.get(relinked(url)).status_code == 200


@pytest.mark.real_secret_cost
def test_the_token_endpoint_takes_as_long_for_an_unknown_client_as_for_a_wrong_secret(
    world: World,
) -> None:
    unknown: list[float] = []
    wrong: list[float] = []

    def timed(client_id: str, secret: str) -> float:
        started = time.perf_counter()
        response = exchange(world.http, "client_credentials", client_id, secret)
        elapsed = time.perf_counter() - started
        assert response.status_code == 401
        return elapsed

    # Alternated, so that a change in machine load weighs on both alike; fewer than the failures
    # a client id may have in a minute before it is throttled.
    for _ in range(9):
        unknown.append(timed(str(uuid.uuid4()), world.ours.client_secret))
        wrong.append(timed(world.ours.client_id, "not-the-secret"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, f"unknown/wrong median time ratio {ratio:.2f}"
