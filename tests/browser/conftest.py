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

from bench.harness import sign_in_link
from tests.e2e.conftest import Server, running_server
from tests.mailserver import Mailbox, smtp_server

CHROMIUM = os.environ.get("DOCKET_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("DOCKET_ARTIFACTS", ".artifacts/browser"))
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"


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
def site_mail() -> Iterator[Mailbox]:
    """The real SMTP server (on loopback) the site mails through: sign-in links arrive here."""
    with smtp_server() as (url, mailbox):
        mailbox.url = url  # type: ignore[attr-defined]
        yield mailbox


@pytest.fixture(scope="session")
def site(database_url: str, site_mail: Mailbox) -> Iterator[Server]:
    """The server the browser tests drive, seeded with the demo desk, mailing through
    ``site_mail`` (no automation watch: no rule works the tests' tickets behind them)."""
    with running_server(
        database_url,
        DOCKET_SMTP_URL=site_mail.url,  # type: ignore[attr-defined]
        DOCKET_AUTOMATION_SWEEP_SECONDS="0",
    ) as running:
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


@pytest.fixture
def offline_fr(browser: Browser, site: Server) -> Iterator[OfflineContext]:
    """The same, for a browser that asks for French."""
    context = OfflineContext(browser, site.base_url, "fr-FR")
    yield context
    context.close()
    assert context.outside_requests == [], "pages loaded from another host"


def sign_in(context: OfflineContext, site: Server, person: str) -> Page:
    """A page of ``context`` signed in as a demo ``person`` (a role of ``docket seed-demo``:
    ``requester``, ``team_admin``, ``agent``, …) through the sign-in link the seed printed,
    as a person clicks it (a fresh link each time: a link works once)."""
    page = context.new_page()
    page.goto(sign_in_link(site, person))
    page.get_by_role("button", name=re.compile("Sign in|Se connecter")).click()
    page.wait_for_url(re.compile(r"/(\?.*)?$|/support|/console|/settings"))
    return page


def open_answered(page: Page, path: str, status: int) -> None:
    """Open ``path`` on ``page`` and check the status it was answered with: a refusal or a
    ticket not found is a page of its own, not an error of the browser."""
    answer = page.goto(path)
    assert answer is not None and answer.status == status


def sign_in_person(
    context: OfflineContext, site: Server, person_id: str, name: str, email: str
) -> Page:
    """A page of ``context`` signed in as anyone the directory knows (not only the demo's)."""
    page = context.new_page()
    page.goto(sign_in_link(site, person_id, name=name, email=email))
    page.get_by_role("button", name=re.compile("Sign in|Se connecter")).click()
    page.wait_for_url(re.compile(r"/(\?.*)?$|/support|/console|/settings"))
    return page


def serious_accessibility_violations(page: Page) -> list[str]:
    """What axe-core (vendored, injected through the DevTools protocol so the page's own
    Content-Security-Policy stays as it is) finds serious or critical on the page: each as
    ``rule: the elements``."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    return list(violations)


def accessible_screenshot(page: Page, name: str) -> Path:
    """Fail unless axe-core finds nothing serious on the page, then keep its screenshot."""
    assert serious_accessibility_violations(page) == []
    return screenshot(page, name)
