"""The ASGI application: routes, error envelope, request ids, body limits, embedded worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from pxm_jobs import __version__
from pxm_jobs.api import auth, hierarchies, jobs, node_products, nodes, products
from pxm_jobs.api import downloads as downloads_api
from pxm_jobs.api.body_limit import BodyLimitMiddleware
from pxm_jobs.api.errors import install_error_handlers
from pxm_jobs.api.request_id import RequestIdMiddleware
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import make_engine, write_transaction
from pxm_jobs.tenancy.signing import load_signing_secret

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, engine: Engine | None = None, run_worker: bool = True
) -> FastAPI:
    """The service as one ASGI app; with `run_worker`, jobs also run inside this process."""
    engine = engine or make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with write_transaction(engine) as connection:
            app.state.signing_secret = load_signing_secret(connection, settings.signing_secret)
        worker = Worker(engine, settings, RUNNERS) if run_worker else None
        if worker is not None:
            worker.start()
        app.state.worker = worker
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="pxm-jobs",
        version=__version__,
        summary="Bulk jobs for product catalogs, wire-compatible with the Elastic Path PXM API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    install_error_handlers(app)
    app.include_router(auth.router)
    app.include_router(jobs.router, prefix="/pcm/jobs")
    # The public docs' examples spell it in the singular; serve both, document one.
    app.include_router(jobs.router, prefix="/pcm/job", include_in_schema=False)
    app.include_router(products.router, prefix="/pcm/products")
    # Outside /pcm: a signed link, not a bearer token, lets its holder download the file.
    app.include_router(downloads_api.router)
    app.include_router(hierarchies.router, prefix="/pcm/hierarchies")
    app.include_router(nodes.router, prefix="/pcm/hierarchies")
    app.include_router(node_products.router, prefix="/pcm/hierarchies")
    # Added last so they run first: every answer, even a refused body, carries a request id.
    app.add_middleware(
        BodyLimitMiddleware,
        json_max_bytes=settings.json_body_max_bytes,
        upload_max_bytes=settings.import_max_bytes,
    )
    app.add_middleware(RequestIdMiddleware)
    return app
