"""The ASGI application: routes, error envelope, request ids, body limits, embedded worker
and its webhook courier."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from pxm_jobs import __version__
from pxm_jobs.api import auth
from pxm_jobs.api import downloads as downloads_api
from pxm_jobs.api import metrics as metrics_api
from pxm_jobs.api.access_log import install_access_log_redaction
from pxm_jobs.api.body_limit import BodyLimitMiddleware
from pxm_jobs.api.common_schemas import ADMIN_ERRORS
from pxm_jobs.api.errors import install_error_handlers
from pxm_jobs.api.hierarchies import hierarchy_routes, node_product_routes, node_routes
from pxm_jobs.api.integrations import routes as integration_routes
from pxm_jobs.api.integrations.payloads import job_payload_renderer
from pxm_jobs.api.jobs import routes as job_routes
from pxm_jobs.api.openapi import install_openapi
from pxm_jobs.api.pricebooks import (
    import_routes,
    modifier_routes,
    price_routes,
    pricebook_routes,
)
from pxm_jobs.api.products import build_routes as product_build_routes
from pxm_jobs.api.products import relationship_routes as product_relationship_routes
from pxm_jobs.api.products import routes as product_routes
from pxm_jobs.api.products import tag_routes
from pxm_jobs.api.request_head import RequestHeadLimitMiddleware
from pxm_jobs.api.request_id import RequestIdMiddleware
from pxm_jobs.api.token_guard import TokenGuard
from pxm_jobs.api.token_throttle import TokenThrottleMiddleware
from pxm_jobs.api.variations import modifier_routes as variation_modifier_routes
from pxm_jobs.api.variations import option_routes as variation_option_routes
from pxm_jobs.api.variations import product_routes as product_variation_routes
from pxm_jobs.api.variations import variation_routes
from pxm_jobs.config import Settings
from pxm_jobs.jobs import RUNNERS
from pxm_jobs.queue.status_watch import StatusWatch
from pxm_jobs.queue.worker import Worker
from pxm_jobs.store.engine import make_engine, write_transaction
from pxm_jobs.tenancy.signing import load_signing_secret
from pxm_jobs.web.mount import install_pages
from pxm_jobs.webhooks.courier import Courier

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
        courier = None
        if worker is not None:
            worker.start()
            renderer = job_payload_renderer(settings, app.state.signing_secret, engine)
            courier = Courier(engine, settings, renderer)
            courier.start()
        app.state.worker = worker
        try:
            yield
        finally:
            app.state.token_guard.close()
            app.state.status_watch.stop()
            if worker is not None:
                worker.stop()
            if courier is not None:
                courier.stop()

    app = FastAPI(
        title="pxm-jobs",
        version=__version__,
        summary="Bulk jobs for product catalogs, wire-compatible with the Elastic Path PXM API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    # What `?wait=N` requests wait on; on PostgreSQL it listens once someone waits.
    app.state.status_watch = StatusWatch(engine)
    app.state.token_guard = TokenGuard(settings)
    install_error_handlers(app)
    install_openapi(app, settings)
    install_access_log_redaction()
    app.include_router(auth.router)
    app.include_router(job_routes.router, prefix="/pcm/jobs", responses=ADMIN_ERRORS)
    # The public docs' examples spell it in the singular; serve both, document one.
    app.include_router(job_routes.router, prefix="/pcm/job", include_in_schema=False)
    app.include_router(product_routes.router, prefix="/pcm/products", responses=ADMIN_ERRORS)
    app.include_router(
        product_relationship_routes.router, prefix="/pcm/products", responses=ADMIN_ERRORS
    )
    app.include_router(product_build_routes.router, prefix="/pcm/products", responses=ADMIN_ERRORS)
    app.include_router(
        product_variation_routes.router, prefix="/pcm/products", responses=ADMIN_ERRORS
    )
    app.include_router(tag_routes.router, prefix="/pcm/tags", responses=ADMIN_ERRORS)
    for variations in (variation_routes, variation_option_routes, variation_modifier_routes):
        app.include_router(variations.router, prefix="/pcm/variations", responses=ADMIN_ERRORS)
    # Outside /pcm: a signed link, not a bearer token, lets its holder download the file.
    app.include_router(downloads_api.router)
    # Outside /pcm and without a token, as scrapers expect; it names no store.
    app.include_router(metrics_api.router)
    for catalog in (hierarchy_routes, node_routes, node_product_routes):
        app.include_router(catalog.router, prefix="/pcm/hierarchies", responses=ADMIN_ERRORS)
    # `/import` and `/prices` before `/{pricebook_id}`, which would take them for ids.
    for pricing in (import_routes, price_routes, pricebook_routes, modifier_routes):
        app.include_router(pricing.router, prefix="/pcm/pricebooks", responses=ADMIN_ERRORS)
    # The jobs pages: a client of the routes above, called in process with the session's token.
    install_pages(app)
    # Elastic Path serves its Integrations API under /v2, beside the catalog's /pcm.
    app.include_router(integration_routes.router, prefix="/v2/integrations", responses=ADMIN_ERRORS)
    # Added last so they run first: every answer, even a refused body, carries a request id.
    app.add_middleware(
        BodyLimitMiddleware,
        json_max_bytes=settings.json_body_max_bytes,
        upload_max_bytes=settings.import_max_bytes,
        drain_max_bytes=settings.http_drain_max_bytes,
    )
    app.add_middleware(
        RequestHeadLimitMiddleware,
        line_max_bytes=settings.http_request_line_max_bytes,
        header_max_count=settings.http_header_max_count,
    )
    # A flood of wrong secrets is mostly refused here, before any of the framework's work.
    app.add_middleware(TokenThrottleMiddleware, guard=app.state.token_guard)
    app.add_middleware(RequestIdMiddleware)
    return app
