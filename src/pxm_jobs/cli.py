"""The `pxm-jobs` command: serve the API, run workers, migrate, and manage stores and keys."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Annotated

import typer
import uvicorn
from prometheus_client import start_http_server
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import make_engine, read_transaction, write_transaction
from pxm_jobs.store.migrate import upgrade_database
from pxm_jobs.tenancy.errors import TenancyError
from pxm_jobs.tenancy.keys import revoke_key
from pxm_jobs.tenancy.signing import load_signing_secret
from pxm_jobs.tenancy.stores import count_stores, create_store, ensure_store_with_keys, list_stores
from pxm_jobs.webhooks.courier import Courier

app = typer.Typer(help="Bulk jobs for product catalogs, wire-compatible with Elastic Path PXM.")
stores_app = typer.Typer(help="Create and list stores.")
keys_app = typer.Typer(help="Manage API keys.")
app.add_typer(stores_app, name="stores")
app.add_typer(keys_app, name="keys")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _migrated_engine(settings: Settings, *, ping_on_checkout: bool = True) -> Engine:
    engine = make_engine(settings, ping_on_checkout=ping_on_checkout)
    upgrade_database(engine)
    return engine


def _ensure_a_store(engine: Engine, settings: Settings) -> None:
    """Make sure someone can log in: the bootstrap keys if given, else a first store."""
    if settings.bootstrap_client_id and settings.bootstrap_client_secret:
        with write_transaction(engine) as connection:
            ensure_store_with_keys(
                connection, settings.bootstrap_client_id, settings.bootstrap_client_secret
            )
        return
    with write_transaction(engine) as connection:
        if count_stores(connection) > 0:
            return
        credentials = create_store(connection, "default")
    # Shown once: the secret is kept only as a hash from here on.
    typer.echo(
        "\n".join(
            [
                "",
                "No store existed, so one was created. Keep these keys: the secret is shown once.",
                f"  store_id:      {credentials.store_id}",
                f"  client_id:     {credentials.client_id}",
                f"  client_secret: {credentials.client_secret}",
                "",
            ]
        )
    )


@app.command()
def serve(
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve the API only; run workers elsewhere.")
    ] = False,
) -> None:
    """Serve the HTTP API on PXM_HOST:PXM_PORT, with an embedded worker unless --no-worker."""
    from pxm_jobs.app import create_app

    _configure_logging()
    settings = Settings()
    engine = _migrated_engine(settings)
    _ensure_a_store(engine, settings)
    application = create_app(settings, engine=engine, run_worker=not no_worker)
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command()
def worker() -> None:
    """Run jobs and deliver webhooks until SIGTERM or SIGINT; a running job gets the grace
    period to finish."""
    _configure_logging()
    settings = Settings()
    engine = _migrated_engine(settings, ping_on_checkout=False)
    runner = Worker(engine, settings, RUNNERS)
    if settings.worker_metrics_port is not None:
        # The worker's job timings; the queue's gauges are on the API's /metrics.
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner.start()
    # Made once jobs run: what it imports to render job documents does not delay them.
    courier = _courier(engine, settings)
    courier.start()
    stop.wait()
    finished = runner.stop()
    courier.stop()
    sys.exit(0 if finished else 1)


def _courier(engine: Engine, settings: Settings) -> Courier:
    """The worker's webhook deliveries; their job documents are the Jobs API's."""
    from pxm_jobs.api.integrations.payloads import job_payload_renderer

    with write_transaction(engine) as connection:
        signing_secret = load_signing_secret(connection, settings.signing_secret)
    return Courier(engine, settings, job_payload_renderer(settings, signing_secret))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    _migrated_engine(Settings())
    typer.echo("database is up to date")


@stores_app.command("create")
def stores_create(name: str) -> None:
    """Create a store; prints one JSON object with store_id, client_id and client_secret."""
    engine = _migrated_engine(Settings())
    with write_transaction(engine) as connection:
        credentials = create_store(connection, name)
    typer.echo(
        json.dumps(
            {
                "store_id": credentials.store_id,
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            }
        )
    )


@stores_app.command("list")
def stores_list() -> None:
    """List stores, one JSON object a line."""
    engine = _migrated_engine(Settings())
    with read_transaction(engine) as connection:
        summaries = list_stores(connection)
    for store in summaries:
        typer.echo(
            json.dumps(
                {
                    "store_id": store.id,
                    "name": store.name,
                    "created_at": store.created_at.isoformat(),
                    "client_ids": list(store.client_ids),
                }
            )
        )


@keys_app.command("revoke")
def keys_revoke(client_id: str) -> None:
    """Revoke an API key: its tokens stop working at once."""
    engine = _migrated_engine(Settings())
    try:
        with write_transaction(engine) as connection:
            revoked = revoke_key(connection, client_id)
    except TenancyError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(2) from None
    if not revoked:
        typer.echo(f"no API key with client_id {client_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {client_id}")
