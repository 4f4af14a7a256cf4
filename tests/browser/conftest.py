"""A real headless Chromium on a real Docket server, and nothing from another host.

The browser is Debian's ``chromium`` (``make test`` installs it when it is missing and
the user is root), driven by Playwright's Python API with ``executable_path``:
Playwright's own browser download cannot work offline. ``DOCKET_CHROMIUM`` names
another binary.

Every page opens in a context that lets through only requests to the server under
test; any other request is aborted and kept in ``context.outside_requests``, which
each test's teardown asserts is empty — a page that loads anything from another host
fails its test. Screenshots go to ``DOCKET_ARTIFACTS`` (default ``.artifacts/browser``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from tests.e2e.conftest import Server, running_server

CHROMIUM = os.environ.get("DOCKET_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("DOCKET_ARTIFACTS", ".artifacts/browser"))


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium, "
            "as root; `make test` does it for you when run as root) or set DOCKET_CHROMIUM "
            "to a Chromium binary.",
            pytrace=False,
        )
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def site(database_url: str) -> Iterator[Server]:
    """The server the browser tests drive, seeded with the demo desk."""
    with running_server(database_url) as running:
        yield running


class OfflineContext:
    """A browser context that reaches the server under test and no other host."""

    def __init__(self, browser: Browser, base_url: str, locale: str) -> None:
        self.base_url = base_url
        self.origin = _origin(base_url)
        self.outside_requests: list[str] = []
        self.context: BrowserContext = browser.new_context(base_url=base_url, locale=locale)
        self.context.route(re.compile(".*"), self._only_the_server)

    def _only_the_server(self, route: Route) -> None:
        url = route.request.url
        if _origin(url) == self.origin or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside_requests.append(url)
            route.abort()

    def new_page(self) -> Page:
        return self.context.new_page()

    def close(self) -> None:
        self.context.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def offline(browser: Browser, site: Server) -> Iterator[OfflineContext]:
    """An English browser context on the site; its teardown fails the test if any page
    asked another host for anything."""
    context = OfflineContext(browser, site.base_url, "en-GB")
    yield context
    context.close()
    assert context.outside_requests == [], "pages loaded from another host"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Keep a screenshot (of the whole page, unless told) with the test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
