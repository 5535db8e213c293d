"""What a running service writes to its log holds no secret: not the client secret it was
started with, not a token, not the signature that makes a download link a credential."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.acceptance.conftest import Service
from tests.acceptance.service import CLIENT_ID, CLIENT_SECRET

CSV = b"name,sku,commodity_type\nBoot,BOOT-1,physical\n"


def test_the_server_log_holds_no_secret(service: Service) -> None:
    client = service.client
    token = str(client.http.headers["Authorization"]).removeprefix("Bearer ")
    imported = client.import_csv(CSV).json()["data"]["id"]
    assert client.wait_for_job(imported)["attributes"]["status"] == "success"
    export = client.http.post("/pcm/products/export").json()["data"]["id"]
    [url] = client.wait_for_job(export)["meta"]["file_locations"]
    with httpx.Client(timeout=30) as anonymous:
        assert anonymous.get(url).status_code == 200
        assert anonymous.get(url + "x").status_code == 403
        wrong = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
        wrong["client_secret"] = CLIENT_SECRET + "x"
        assert (
            anonymous.post(f"{service.base_url}/oauth/access_token", data=wrong).status_code == 401
        )
        forged = {"Authorization": f"Bearer {token}x"}
        assert anonymous.get(f"{service.base_url}/pcm/jobs", headers=forged).status_code == 401

    log = "\n".join(path.read_text() for path in sorted(service.directory.glob("*.log")))
    assert "GET /pcm/jobs" in log, "the access log is missing, so nothing was checked"
    assert "&signature=[redacted]" in log
    secrets = {
        "client secret": CLIENT_SECRET,
        "token": token,
        "link signature": parse_qs(urlsplit(url).query)["signature"][0],
    }
    for name, secret in secrets.items():
        assert secret not in log, f"the {name} was logged"
