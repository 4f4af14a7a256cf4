"""The customers' support portal in a real Chromium: filing with a file after a suggested
article, my tickets by tab, filter and search, the conversation (no internal note ever),
solving, reopening and rating; the free plan; another's ticket; CSRF; French."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from playwright.sync_api import FilePayload, Page, expect
from psycopg_pool import ConnectionPool

from api.demo import demo_id
from store.secrets import server_secret
from store.sign_in import SignInLinks
from tests.browser.conftest import (
    OfflineContext,
    accessible_screenshot,
    screenshot,
    serious_accessibility_violations,
    sign_in,
)
from tests.e2e.conftest import Server, file_ticket
from tests.mailserver import Mailbox

NUMBER = re.compile(r"/support/tickets/(T-\d+)")


def api_write(site: Server, role: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with site.client(role) as c:
        answer = c.post(path, json=body)
    assert answer.status_code in (200, 201), answer.text
    written: dict[str, Any] = answer.json()
    return written


def deflection(site: Server) -> dict[str, Any]:
    with site.client("analyst") as c:
        answer = c.get("/v1/dashboard/deflection")
    assert answer.status_code == 200, answer.text
    figures: dict[str, Any] = answer.json()
    return figures


def email_with(mailbox: Mailbox, address: str, words: str, after: int) -> str:
    """The subject of the first email to ``address`` past the ``after``-th that says
    ``words`` (in its subject or text)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in mailbox.messages()[after:]:
            body = message.get_body(("plain",))
            text = f"{message['Subject']}\n{body.get_content() if body else ''}"
            if message["To"] == address and words in text:
                return str(message["Subject"])
        time.sleep(0.1)
    raise AssertionError(f"no email to {address} says {words}")


def test_a_requester_files_a_ticket_with_a_file_after_opening_a_suggested_article(
    offline: OfflineContext, site: Server, site_mail: Mailbox
) -> None:
    page = sign_in(offline, site, "requester")
    page.goto("/support/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("New ticket")
    accessible_screenshot(page, "portal-new-ticket")
    before = deflection(site)
    mails = len(site_mail.messages())

    page.get_by_label("Subject").press_sequentially("My files stop syncing", delay=20)
    suggested = page.locator("#suggestions").get_by_role(
        "button", name="Files stop syncing on your computer"
    )
    expect(suggested).to_be_visible()
    suggested.click()
    expect(page.locator("#reading").get_by_role("heading", level=3)).to_have_text(
        "Files stop syncing on your computer"
    )
    accessible_screenshot(page, "portal-new-ticket-suggested")

    page.get_by_label("Description").fill("Nothing syncs since the update; the log is attached.")
    page.get_by_label("Type").select_option("bug")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Product").select_option("Files")
    log = FilePayload(name="sync-log.txt", mimeType="text/plain", buffer=b"E42")
    page.set_input_files("#files", files=[log])
    expect(page.locator("[data-chosen]")).to_have_text("sync-log.txt")
    page.get_by_role("button", name="Send", exact=True).click()

    page.wait_for_url(NUMBER)
    found = NUMBER.search(page.url)
    assert found is not None
    number = found.group(1)
    expect(page.get_by_role("status")).to_have_text(
        f"Ticket {number} is filed; we emailed you a confirmation."
    )
    expect(page.get_by_role("link", name="sync-log.txt")).to_be_visible()
    accessible_screenshot(page, "portal-ticket-filed")
    assert number in email_with(site_mail, "rita@northwind.example", number, mails)
    after = deflection(site)  # the opening and the filing, in the same help session
    assert after["opened_article"] == before["opened_article"] + 1
    assert after["opened_then_filed"] == before["opened_then_filed"] + 1


def test_the_tabs_a_filter_and_search_narrow_my_tickets(
    offline: OfflineContext, site: Server
) -> None:
    word = "zq" + uuid.uuid4().hex[:8]
    bug = file_ticket(site, subject=f"Crash {word}", type="bug", priority="high")
    question = file_ticket(site, subject=f"How to share {word}", type="question")
    closed = file_ticket(site, subject=f"Invoice {word}", type="billing")
    done = api_write(
        site, "requester", f"/v1/tickets/{closed['number']}/status", {"status": "closed"}
    )
    page = sign_in(offline, site, "requester")

    def shown() -> set[str]:
        return set(page.locator("table.tickets tbody tr td:first-child").all_inner_texts())

    page.goto(f"/support?tab=all&q={word}&at={done['position']}")
    expect(page.get_by_role("link", name="All")).to_have_attribute("aria-current", "page")
    assert shown() == {bug["number"], question["number"], closed["number"]}
    page.get_by_role("link", name="Open", exact=True).click()
    expect(page.get_by_role("link", name="Open", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    assert shown() == {bug["number"], question["number"]}
    page.get_by_label("Type").select_option("bug")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    assert shown() == {bug["number"]}
    accessible_screenshot(page, "portal-my-tickets-filtered")
    page.get_by_role("link", name="Closed").click()
    expect(page.locator("table.tickets")).to_have_count(0)  # no closed bug of that word
    page.get_by_label("Type").select_option("")
    page.get_by_role("button", name="Show").click()
    assert shown() == {closed["number"]}
    page.get_by_role("link", name="All").click()  # a tab keeps the search and filters
    expect(page.get_by_label("Search")).to_have_value(word)
    page.get_by_label("Search").fill(f"Crash {word}")
    page.get_by_role("button", name="Show").click()
    assert shown() == {bug["number"]}
    page.get_by_label("Filed").select_option("today")
    page.get_by_role("button", name="Show").click()
    assert shown() == {bug["number"]}
    page.get_by_label("Filed").select_option("custom")
    page.get_by_label("From").fill("2001-01-01")
    page.get_by_label("To", exact=True).fill("2001-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.tickets")).to_have_count(0)

    page.goto("/support?tab=all")
    accessible_screenshot(page, "portal-my-tickets")


def test_the_conversation_shows_an_agents_reply_never_a_note_and_takes_a_reply_with_a_file(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_ticket(site, subject="Dash shows no data", product="Dash")
    number = filed["number"]
    api_write(site, "agent", f"/v1/tickets/{number}/messages", {"body": "Which browser?"})
    note = api_write(
        site, "agent", f"/v1/tickets/{number}/notes", {"body": "SECRET-NOTE customer is VIP"}
    )
    page = sign_in(offline, site, "requester")
    page.goto(f"/support/tickets/{number}?at={note['position']}")
    agent = page.locator(".message").filter(has_text="Which browser?")
    expect(agent).to_contain_text("Alex Agent")
    expect(agent).to_contain_text("(support agent)")
    assert "SECRET-NOTE" not in page.content()

    page.get_by_label("Your message").fill("Firefox 128, screenshot attached.")
    page.set_input_files(
        "#files", files=[FilePayload(name="screen.png", mimeType="image/png", buffer=PNG)]
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Your reply is added.")
    mine = page.locator(".message").filter(has_text="Firefox 128")
    expect(mine.locator("header strong")).to_have_text("You")
    link = mine.get_by_role("link", name="screen.png")
    href = link.get_attribute("href")
    assert href is not None
    download = page.request.get(href)
    assert download.status == 200 and download.body() == PNG
    assert "SECRET-NOTE" not in page.content()
    accessible_screenshot(page, "portal-ticket-conversation")

    page.get_by_role("button", name="Mark as solved").click()
    expect(page.get_by_role("status")).to_have_text("The ticket is marked as solved.")
    expect(page.locator("dl.facts")).to_contain_text("Closed")
    expect(page.get_by_label("Your message")).to_have_count(0)
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_role("status")).to_have_text("The ticket is open again.")
    expect(page.locator("dl.facts")).to_contain_text("Open")

    page.get_by_role("button", name="Mark as solved").click()
    expect(page.get_by_role("status")).to_have_text("The ticket is marked as solved.")
    page.get_by_role("button", name="Send rating").click()  # no score chosen: refused
    expect(page.locator("#rating-error")).to_be_visible()
    page.get_by_label("4", exact=True).check()
    page.get_by_label("Comment (optional)").fill("Quick and kind.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("status")).to_have_text("Thank you for your rating.")
    expect(page.locator("aside")).to_contain_text("4 out of 5")
    expect(page.locator("aside")).to_contain_text("Quick and kind.")
    accessible_screenshot(page, "portal-ticket-rated")
    with site.client("requester") as c:
        rated = c.get(f"/v1/tickets/{number}").json()
    assert rated["rating"] == {"score": 4, "comment": "Quick and kind."}


def test_a_free_plan_member_is_shown_the_community_instead_of_the_form(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "free_user")
    page.goto("/support/new")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ticket support is not part of your plan"
    )
    expect(page.get_by_label("Subject")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("The Free plan does not include ticket support")
    expect(page.locator("ul.plans li")).to_have_text(
        ["Starter", "Consultant", "Business", "Enterprise"]
    )
    community = page.get_by_role("link", name="Ask the community")
    expect(community).to_have_attribute("href", "https://community.docket.example")
    accessible_screenshot(page, "portal-free-plan")


def test_another_customers_ticket_answers_exactly_as_a_missing_one(
    offline: OfflineContext, site: Server
) -> None:
    theirs = file_ticket(site, "requester_other_account", subject="Contoso only")
    with site.client("requester_other_account") as c:
        there = c.get(
            f"/v1/tickets/{theirs['number']}", params={"min_position": theirs["position"]}
        )
        assert there.status_code == 200  # it is there, and the portal's views have it
    page = sign_in(offline, site, "requester")
    shown = page.goto(f"/support/tickets/{theirs['number']}")
    assert shown is not None and shown.status == 404
    other = page.locator("main").inner_text().replace(theirs["number"], "NUMBER")
    assert "Contoso only" not in page.content()
    missing = page.goto("/support/tickets/T-999999")
    assert missing is not None and missing.status == 404
    assert page.locator("main").inner_text().replace("T-999999", "NUMBER") == other
    screenshot(page, "portal-ticket-not-found")


def test_a_form_posted_without_its_csrf_token_changes_nothing(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_ticket(site, subject="CSRF target")
    page = sign_in(offline, site, "requester")
    refused = page.request.post(
        f"/support/tickets/{filed['number']}/reply",
        form={"body": "forged"},
        headers={"Accept": "text/html"},
    )
    assert refused.status == 403
    forged = page.request.post(
        "/support/new", multipart={"subject": "forged", "description": "forged", "csrf": "x"}
    )
    assert forged.status == 403
    solved = page.request.post(f"/support/tickets/{filed['number']}/solve", form={})
    assert solved.status == 403
    with site.client("requester") as c:
        after = c.get(f"/v1/tickets/{filed['number']}").json()
        mine = c.get("/v1/tickets", params={"q": "forged", "status": "open"}).json()
    assert after["version"] == filed["version"]
    assert [m["body"] for m in after["conversation"]] == ["Since this morning."]
    assert mine["tickets"] == []


def test_the_portal_in_french_for_a_member_who_reads_french(
    offline_fr: OfflineContext, site: Server
) -> None:
    page = french_member(offline_fr, site)
    page.goto("/support/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau ticket")
    page.get_by_label("Objet").press_sequentially("fichiers synchronisent", delay=20)
    expect(page.locator("#suggestions li").first).to_be_visible()
    page.get_by_label("Description").fill("Plus rien ne se synchronise depuis ce matin.")
    accessible_screenshot(page, "portal-new-ticket-fr")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    page.wait_for_url(NUMBER)
    expect(page.get_by_role("status")).to_contain_text("est enregistré")
    page.get_by_label("Votre message").fill("Précision : sur deux ordinateurs.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.locator(".message").filter(has_text="Précision")).to_contain_text("Vous")
    accessible_screenshot(page, "portal-ticket-fr")
    page.goto("/support")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes tickets")
    expect(page.get_by_role("link", name="En attente de votre réponse")).to_be_visible()
    accessible_screenshot(page, "portal-my-tickets-fr")


def french_member(context: OfflineContext, site: Server) -> Page:
    """A new member of the demo requester's account who reads French, in Paris, signed in
    through a link as a person clicks it."""
    email = f"julie-{uuid.uuid4().hex[:8]}@northwind.example"
    added = api_write(
        site,
        "admin",
        f"/v1/accounts/{demo_id('northwind')}/members",
        {"email": email, "name": "Julie Dupont", "language": "fr", "time_zone": "Europe/Paris"},
    )
    url, schema = site.env["DOCKET_DATABASE_URL"], site.schema
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        links = SignInLinks(pool, schema, server_secret(url, schema, "sign-in"))
        token = None
        deadline = time.monotonic() + 10
        while token is None and time.monotonic() < deadline:  # once the directory knows her
            token = links.ask(
                person_id=str(added["member_id"]), email=email, name="Julie Dupont",
                language="fr", time_zone="Europe/Paris", mailed=False,
            )  # fmt: skip
    assert token is not None
    page = context.new_page()
    page.goto(f"/sign-in/{token}")
    page.get_by_role("button", name=re.compile("Se connecter")).click()
    page.wait_for_url(re.compile(r"/$"))
    return page


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
"""A one-pixel PNG (the upload checks a file's bytes are of its type)."""


def test_a_file_over_the_body_limit_and_within_the_attachment_limit_is_filed(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "requester")
    page.goto("/support/new")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf is not None
    big = FilePayload(name="big-log.txt", mimeType="text/plain", buffer=b"log line\n" * 240_000)
    answer = page.request.post(
        "/support/new",
        multipart={
            "csrf": csrf, "subject": "A large log", "description": "Attached.",
            "product": "Files", "files": big,
        },
    )  # fmt: skip
    assert answer.ok, answer.text()
    assert NUMBER.search(answer.url)
    assert "big-log.txt" in answer.text()


def test_the_new_ticket_form_asks_for_the_custom_fields_of_the_product_chosen(
    offline: OfflineContext, site: Server
) -> None:
    suffix = uuid.uuid4().hex[:6]
    os_key, seats_key = f"os_{suffix}", f"seats_{suffix}"
    fields: list[dict[str, Any]] = [
        {"key": os_key, "kind": "dropdown", "product": "Dash", "required": True,
         "labels": {"en": "Operating system", "fr": "Système d'exploitation"},
         "options": [{"key": "linux", "labels": {"en": "Linux", "fr": "Linux"}},
                     {"key": "macos", "labels": {"en": "macOS", "fr": "macOS"}}]},
        {"key": seats_key, "kind": "number", "labels": {"en": "Seats", "fr": "Postes"}},
    ]  # fmt: skip
    with site.client("admin") as admin:
        for field in fields:
            made = admin.post("/v1/ticket-fields", json=field)
            assert made.status_code == 201, made.text
    try:
        page = sign_in(offline, site, "requester")
        page.goto("/support/new")
        system = page.get_by_label(re.compile("Operating system"))
        page.get_by_label("Product").select_option("Files")
        expect(system).to_be_hidden()  # for Dash only
        page.get_by_label("Product").select_option("Dash")
        expect(system).to_be_visible()
        assert serious_accessibility_violations(page) == []
        page.get_by_label("Subject").fill("The dashboard is blank")
        page.get_by_label("Description").fill("Since the update.")
        page.get_by_label("Seats").fill("12")
        page.get_by_role("button", name="Send", exact=True).click()  # no system chosen

        expect(page.locator(f'[id="field.{os_key}-error"]')).to_contain_text("required")
        expect(system).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Seats")).to_have_value("12")  # kept as typed
        system.select_option("linux")
        page.get_by_role("button", name="Send", exact=True).click()
        page.wait_for_url(NUMBER)
        found = NUMBER.search(page.url)
        assert found is not None
        with site.client("agent") as agent:
            detail = agent.get(f"/v1/tickets/{found.group(1)}").json()
        given = {f["key"]: f["value"] for f in detail["custom_fields"]}
        assert given == {os_key: "linux", seats_key: 12}
    finally:
        with site.client("admin") as admin:
            for field in fields:
                gone = admin.patch(f"/v1/ticket-fields/{field['key']}", json={"archived": True})
                assert gone.status_code == 200, gone.text
