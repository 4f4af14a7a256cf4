"""The account pages in a real Chromium: team tickets and the subscription (team admins,
not plain members), a callback asked for with a number alone or a window too, and the
settings (language and time zone) taking effect on the next page.

The ``site`` is shared by every browser test: each test files its own tickets, and a
test that changes a person's settings puts them back in a ``finally``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from playwright.sync_api import Page, expect

from tests.browser.conftest import OfflineContext, accessible_screenshot, screenshot, sign_in
from tests.e2e.conftest import Server, created

NUMBER = re.compile(r"T-[0-9]{6,}")


def file_as(site: Server, role: str, subject: str) -> dict[str, Any]:
    body = {"subject": subject, "description": "Details."}
    with site.client(role) as client:
        return created(client.post("/v1/tickets", json=body))


def reload_until(page: Page, path: str, text: str, seconds: float = 10) -> None:
    """Open ``path`` again until it shows ``text`` (a view catching up with a write)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(path)
        if text in page.locator("main").inner_text() or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(page.locator("main")).to_contain_text(text)


@contextmanager
def settings_restored(site: Server, role: str) -> Iterator[None]:
    """Whatever the test chooses, the person reads English in UTC afterwards (the site is
    shared by every browser test)."""
    try:
        yield
    finally:
        with site.client(role) as client:
            back = client.patch("/v1/me/preferences", json={"language": "en", "time_zone": "UTC"})
        assert back.status_code in (200, 409), back.text


def test_a_team_admin_sees_team_tickets_with_who_filed_and_who_answered_as_collaborator(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_as(site, "requester", "Team page: the shared drive is read-only")
    with site.client("team_admin") as admin:
        answered = admin.post(
            f"/v1/tickets/{filed['number']}/messages",
            json={"body": "I see it too."},
            params={"min_position": filed["position"]},
        )
    assert answered.status_code == 200, answered.text
    page = sign_in(offline, site, "team_admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team tickets")
    reload_until(page, "/support/team", filed["number"])
    row = page.get_by_role("row").filter(has_text=filed["number"])
    expect(row.locator(".filed-by")).to_have_text("Rita Requester")
    expect(row.locator(".collaborators")).to_contain_text("Tom Teamadmin")
    expect(row.get_by_role("link", name=filed["number"])).to_have_attribute(
        "href", f"/support/tickets/{filed['number']}"
    )
    accessible_screenshot(page, "team-tickets")
    page.get_by_role("link", name="All").click()
    expect(page.get_by_role("link", name="All")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Closed").click()
    expect(page.locator("main")).not_to_contain_text(filed["number"])

    page.get_by_role("link", name="Subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription of Northwind Traders")
    facts = page.locator("dl.subscription-facts")
    expect(facts.locator(".plan")).to_have_text("Business")
    expect(facts.locator(".seats")).to_have_text(re.compile(r"^\d+ of 25 used$"))
    expect(facts.locator(".renewal")).to_have_text(re.compile(r"\d{4}"))
    add_ons = page.locator("table.add-ons")
    expect(add_ons.get_by_role("row").filter(has_text="Files")).to_contain_text("Enhanced")
    expect(add_ons.get_by_role("row").filter(has_text="Files")).to_contain_text("60 minutes")
    accessible_screenshot(page, "subscription")


def test_a_plain_member_sees_neither_team_tickets_nor_the_subscription(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "requester")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My tickets")).to_be_visible()
    expect(nav.get_by_role("link", name="Team tickets")).to_have_count(0)
    expect(page.get_by_role("link", name="Subscription")).to_have_count(0)
    team = page.goto("/support/team")
    assert team is not None and team.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("not allowed|Forbidden"))
    screenshot(page, "team-tickets-refused")
    # the subscription answers as the API does: as if the account were not there
    with site.client("requester") as member:
        api = member.get(f"/v1/accounts/{site.tokens['accounts']['northwind']}/subscription")
    shown = page.goto("/support/subscription")
    assert shown is not None and shown.status == api.status_code == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(api.json()["title"])


def test_a_callback_asked_with_a_phone_number_alone_gives_a_ticket_number(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "requester")
    page.goto("/support/callback")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a callback")
    accessible_screenshot(page, "callback")
    page.get_by_label("Phone number").fill("+33 6 12")
    page.get_by_role("button", name="Call me back").click()
    expect(page.locator("#phone-error")).to_contain_text("E.164")  # kept, and told why
    expect(page.get_by_label("Phone number")).to_have_value("+33 6 12")
    expect(page.get_by_label("Phone number")).to_have_attribute("aria-invalid", "true")
    accessible_screenshot(page, "callback-refused")
    page.get_by_label("Phone number").fill("+33 6 12 34 56 78")  # as people write it
    page.get_by_role("button", name="Call me back").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your callback is requested")
    status = page.get_by_role("status")
    expect(status).to_contain_text("when the next representative is free")
    number = NUMBER.search(status.inner_text())
    assert number is not None
    accessible_screenshot(page, "callback-requested")
    with site.client("requester") as member:
        detail = member.get(f"/v1/tickets/{number.group(0)}")
        for _ in range(50):
            if detail.status_code == 200:
                break
            time.sleep(0.1)
            detail = member.get(f"/v1/tickets/{number.group(0)}")
    callback = detail.json()["callback"]
    assert (callback["phone"], callback["window_start"], callback["window_end"]) == (
        "+33612345678",
        None,
        None,
    )


def test_a_callback_window_is_read_in_the_person_time_zone(
    offline: OfflineContext, site: Server
) -> None:
    with settings_restored(site, "requester"):
        with site.client("requester") as member:
            chose = member.patch("/v1/me/preferences", json={"time_zone": "America/New_York"})
        assert chose.status_code in (200, 409), chose.text
        page = sign_in(offline, site, "requester")
        page.goto("/support/callback")
        expect(page.locator("#window-hint")).to_contain_text("America/New_York")
        page.get_by_label("Phone number").fill("+14155552671")
        new_york = ZoneInfo("America/New_York")
        start = (datetime.now(new_york) + timedelta(hours=2)).replace(second=0, microsecond=0)
        local = start.replace(tzinfo=None)
        page.get_by_label("From").fill(local.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Until").fill((local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Call me back").click()
        status = page.get_by_role("status")
        number = NUMBER.search(status.inner_text())
        assert number is not None
        with site.client("requester") as member:
            detail = member.get(f"/v1/tickets/{number.group(0)}")
        callback = detail.json()["callback"]
        asked = datetime.fromisoformat(callback["window_start"])
        assert asked == start
        assert callback["time_zone"] == "America/New_York"


def test_settings_in_french_turn_the_pages_french_at_once(
    offline: OfflineContext, site: Server
) -> None:
    with settings_restored(site, "requester_other_account"):
        page = sign_in(offline, site, "requester_other_account")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
        accessible_screenshot(page, "settings")
        page.get_by_label("Français").check()
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Paramètres")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("status")).to_have_text("Vos réglages sont enregistrés.")
        expect(page.get_by_label("Français")).to_be_checked()
        accessible_screenshot(page, "settings-fr")
        page.goto("/support/callback")
        expect(page.get_by_role("heading", level=1)).to_have_text("Demander à être rappelé")
        screenshot(page, "callback-fr")
        page.get_by_role("navigation", name="Principal").get_by_role(
            "link", name="Paramètres"
        ).click()
        page.get_by_label("English").check()
        page.get_by_role("button", name="Enregistrer les réglages").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Settings")


def test_a_time_zone_chosen_shows_times_in_that_zone(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_as(site, "requester", "Team page: times in Tokyo")
    with settings_restored(site, "team_admin"):
        page = sign_in(offline, site, "team_admin")
        page.goto("/settings")
        page.get_by_label("Time zone").select_option("Asia/Tokyo")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_have_text("Your settings are saved.")
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
        reload_until(page, "/support/team", filed["number"])
        with site.client("team_admin") as admin:
            listed = admin.get(
                f"/v1/accounts/{site.tokens['accounts']['northwind']}/tickets",
                params={"status": "open", "limit": 100, "min_position": filed["position"]},
            ).json()["tickets"]
        ticket = next(t for t in listed if t["number"] == filed["number"])
        at = datetime.fromisoformat(ticket["last_activity_at"])
        tokyo = ZoneInfo("Asia/Tokyo")
        shown = format_datetime(at.astimezone(tokyo), "short", tzinfo=tokyo, locale="en")
        row = page.get_by_role("row").filter(has_text=filed["number"])
        expect(row).to_contain_text(shown)


def test_settings_posted_without_their_csrf_token_are_refused_and_change_nothing(
    offline: OfflineContext, site: Server
) -> None:
    with settings_restored(site, "requester_other_account"):
        page = sign_in(offline, site, "requester_other_account")
        forms: list[dict[str, str | float | bool]] = [
            {"language": "fr"},
            {"language": "fr", "csrf": "0" * 40},
        ]
        for form in forms:
            refused = page.request.post(
                site.base_url + "/settings",
                form=form,
                headers={"Accept": "text/html"},
                max_redirects=0,
            )
            assert refused.status == 403
        page.goto("/settings")
        expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
        expect(page.get_by_label("English")).to_be_checked()
