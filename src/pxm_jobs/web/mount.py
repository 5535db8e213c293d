"""Putting the pages into the app: /admin/, its static files, and a root page linking there."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from pxm_jobs.web import job_routes, sign_in_routes, start_routes
from pxm_jobs.web.pages import ADMIN, HERE, install_page_errors, redirect, render


def install_pages(app: FastAPI) -> None:
    install_page_errors(app)
    for pages in (sign_in_routes, job_routes, start_routes):
        app.include_router(pages.router, prefix=ADMIN)
    app.mount(f"{ADMIN}/static", StaticFiles(directory=HERE / "static"), name="admin-static")

    @app.get(ADMIN, include_in_schema=False)
    async def admin_without_slash() -> Response:
        return redirect(f"{ADMIN}/")

    @app.get("/", include_in_schema=False)
    async def service_root(request: Request) -> Response:
        return render(request, "root.html")
