"""The `pxm-jobs` command: serve the API, run workers, migrate, manage stores and keys; and the
client commands that drive a running service over HTTP (`pxm_jobs.client`)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pxm_jobs.client.commands import install_client_commands

# The service's layers are imported by the commands that use them: the client commands start
# without loading the database drivers, the web framework or the job modules.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pxm_jobs.config import Settings
    from pxm_jobs.queue.models import Job
    from pxm_jobs.webhooks.courier import Courier

app = typer.Typer(help="Bulk jobs for product catalogs, wire-compatible with Elastic Path PXM.")
stores_app = typer.Typer(help="Create and list stores.")
keys_app = typer.Typer(help="Manage API keys.")
app.add_typer(stores_app, name="stores")
app.add_typer(keys_app, name="keys")
# Commands that talk to a running service over HTTP, from anywhere: import, export, jobs, ...
install_client_commands(app)


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


# Exit status of a process stopped because its SQLite file was deleted or replaced.
EXIT_DATABASE_REPLACED = 3
_database_replaced = threading.Event()
# How to stop this process's command as SIGTERM would, once it is running.
_stop_command: list[Callable[[], None]] = []


def _migrated_engine(settings: Settings, *, ping_on_checkout: bool = True) -> Engine:
    from pxm_jobs.store.engine import file_identity, make_engine
    from pxm_jobs.store.migrate import upgrade_database

    engine = make_engine(settings, ping_on_checkout=ping_on_checkout)
    identity = file_identity(engine)
    if identity is not None:
        identity.on_replaced = _stop_on_replaced_database
    upgrade_database(engine)
    return engine


def _stop_on_replaced_database(message: str) -> None:
    """Stop this process as SIGTERM would: writing on would lose every write it acknowledged."""
    _database_replaced.set()
    typer.echo(f"pxm-jobs: {message}; stopping", err=True)
    for stop in _stop_command:
        stop()


def _exit_if_database_replaced() -> None:
    if _database_replaced.is_set():
        sys.exit(EXIT_DATABASE_REPLACED)


def _ensure_a_store(engine: Engine, settings: Settings) -> None:
    """Make sure someone can log in: the bootstrap keys if given, else a first store."""
    from pxm_jobs.store.engine import write_transaction
    from pxm_jobs.tenancy.stores import count_stores, create_store, ensure_store_with_keys

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
    from pxm_jobs.config import Settings
    from pxm_jobs.http_server import serve_http

    _configure_logging()
    settings = Settings()
    engine = _migrated_engine(settings)
    _ensure_a_store(engine, settings)
    application = create_app(settings, engine=engine, run_worker=not no_worker)
    serve_http(
        application,
        settings,
        on_start=lambda server: _stop_command.append(lambda: setattr(server, "should_exit", True)),
    )
    _exit_if_database_replaced()


@app.command()
def worker() -> None:
    """Run jobs and deliver webhooks until SIGTERM or SIGINT; a running job gets the grace
    period to finish."""
    from prometheus_client import start_http_server

    from pxm_jobs.config import Settings
    from pxm_jobs.jobs import RUNNERS
    from pxm_jobs.queue.worker import Worker

    _configure_logging()
    settings = Settings()
    engine = _migrated_engine(settings, ping_on_checkout=False)
    runner = Worker(engine, settings, RUNNERS)
    if settings.worker_metrics_port is not None:
        # The worker's job timings; the queue's gauges are on the API's /metrics.
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    stop = threading.Event()
    _stop_command.append(stop.set)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner.start()
    # Made once jobs run: what it imports to render job documents does not delay them.
    courier = _courier(engine, settings)
    courier.start()
    stop.wait()
    finished = runner.stop()
    courier.stop()
    _exit_if_database_replaced()
    sys.exit(0 if finished else 1)


def _courier(engine: Engine, settings: Settings) -> Courier:
    """The worker's webhook deliveries; their job documents are the Jobs API's."""
    from pxm_jobs.store.engine import write_transaction
    from pxm_jobs.tenancy.signing import load_signing_secret
    from pxm_jobs.webhooks.courier import Courier

    with write_transaction(engine) as connection:
        signing_secret = load_signing_secret(connection, settings.signing_secret)

    def render_payload(job: Job) -> dict[str, Any]:
        # The Jobs API's rendering loads the web framework (a third of a second of CPU, taken
        # from the jobs running meanwhile): loaded at the first event to deliver, so a worker
        # whose stores observe no events never loads it.
        from pxm_jobs.api.integrations.payloads import job_payload_renderer

        return job_payload_renderer(settings, signing_secret, engine)(job)

    return Courier(engine, settings, render_payload)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from pxm_jobs.config import Settings

    _migrated_engine(Settings())
    typer.echo("database is up to date")


@stores_app.command("create")
def stores_create(name: str) -> None:
    """Create a store; prints one JSON object with store_id, client_id and client_secret."""
    from pxm_jobs.config import Settings
    from pxm_jobs.store.engine import write_transaction
    from pxm_jobs.tenancy.stores import create_store

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
    from pxm_jobs.config import Settings
    from pxm_jobs.store.engine import read_transaction
    from pxm_jobs.tenancy.stores import list_stores

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
    from pxm_jobs.config import Settings
    from pxm_jobs.store.engine import write_transaction
    from pxm_jobs.tenancy.errors import TenancyError
    from pxm_jobs.tenancy.keys import revoke_key

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
