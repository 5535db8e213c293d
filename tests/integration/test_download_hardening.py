"""Download links and list links: whose host they name, whose key they need, and downloads
that a deleted job does not cut short."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from pxm_jobs.app import create_app
from pxm_jobs.config import Settings
from pxm_jobs.store.blobs import CHUNK_BYTES, delete_blobs, write_blob
from pxm_jobs.store.engine import write_transaction
from pxm_jobs.tenancy.keys import revoke_key
from pxm_jobs.tenancy.links import sign_download
from pxm_jobs.tenancy.stores import StoreCredentials, create_store
from tests.integration.test_export_api import add_products, finished_export
from tests.live_server import live_server
from tests.store_client import StoreClient, store_client

SPOOFED = "attacker.example"


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def test_links_never_name_the_host_a_client_sent(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    add_products(api, 3)
    job = finished_export(api, engine, settings)
    spoofed = {"Host": SPOOFED}
    shown = api.http.get(f"/pcm/jobs/{job['id']}", headers=spoofed).json()["data"]
    listed = api.http.get("/pcm/jobs?page[limit]=1", headers=spoofed).json()
    links = [*shown["meta"]["file_locations"], *(v for v in listed["links"].values() if v)]
    assert links
    assert all(link.startswith("http://testserver/") for link in links), links


def test_links_use_the_public_url_when_one_is_set(settings: Settings, engine: Engine) -> None:
    public = settings.model_copy(update={"public_url": "https://jobs.example.com"})
    with store_client(public, engine) as client:
        listed = client.http.get("/pcm/jobs", headers={"Host": SPOOFED}).json()
    assert listed["links"]["first"].startswith("https://jobs.example.com/pcm/jobs?")


def test_a_revoked_key_ends_the_links_it_made(
    api: StoreClient, engine: Engine, settings: Settings
) -> None:
    add_products(api, 1)
    [url] = finished_export(api, engine, settings)["meta"]["file_locations"]
    assert api.http.get(url, headers={"Authorization": ""}).status_code == 200
    client_id = dict(httpx.URL(url).params)["client_id"]
    with write_transaction(engine) as connection:
        assert revoke_key(connection, client_id)
    refused = api.http.get(url, headers={"Authorization": ""})
    assert refused.status_code == 403
    assert "revoked" in refused.json()["errors"][0]["detail"]


@pytest.fixture
def store(engine: Engine) -> StoreCredentials:
    with write_transaction(engine) as connection:
        return create_store(connection, "downloads")


def big_file(engine: Engine, store_id: str, chunks: int) -> tuple[str, bytes]:
    content = b"".join(bytes([65 + n]) * CHUNK_BYTES for n in range(chunks))
    with write_transaction(engine) as connection:
        blob = write_blob(
            connection,
            store_id=store_id,
            name="part_1.csv",
            content_type="text/csv",
            chunks=[content],
        )
    return blob.id, content


def test_a_file_deleted_mid_download_still_downloads_whole(
    settings: Settings, engine: Engine, store: StoreCredentials
) -> None:
    blob_id, content = big_file(engine, store.store_id, chunks=12)
    app = create_app(settings, engine=engine, run_worker=False)
    with live_server(app, settings) as (host, port):
        # The app's signing secret is loaded at startup; sign with the one it uses.
        secret: bytes = app.state.signing_secret
        expires = int(time.time()) + 600
        signature = sign_download(secret, blob_id, "part_1.csv", expires, store.client_id)
        url = (
            f"http://{host}:{port}/downloads/{blob_id}/part_1.csv?expires={expires}"
            f"&client_id={store.client_id}&signature={signature}"
        )
        received = bytearray()
        with httpx.stream("GET", url, timeout=30) as response:
            assert response.status_code == 200
            pieces = response.iter_bytes()
            received += next(pieces)
            # Deleted as its job's deletion (or retention) deletes it, while the body streams.
            with write_transaction(engine) as connection:
                delete_blobs(connection, [blob_id])
            for piece in pieces:
                received += piece
    assert len(received) == len(content)
    assert bytes(received) == content
