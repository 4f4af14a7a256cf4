"""``/docs`` (Swagger UI) and ``/redoc`` from Docket's own copies of their assets.

Nothing is loaded from another host, so the pages work on a machine without internet.
The assets are vendored, pinned copies from the npm registry, each with its licence, in
``api/static/vendor/<package>-<version>/`` (README.md there says which and whence); a
version in the path lets them be cached for a year.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_URL = "/static"
SWAGGER_UI = f"{STATIC_URL}/vendor/swagger-ui-dist-5.35.0"
REDOC = f"{STATIC_URL}/vendor/redoc-2.5.4"
FAVICON = f"{SWAGGER_UI}/favicon-32x32.png"
CACHE_FOR_A_YEAR = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


class VersionedStaticFiles(StaticFiles):
    """Static files whose paths name their version: cached by browsers for a year."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_FOR_A_YEAR
        return response


SAME_HOST_ONLY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
"""What the two pages may load: from Docket alone. ReDoc's bundle names its logo on a CDN
(the sidebar's "powered by"): the browser does not even ask for it."""


def docs_page(render: Callable[..., HTMLResponse], **assets: Any) -> HTMLResponse:
    """One of the two pages of Docket's API, ``render``-ed from Docket's own ``assets``:
    it may load nothing from another host."""
    page = render(openapi_url="/openapi.json", title="Docket API", **assets)
    page.headers["Content-Security-Policy"] = SAME_HOST_ONLY
    return page


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return docs_page(
        get_swagger_ui_html,
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        # no badge fetched from the public validator: nothing leaves the machine
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return docs_page(
        get_redoc_html,
        redoc_js_url=f"{REDOC}/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )


BEARER = "bearerToken"
"""The name of the API token's security scheme in ``/openapi.json``."""


def with_bearer_tokens(app: FastAPI) -> None:
    """The API token as the schema's security scheme, not as a header parameter of each
    operation: Swagger UI's *Authorize* then takes the token once for every request it
    tries, and a client generator knows which operations need it. The routes read the
    header themselves (one dependency of theirs, :func:`api.deps.principal_of`), so this
    changes the document only, and costs no request anything."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = plain()
        schema.setdefault("components", {})["securitySchemes"] = {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token, from `docket tokens issue` or `POST /v1/tokens`.",
            }
        }
        for operations in schema["paths"].values():
            for operation in operations.values():
                parameters = operation.get("parameters", [])
                kept = [
                    p for p in parameters
                    if not (p["in"] == "header" and p["name"].lower() == "authorization")
                ]  # fmt: skip
                if len(kept) < len(parameters):
                    operation["security"] = [{BEARER: []}]
                    if kept:
                        operation["parameters"] = kept
                    else:
                        del operation["parameters"]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """The two pages, the assets under ``/static``, and the token's scheme in the schema."""
    with_bearer_tokens(app)
    app.include_router(router)
    app.mount(STATIC_URL, VersionedStaticFiles(directory=STATIC_DIR), name="static")
