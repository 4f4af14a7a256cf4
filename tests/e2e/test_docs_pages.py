"""``/docs`` and ``/redoc`` are served entirely by Docket: the pages, and every asset they
reference, from Docket's own vendored copies; nothing from another host."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import Server

REFERENCED = re.compile(
    r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|(?:url|openapi_url)\s*:\s*["']([^"']+)["']"""
)
"""What a page loads: ``src=``/``href=`` attributes and the URLs its script passes on."""
ANY_URL = re.compile(r"""https?://[^\s"'<>)]+""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_page_and_every_asset_it_loads_come_from_docket(
    server: Server, page: str
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        html = c.get(page)
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        foreign = [u for u in ANY_URL.findall(html.text) if not u.startswith(server.base_url)]
        assert foreign == [], "the page names another host"
        assets = {a or b for a, b in REFERENCED.findall(html.text)}
        assert "/openapi.json" in assets
        scripts = [a for a in assets if a.endswith(".js")]
        assert scripts, "the page loads its script"
        for asset in sorted(assets):
            assert asset.startswith("/"), asset
            got = c.get(asset)
            assert got.status_code == 200, asset
            assert got.content, asset
            if asset.startswith("/static/"):
                assert "max-age=31536000" in got.headers["cache-control"]


def test_the_vendored_assets_carry_their_licences(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        for licence in (
            "/static/vendor/swagger-ui-dist-5.35.0/LICENSE",
            "/static/vendor/redoc-2.5.4/LICENSE",
        ):
            assert c.get(licence).status_code == 200
        assert c.get("/static/vendor/none-1.0/x.js").status_code == 404


def test_the_schema_names_the_api_token_once_as_its_security_scheme(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        schema = c.get("/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["bearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    as_header = [
        key for key, operation in operations.items()
        if any(p["name"].lower() == "authorization" for p in operation.get("parameters", []))
    ]  # fmt: skip
    assert as_header == []
    assert operations["POST", "/v1/tickets"]["security"] == [{"bearerToken": []}]
    assert operations["GET", "/v1/tickets/{ticket}"]["security"] == [{"bearerToken": []}]
    open_to_all = sorted(
        key for key, operation in operations.items() if "security" not in operation
    )
    assert open_to_all == [
        ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/v1/surveys/{token}"),
        ("POST", "/v1/contact"), ("POST", "/v1/surveys/{token}"),
    ]  # fmt: skip
    with httpx.Client(base_url=server.base_url, timeout=30) as c:  # and the routes still ask
        assert c.post("/v1/tickets", json={"subject": "s", "description": "d"}).status_code == 401
