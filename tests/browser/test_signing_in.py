"""Signing in with an emailed link, in a real Chromium, with the email from a real SMTP
server; sessions, sign-out and CSRF."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.browser.conftest import OfflineContext, accessible_screenshot, sign_in
from tests.e2e.conftest import Server
from tests.mailserver import Mailbox

LINK = re.compile(r"https?://[^/\s]+(/sign-in/[A-Za-z0-9_-]+)")


def emailed_link(mailbox: Mailbox, address: str, after: int) -> tuple[str, str]:
    """The sign-in link of the first email to ``address`` past the ``after``-th one, and the
    email's subject."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in mailbox.messages()[after:]:
            if message["To"] == address:
                body = message.get_body(("plain",))
                assert body is not None
                found = LINK.search(body.get_content())
                assert found, body.get_content()
                return found.group(1), str(message["Subject"])
        time.sleep(0.05)
    raise AssertionError(f"no sign-in email reached {address}")


def test_a_requester_signs_in_through_the_link_a_real_mail_server_received(
    offline: OfflineContext, site: Server, site_mail: Mailbox
) -> None:
    page = offline.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Docket Support")
    accessible_screenshot(page, "sign-in")
    before = len(site_mail.messages())
    page.get_by_label("Email address").fill("rita@northwind.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    path, subject = emailed_link(site_mail, "rita@northwind.example", before)
    assert subject == "Your sign-in link to Docket Support"

    page.goto(path)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rita Requester")
    accessible_screenshot(page, "home-requester")
    cookie = next(c for c in offline.context.cookies() if c["name"] == "docket_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"

    # the link signs in once: a second person (or a scanner) who has it gets nowhere
    other = offline.new_page()
    other.context.clear_cookies()
    answer = other.goto(path)
    assert answer is not None and answer.status == 410
    expect(other.get_by_role("heading", level=1)).to_have_text("This sign-in link does not work")


def test_an_unknown_address_is_answered_as_a_known_one_and_sent_nothing(
    offline: OfflineContext, site: Server, site_mail: Mailbox
) -> None:
    page = offline.new_page()
    page.goto("/sign-in")
    before = len(site_mail.messages())
    page.get_by_label("Email address").fill("nobody@nowhere.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    unknown = page.locator("main").inner_text().replace("nobody@nowhere.example", "ADDRESS")
    page.goto("/sign-in")
    page.get_by_label("Email address").fill("tom@northwind.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    known = page.locator("main").inner_text().replace("tom@northwind.example", "ADDRESS")
    assert unknown == known
    emailed_link(site_mail, "tom@northwind.example", before)  # the known one did arrive…
    sent_to = [m["To"] for m in site_mail.messages()[before:]]
    assert "nobody@nowhere.example" not in sent_to  # …and the unknown one was sent nothing


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "requester")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rita Requester")
    # the sign-out form, posted by another site's page (or a script) without the token
    refused = page.request.post(
        site.base_url + "/sign-out", form={}, headers={"Accept": "text/html"}, max_redirects=0
    )
    assert refused.status == 403
    assert "security token" in refused.text()
    wrong = page.request.post(
        site.base_url + "/sign-out", form={"csrf": "0" * 40}, max_redirects=0
    )
    assert wrong.status == 403
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["type"].endswith("csrf-refused")
    page.goto("/")  # still signed in: nothing was changed
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rita Requester")


def test_signing_out_ends_the_session_for_good(offline: OfflineContext, site: Server) -> None:
    page = sign_in(offline, site, "agent")
    kept = [c for c in offline.context.cookies() if c["name"] == "docket_session"]
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    offline.context.add_cookies(kept)  # type: ignore[arg-type]  # the old cookie, replayed
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))


def test_a_session_cookie_is_no_api_token(offline: OfflineContext, site: Server) -> None:
    page = sign_in(offline, site, "agent")
    session = next(c for c in offline.context.cookies() if c["name"] == "docket_session")
    answer = page.request.get(
        site.base_url + "/v1/me", headers={"Authorization": f"Bearer {session['value']}"}
    )
    assert answer.status == 401


def test_the_sign_in_pages_speak_french(offline_fr: OfflineContext, site: Server) -> None:
    page = offline_fr.new_page()
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion au support Docket")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    accessible_screenshot(page, "sign-in-fr")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Docket Support")
