"""The analysts' dashboard and the auditors' timeline, in a real Chromium."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import (
    OfflineContext,
    open_answered,
    screenshot,
    serious_accessibility_violations,
    sign_in,
    sign_in_person,
)
from tests.e2e.conftest import Server, file_ticket


def worked_ticket(site: Server, product: str = "Files") -> dict[str, str]:
    """A ticket filed, answered publicly, noted internally and closed (through the API)."""
    filed = file_ticket(
        site,
        subject=f"Exports stall {uuid.uuid4().hex[:6]}",
        product=product,
        topic="exports",
        description="The nightly export stops halfway.",
    )
    with site.client("agent") as agent:
        ticket = filed["id"]
        assert agent.post(f"/v1/tickets/{ticket}/messages", json={"body": "Looking."}).is_success
        note = agent.post(f"/v1/tickets/{ticket}/notes", json={"body": "Known bug 4411."})
        assert note.is_success, note.text
        closed = agent.post(f"/v1/tickets/{ticket}/status", json={"status": "closed"})
        assert closed.is_success, closed.text
    return {"id": ticket, "number": filed["number"], "position": str(closed.json()["position"])}


def test_an_analyst_reads_the_dashboard_with_its_charts_and_downloads_it(
    offline: OfflineContext, site: Server
) -> None:
    ticket = worked_ticket(site)
    page = sign_in(offline, site, "analyst")
    page.goto(f"/console/dashboard?min_position={ticket['position']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    for heading in (
        "Volume over time",
        "Tickets by status",
        "Top issues",
        "Top products per issue",
        "Response and resolution times",
        "SLA compliance",
        "Satisfaction",
    ):
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("Tickets filed, closed and reopened"))
    ).to_be_visible()
    expect(page.locator("#issues-title + ul")).to_contain_text("exports")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "dashboard")

    # narrowed to a product no ticket has: the same page, nothing in it
    page.get_by_role("textbox", name="Product").fill("No such product")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"product=No\+such\+product"))
    expect(page.locator("#issues-title + p")).to_have_text("Nothing to show for these filters.")

    # the CSV is the API's own CSV of the same dashboard
    page.goto("/console/dashboard")
    with page.expect_download() as download:
        page.locator("a[href^='/console/dashboard/top-issues.csv']").click()
    path = download.value.path()
    assert path is not None
    from_page = path.read_bytes().decode("utf-8")
    with site.client("analyst") as analyst:
        from_api = analyst.get("/v1/dashboard/top-issues", headers={"Accept": "text/csv"}).text
    assert from_page.splitlines()[0] == "dimension,name,tickets"
    assert from_page == from_api


def test_the_dashboard_refuses_a_customer_and_bad_filters_say_what_is_wrong(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "requester")
    open_answered(page, "/console/dashboard", 403)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.context.clear_cookies()
    analyst = sign_in(offline, site, "analyst")
    open_answered(analyst, "/console/dashboard?from=2026-05-01&to=2026-04-01", 422)
    expect(analyst.get_by_role("alert")).to_contain_text("from must come before to")


def test_an_auditor_follows_a_tickets_timeline_and_sees_it_verified(
    offline: OfflineContext, site: Server
) -> None:
    ticket = worked_ticket(site)
    page = sign_in(offline, site, "auditor")
    page.goto("/console/audit")
    page.get_by_label("Ticket number").fill(ticket["number"])
    page.get_by_role("button", name="Show its timeline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Timeline of {ticket['number']}")
    timeline = page.locator("ol.timeline > li")
    expect(timeline.first).to_contain_text("Ticket.Opened")
    expect(page.locator("ol.timeline")).to_contain_text("Known bug 4411.")  # notes: auditors see
    expect(page.locator("ol.timeline")).to_contain_text("Alex Agent")
    expect(timeline.first).to_contain_text('{"calendar": "24x7"')  # JSON, not Python's repr
    expect(timeline.first).not_to_contain_text("{'calendar'")
    expect(page.get_by_role("status")).to_contain_text("Verified: nothing was altered")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "audit-timeline")

    page.goto("/console/audit/tickets/T-999999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def french_admin(site: Server) -> dict[str, str]:
    """A Docket admin who reads Docket in French, registered through the API."""
    email = f"aline-{uuid.uuid4().hex[:6]}@docket.example"
    with site.client("admin") as admin:
        made = admin.post(
            "/v1/staff",
            json={"name": "Aline Admin", "email": email, "role": "admin", "language": "fr"},
        )
        assert made.status_code == 201, made.text
        staff_id, position = made.json()["id"], made.json()["position"]
        listed = admin.get("/v1/staff", params={"min_position": position})
        assert listed.is_success, listed.text
    return {"id": staff_id, "name": "Aline Admin", "email": email}


def test_the_dashboard_and_timeline_speak_french(offline_fr: OfflineContext, site: Server) -> None:
    ticket = worked_ticket(site)
    aline = french_admin(site)
    page = sign_in_person(offline_fr, site, aline["id"], aline["name"], aline["email"])
    page.goto("/console/dashboard")
    expect(page.get_by_role("heading", level=2, name="Volume dans le temps")).to_be_visible()
    statuses = page.locator("#status-h").locator("xpath=..")
    expect(statuses).to_contain_text("Fermé")  # the values by their French names too
    expect(statuses).not_to_contain_text(re.compile(r"\b(open|closed|pending)\b"))
    expect(page.get_by_label("Délais par")).to_contain_text("Priorité")
    screenshot(page, "dashboard-fr")
    page.goto(f"/console/audit/tickets/{ticket['number']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Historique de {ticket['number']}")
    assert serious_accessibility_violations(page) == []
