"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from api import problems
from api.routers import (
    accounts,
    articles,
    attachments,
    audit,
    callbacks,
    dashboard,
    feed,
    health,
    inbox,
    mail,
    sla,
    tickets,
)
from api.runtime import Runtime
from api.settings import Settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or Runtime.start(settings)
        yield
        if own:
            app.state.runtime.close()

    app = FastAPI(
        title="Docket",
        version="0.1.0",
        summary="Event-sourced support tickets: file, reply, work, audit.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(tickets.router)
    app.include_router(callbacks.router)
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

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        key = (request.method, path, response.status_code)
        counters = request.app.state.runtime.counters
        counters[key] = counters.get(key, 0) + 1
        return response

    app.add_middleware(
        problems.BodyLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_attachment_bytes + 64 * 1024,
    )
    return app
