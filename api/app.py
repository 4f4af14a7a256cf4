"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import pages, problems
from api.deps import text_only_url
from api.routers import (
    accounts,
    articles,
    attachments,
    audit,
    automations,
    callbacks,
    ccs,
    contact,
    dashboard,
    docs,
    feed,
    health,
    inbox,
    macros,
    mail,
    sla,
    staff,
    surveys,
    ticket_fields,
    tickets,
    tokens,
    views,
)
from api.runtime import Runtime
from api.settings import Settings
from languages import load_catalogs


class CountRequests:
    """Answers counted by method, route and status for ``/metrics`` (plain ASGI: no
    per-request task and stream the way ``@app.middleware("http")`` wraps each call)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            route = scope.get("route")
            key = (scope["method"], getattr(route, "path", "unmatched"), status)
            scope["app"].state.runtime.counts.note(key)


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    *,
    project: bool | None = None,
) -> FastAPI:
    """The API; given no ``runtime`` it starts its own (keeping the views as ``project``
    says, else as the settings do)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        load_catalogs()
        app.state.runtime = runtime or Runtime.start(settings, project=project)
        yield
        if own:
            app.state.runtime.close()

    app = FastAPI(
        title="Docket",
        version="0.1.0",
        summary="Event-sourced support tickets: file, reply, work, audit.",
        lifespan=lifespan,
        dependencies=[Depends(text_only_url)],
        docs_url=None,  # served from local assets instead (api/routers/docs.py)
        redoc_url=None,
    )
    problems.install(app)
    docs.install(app)
    app.include_router(health.router)
    app.include_router(tickets.router)
    app.include_router(ccs.router)
    app.include_router(ticket_fields.router)
    app.include_router(callbacks.router)
    app.include_router(contact.router)
    app.include_router(inbox.router)
    app.include_router(accounts.router)
    app.include_router(attachments.router)
    app.include_router(feed.router)
    app.include_router(audit.router)
    app.include_router(dashboard.router)
    app.include_router(sla.router)
    app.include_router(articles.router)
    app.include_router(articles.accounts_router)
    app.include_router(articles.dashboard_router)
    app.include_router(mail.router)
    app.include_router(tokens.router)
    app.include_router(staff.router)
    app.include_router(views.router)
    app.include_router(macros.router)
    app.include_router(automations.router)
    app.include_router(surveys.router)
    # after problems: a browser is shown its refusals as pages; after the API's routes,
    # which no page's path overlaps, so an API request is not matched against every page
    # first (each route tried costs a few microseconds)
    pages.install(app)

    app.add_middleware(CountRequests)
    app.add_middleware(
        problems.BodyLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    return app


def worker_app() -> FastAPI:
    """One API process of ``docket serve --workers N`` (uvicorn imports it by this name in
    each worker): settings from the environment the server set, and no views, which the
    server's one projection process keeps."""
    return create_app(Settings(), project=False)
