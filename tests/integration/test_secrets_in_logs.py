"""No secret ever reaches a log: client secrets, tokens, the signing secret, link signatures.

Everything is logged at DEBUG, and SQL statements too, as an operator would turn them on, while
a store is created, its keys exchanged, its data written, exported and downloaded, and while
forged, wrong and revoked credentials are refused. (SQLAlchemy's DEBUG level dumps result rows,
whatever they hold; that is a data dump, not a log, and stays off here.)
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import read_transaction, write_transaction
from pxm_jobs.store.tables import service_secrets
from pxm_jobs.tenancy.keys import revoke_key
from tests.tenants import exchange, new_tenant, seed_tenant, service_client

# The test's own HTTP client logs the URLs it calls; that is not the service talking.
CLIENT_LOGGERS = ("httpx", "httpcore")


def service_log(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(record)
        for record in caplog.records
        if not record.name.startswith(CLIENT_LOGGERS)
    )


def test_nothing_secret_is_logged(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy keeps its loggers at WARNING unless told otherwise; INFO logs each statement.
    caplog.set_level(logging.INFO, logger="sqlalchemy")
    # No configured secret: the service makes one and stores it, which must not be logged either.
    generated = settings.model_copy(update={"signing_secret": None})
    with service_client(generated, engine) as http:
        tenant = new_tenant(http, engine, "logged")
        seed_tenant(http, engine, generated, tenant)
        link = urlsplit(tenant.download_url)
        assert http.get(f"{link.path}?{link.query}").status_code == 200
        assert http.get(f"{link.path}?{link.query}x").status_code == 403
        wrong = exchange(http, "client_credentials", tenant.client_id, tenant.client_secret[:-1])
        assert wrong.status_code == 401
        forged = {"Authorization": f"Bearer {tenant.admin_token[:-2]}xx"}
        assert http.get("/pcm/products", headers=forged).status_code == 401
        with write_transaction(engine) as connection:
            revoke_key(connection, tenant.client_id)
        assert http.get("/pcm/products", headers=tenant.admin).status_code == 401
    with read_transaction(engine) as connection:
        signing_secret = connection.execute(select(service_secrets.c.value)).scalar_one()

    logged = service_log(caplog)
    assert "INSERT INTO stores" in logged, "the SQL statements were not logged"
    secrets = {
        "client secret": tenant.client_secret,
        "admin token": tenant.admin_token,
        "storefront token": tenant.storefront_token,
        "signing secret": signing_secret,
        "link signature": parse_qs(link.query)["signature"][0],
    }
    for name, secret in secrets.items():
        assert secret not in logged, f"the {name} was logged"
