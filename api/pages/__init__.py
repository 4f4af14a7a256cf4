"""The pages people use in a browser: the customers' support portal and the staff's
console, served by the same app over the same desk and views as the API.

Every page is a route here that parses its form, asks the role matrix (``desk/access.py``,
the same keys as the API's endpoints), calls the desk or reads a view, and renders a
template (``api/pages/templating.py``); no page reads an aggregate and no rule is written
twice. Who is looking, in which language, and CSRF: ``api/pages/visitors.py``. Signing in
with an emailed link: ``api/pages/sign_in.py``.

A refusal on a page (a ticket one may not see, a form posted without its CSRF token, a
page that is not there) is an HTML page with the same status, title and detail the API
would answer in ``application/problem+json``, in the reader's language; a program that
does not ask for HTML (no ``text/html`` in ``Accept``) gets the problem document itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.pages import (
    account,
    console,
    contact,
    home,
    insight,
    portal,
    settings,
    sign_in,
    views,
)
from api.pages.templating import page
from api.pages.visitors import CsrfRefused, SignInNeeded, Visitor, chosen_language, sign_in_path
from api.problems import problem
from domain.messages import Msg
from languages import known

ROUTERS = [
    sign_in.router,
    home.router,
    insight.router,
    account.router,
    settings.router,
    portal.router,
    contact.router,
    views.router,
    console.router,
]
"""Every router of pages, in the order they are included."""

API_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/static/", "/healthz", "/metrics")

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class CompressPages:
    """Pages, their assets and ``/docs`` gzip-compressed for a browser that accepts it
    (Starlette's pure-ASGI ``GZipMiddleware``, which leaves server-sent events alone); the
    API's JSON is sent as it is: its answers are small, and its CPU is the budget."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/v1/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not htmx fetching a fragment)."""
    path = request.url.path
    if path.startswith(API_PREFIXES) or request.headers.get("hx-request"):
        return False
    return "text/html" in request.headers.get("accept", "")


def refusal_page(request: Request, answer: Response) -> Response:
    """The problem document ``answer`` as a page, same status, title and detail."""
    body: dict[str, Any] = json.loads(bytes(answer.body))
    language = known(answer.headers.get("content-language")) or chosen_language(request)
    visitor = getattr(request.state, "visitor", None) or Visitor(None, language, None, "")
    shown = page(
        request,
        visitor,
        "refusal.html",
        {"problem": body},
        status_code=answer.status_code,
    )
    for name in ("retry-after", "www-authenticate"):
        if name in answer.headers:
            shown.headers[name] = answer.headers[name]
    return shown


def as_pages(handler: Handler) -> Handler:
    async def handle(request: Request, error: Any) -> Response:
        answer = handler(request, error)
        if not isinstance(answer, Response):
            answer = await answer
        if wants_page(request) and answer.media_type == "application/problem+json":
            return refusal_page(request, answer)
        return answer

    return handle


def install(app: FastAPI) -> None:
    """The pages' routes, and refusals shown as pages to browsers (after
    ``problems.install``, whose handlers it wraps)."""
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(CompressPages)
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = as_pages(handler)

    @app.exception_handler(SignInNeeded)
    def on_sign_in_needed(request: Request, error: SignInNeeded) -> Response:
        if not wants_page(request):
            return problem(
                401,
                "sign-in-needed",
                Msg("Sign in first: open /sign-in in your browser."),
                language=chosen_language(request),
            )
        return RedirectResponse(sign_in_path(error.next_path), status_code=303)

    @app.exception_handler(CsrfRefused)
    async def on_csrf_refused(request: Request, error: CsrfRefused) -> Response:
        answer = problem(
            403,
            "csrf-refused",
            Msg(
                "This form was sent without its security token, or with an old one; nothing "
                "was changed. Reload the page and send the form again."
            ),
            language=getattr(request.state, "language", None) or chosen_language(request),
        )
        return refusal_page(request, answer) if wants_page(request) else answer
