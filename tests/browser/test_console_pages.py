"""The agents' console in a real Chromium: the live inbox, a ticket worked from its page,
the event stream the inbox listens to, and the console in French."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import (
    ARTIFACTS,
    OfflineContext,
    accessible_screenshot,
    open_answered,
    sign_in,
    sign_in_person,
)
from tests.e2e.conftest import Server

SEEN = 10_000
"""How long (ms) a page may take to show what the server was told meanwhile."""


def file_ticket(site: Server, subject: str, role: str = "requester", **fields: Any) -> Any:
    body = {"subject": subject, "description": "Since this morning.", "type": "bug", **fields}
    with site.client(role) as client:
        filed = client.post("/v1/tickets", json=body)
    assert filed.status_code == 201, filed.text
    return filed.json()


def reply_as(site: Server, role: str, ticket: str, body: str) -> Any:
    with site.client(role) as client:
        replied = client.post(f"/v1/tickets/{ticket}/messages", json={"body": body})
    assert replied.status_code == 200, replied.text
    return replied.json()


def session_cookie(context: OfflineContext) -> str:
    return next(c["value"] for c in context.context.cookies() if c["name"] == "docket_session")


def inbox_row(page: Page, number: str) -> Any:
    return page.locator(f'#inbox-list tr[data-number="{number}"]')


def test_the_inbox_shows_a_ticket_filed_and_a_reply_sent_meanwhile_without_reloading(
    offline: OfflineContext, site: Server
) -> None:
    word = "zq" + uuid.uuid4().hex[:8]
    page = sign_in(offline, site, "agent")
    page.goto(f"/console?q={word}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(page.locator("#inbox-list")).to_contain_text("No ticket matches these filters.")
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=SEEN)
    page.evaluate("window.stillTheSamePage = true")

    filed = file_ticket(site, f"Sync stops after an hour {word}", priority="high")
    row = inbox_row(page, filed["number"])
    expect(row).to_contain_text(f"Sync stops after an hour {word}", timeout=SEEN)
    expect(page.locator("#announcer")).to_have_text(f"New ticket {filed['number']}")
    expect(row).to_contain_text("Messages: 1")
    expect(row).to_contain_text(re.compile(r"due in \d"))  # the first answer's clock runs

    reply_as(site, "requester", filed["number"], "It stops again, every hour.")
    expect(row).to_contain_text("Messages: 2", timeout=SEEN)
    expect(page.locator("#announcer")).to_have_text(f"New reply on {filed['number']}")
    assert page.evaluate("window.stillTheSamePage") is True  # no navigation happened
    expect(page.get_by_label("Words")).to_have_value(word)  # the filters are kept

    page.goto("/console")
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=SEEN)
    accessible_screenshot(page, "console-inbox")


def test_an_agent_replies_and_notes_and_the_requester_reads_the_reply_and_never_the_note(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_ticket(site, "Invoice shows the wrong VAT number", type="billing")
    number = filed["number"]
    page = sign_in(offline, site, "agent")
    page.goto(f"/console/tickets/{number}?min_position={filed['position']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("aside")).to_contain_text("Northwind")  # the account…
    expect(page.locator("aside")).to_contain_text("Business")  # …its plan

    page.get_by_label("Public reply (the requester reads it)").fill("We are correcting it now.")
    steps: FilePayload = {"name": "steps.txt", "mimeType": "text/plain", "buffer": b"1. open\n"}
    page.get_by_label("Files").set_input_files(files=[steps])
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Your reply was sent.")
    reply = page.locator(".message.public", has_text="We are correcting it now.")
    expect(reply).to_contain_text("steps.txt")
    href = reply.get_by_role("link", name="steps.txt").get_attribute("href")
    assert href is not None
    fetched = page.request.get(site.base_url + href)  # with the agent's session, as a click
    assert fetched.status == 200 and fetched.body() == b"1. open\n"

    page.get_by_label("Internal note (staff only, never shown to the customer)").fill(
        "Their VAT id changed in March: check the CRM."
    )
    page.get_by_role("button", name="Add internal note").click()
    note = page.locator(".message.internal", has_text="check the CRM")
    expect(note).to_contain_text("Internal note")  # said in words, not by colour alone
    expect(page.locator(".message.public", has_text="check the CRM")).to_have_count(0)

    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".ticket-line")).to_contain_text("Pending")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_role("button", name="Change priority").click()
    expect(page.locator(".ticket-line")).to_contain_text("Priority: Urgent")
    page.get_by_label("Assignee").select_option(label="Alex Agent")
    page.get_by_label("Group").select_option("billing")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_have_text("The assignment was changed.")
    expect(page.get_by_label("Assignee")).to_have_value(str(site.tokens["agent_id"]))
    expect(page.get_by_label("Group")).to_have_value("billing")
    accessible_screenshot(page, "console-ticket")

    with site.client("requester") as requester:
        seen = requester.get(f"/v1/tickets/{number}", params={"min_position": 0})
    assert seen.status_code == 200
    bodies = [m["body"] for m in seen.json()["conversation"]]
    assert "We are correcting it now." in bodies
    assert "check the CRM" not in seen.text
    assert "internal_notes" not in seen.json()


def test_an_agent_notes_with_a_file_and_the_requesters_portal_never_shows_it(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_ticket(site, "Export to CSV drops the last row")
    number = filed["number"]
    page = sign_in(offline, site, "agent")
    page.goto(f"/console/tickets/{number}?min_position={filed['position']}")
    page.get_by_label("Internal note (staff only, never shown to the customer)").fill(
        "Reproduced on 4.2: the trace is attached."
    )
    trace: FilePayload = {"name": "trace-4.2.txt", "mimeType": "text/plain", "buffer": b"row 9\n"}
    page.get_by_label(
        "Attach to the note (staff only, never shown to the customer)"
    ).set_input_files(files=[trace])
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("status")).to_have_text("Your internal note was added.")
    note = page.locator(".message.internal", has_text="the trace is attached")
    expect(note).to_contain_text("Internal note")
    link = note.get_by_role("link", name="trace-4.2.txt")
    expect(link).to_be_visible()
    expect(page.locator(".message.public", has_text="trace-4.2.txt")).to_have_count(0)
    href = link.get_attribute("href")
    assert href is not None
    fetched = page.request.get(site.base_url + href)  # with the agent's session, as a click
    assert fetched.status == 200 and fetched.body() == b"row 9\n"
    accessible_screenshot(page, "console-note-with-a-file")

    portal = sign_in(offline, site, "requester")
    portal.goto(f"/support/tickets/{number}")
    expect(portal.get_by_role("heading", level=1)).to_contain_text("Export to CSV")
    expect(portal.locator("main")).not_to_contain_text("trace-4.2.txt")
    expect(portal.locator("main")).not_to_contain_text("the trace is attached")
    asked = portal.request.get(site.base_url + href)  # with the requester's session now
    unknown = portal.request.get(site.base_url + "/support/files/" + "f" * 64)
    assert asked.status == unknown.status == 404
    assert b"row 9" not in asked.body()


def test_a_change_to_a_ticket_someone_changed_meanwhile_is_refused_keeping_the_text(
    offline: OfflineContext, site: Server
) -> None:
    filed = file_ticket(site, "Export to CSV drops the last row")
    page = sign_in(offline, site, "agent")
    page.goto(f"/console/tickets/{filed['number']}?min_position={filed['position']}")
    reply_as(site, "requester", filed["number"], "Any news?")  # the page is now one behind
    page.get_by_label("Internal note (staff only, never shown to the customer)").fill(
        "Reproduced on 2.4."
    )
    with page.expect_response(re.compile(r"/note$")) as sent:
        page.get_by_role("button", name="Add internal note").click()
    assert sent.value.status == 409
    expect(page.locator("#note-error")).to_contain_text("Someone changed this ticket meanwhile")
    field = page.get_by_label("Internal note (staff only, never shown to the customer)")
    expect(field).to_have_value("Reproduced on 2.4.")
    expect(field).to_have_attribute("aria-describedby", "note-error")
    expect(page.locator(".message.public", has_text="Any news?")).to_have_count(1)

    page.get_by_role("button", name="Add internal note").click()  # now at the right version
    expect(page.locator(".message.internal", has_text="Reproduced on 2.4.")).to_have_count(1)


def test_a_ticket_that_is_not_there_and_a_customer_on_the_console_are_answered_alike(
    offline: OfflineContext, site: Server
) -> None:
    page = sign_in(offline, site, "agent")
    open_answered(page, "/console/tickets/T-999999", 404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")

    other = file_ticket(site, "Someone else's ticket", role="requester_other_account")
    customer = httpx.Client(base_url=site.base_url, follow_redirects=False, timeout=30)
    page.context.clear_cookies()
    page = sign_in(offline, site, "requester")
    customer.cookies.set("docket_session", session_cookie(offline))
    answers = [
        customer.get(f"/console/tickets/{ref}", headers={"Accept": "text/html"})
        for ref in (other["number"], "T-999999")
    ]
    assert [a.status_code for a in answers] == [303, 303]
    assert [a.headers["location"].rpartition("/")[0] for a in answers] == ["/support/tickets"] * 2
    inbox = customer.get("/console", headers={"Accept": "text/html"})
    assert inbox.status_code == 403


def read_stream(response: httpx.Response, until: int) -> list[tuple[int, dict[str, Any]]]:
    """The events of an open stream, up to the first at or past position ``until``."""
    got: list[tuple[int, dict[str, Any]]] = []
    event_id, data = None, None
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and event_id is not None and data is not None:
            got.append((event_id, data))
            if event_id >= until:
                return got
            event_id, data = None, None
    raise AssertionError(f"the stream ended before position {until}: {got}")


def test_the_event_stream_resumes_after_the_last_event_id_and_is_for_staff_only(
    offline: OfflineContext, site: Server
) -> None:
    sign_in(offline, site, "agent")
    agent = httpx.Client(base_url=site.base_url, timeout=20)
    agent.cookies.set("docket_session", session_cookie(offline))
    first = file_ticket(site, "The first of two")
    second = file_ticket(site, "The second of two")
    noted = None
    with site.client("agent") as api:
        noted = api.post(
            f"/v1/tickets/{second['number']}/notes", json={"body": "A secret of staff."}
        ).json()
        feed = api.get(
            "/v1/feed",
            params={"after": first["position"], "min_position": noted["position"], "limit": 500},
        ).json()
    expected = [
        (e["position"], {"kind": e["kind"], "number": e["ticket_number"]})
        for e in feed["events"]
        if e["kind"].startswith("Ticket.") and e["position"] <= noted["position"]
    ]
    headers = {"Last-Event-ID": str(first["position"]), "Accept": "text/event-stream"}
    with agent.stream("GET", "/console/events?after=0", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        got = read_stream(stream, noted["position"])
    assert got == expected  # exactly what came after it, the header over ?after
    assert {"kind": "Ticket.Opened", "number": second["number"]} in [d for _, d in got]
    assert (first["position"], {"kind": "Ticket.Opened", "number": first["number"]}) not in got
    assert all(set(d) == {"kind", "number"} for _, d in got)  # no text of any ticket

    for bad in ("soon", "99999999999"):
        refused = agent.get("/console/events", headers={"Last-Event-ID": bad})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")

    offline.context.clear_cookies()
    sign_in(offline, site, "requester")
    customer = httpx.Client(base_url=site.base_url, timeout=20)
    customer.cookies.set("docket_session", session_cookie(offline))
    refused = customer.get("/console/events", headers={"Accept": "text/event-stream"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    nobody = httpx.get(site.base_url + "/console/events", headers={"Accept": "text/event-stream"})
    assert nobody.status_code == 401


def french_agent(site: Server) -> tuple[str, str, str]:
    """A new agent who reads Docket in French: id, name, email."""
    email = f"margot-{uuid.uuid4().hex[:6]}@docket.example"
    with site.client("admin") as admin:
        made = admin.post(
            "/v1/staff",
            json={
                "name": "Margot Martin",
                "email": email,
                "role": "agent",
                "groups": ["tier-1"],
                "language": "fr",
            },
        )
        assert made.status_code == 201, made.text
        seen = admin.get("/v1/staff", params={"min_position": made.json()["position"]})
        assert seen.status_code == 200
    return made.json()["id"], "Margot Martin", email


def test_the_console_speaks_the_language_of_a_french_agent(
    offline_fr: OfflineContext, site: Server
) -> None:
    filed = file_ticket(site, "La synchronisation s'arrête", priority="urgent")
    page = sign_in_person(offline_fr, site, *french_agent(site))
    page.goto("/console")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    expect(page.get_by_label("Priorité")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=SEEN)
    accessible_screenshot(page, "console-inbox-fr")

    page.goto(f"/console/tickets/{filed['number']}?min_position={filed['position']}")
    expect(page.get_by_role("heading", name="Conversation")).to_be_visible()
    page.get_by_label("Note interne (équipe seulement, jamais montrée au client)").fill("Vu.")
    page.get_by_role("button", name="Ajouter la note interne").click()
    expect(page.get_by_role("status")).to_have_text("Votre note interne a été ajoutée.")
    expect(page.locator(".message.internal", has_text="Vu.")).to_contain_text("Note interne")
    accessible_screenshot(page, "console-ticket-fr")


def test_the_contact_forms_queue_lists_who_waits_for_an_answer(
    offline: OfflineContext, site: Server
) -> None:
    sent = httpx.post(
        site.base_url + "/v1/contact",
        json={
            "name": "Nora Nobody",
            "email": f"nora-{uuid.uuid4().hex[:6]}@example.org",
            "subject": "I lost access to my account",
            "description": "The sign-in link never arrives.",
            "product": "Files",
        },
    )
    assert sent.status_code == 202, sent.text
    reference = sent.json()["reference"]
    page = sign_in(offline, site, "agent")
    page.goto("/console")
    page.get_by_role("link", name="Contact form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact form")
    row = page.locator(f'tr[data-reference="{reference}"]')
    for _ in range(40):  # the contact queue's view reads the request in a moment
        if row.count():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(row).to_contain_text("I lost access to my account")
    expect(row).to_contain_text("Nora Nobody")
    accessible_screenshot(page, "console-contact")


def test_an_agent_answers_a_contact_request_by_email_and_files_another_as_a_ticket(
    offline: OfflineContext, site: Server
) -> None:
    def contact(email: str, subject: str) -> str:
        sent = httpx.post(
            site.base_url + "/v1/contact",
            json={"name": "Rita", "email": email, "subject": subject,
                  "description": "The sign-in link never arrives."},
        )  # fmt: skip
        assert sent.status_code == 202, sent.text
        return str(sent.json()["reference"])

    stranger = contact(f"x-{uuid.uuid4().hex[:6]}@example.org", "Who can help me?")
    member = contact("rita@northwind.example", f"Locked out {uuid.uuid4().hex[:6]}")
    page = sign_in(offline, site, "agent")

    def opened(reference: str) -> None:
        for _ in range(40):  # the queue's view reads the request in a moment
            page.goto("/console/contact")
            if page.get_by_role("link", name=reference).count():
                break
            page.wait_for_timeout(250)
        page.get_by_role("link", name=reference).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(reference)

    opened(stranger)
    expect(page.get_by_text("No account has a member at this address")).to_be_visible()
    page.get_by_role("textbox", name=re.compile("Answer")).fill("We have sent you a new link.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("status")).to_have_text("Your answer was emailed.")
    expect(page.locator(".thread")).to_contain_text("We have sent you a new link.")
    accessible_screenshot(page, "console-contact-request")

    empty = page.get_by_role("textbox", name=re.compile("Answer"))
    page.get_by_role("button", name="Send answer").click()  # nothing typed
    expect(page.get_by_role("alert")).to_be_visible()
    expect(empty).to_have_attribute("aria-invalid", "true")

    opened(member)
    page.get_by_label("For the member in the account").select_option(label="Northwind Traders")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="File as a ticket").click()
    page.wait_for_url(re.compile(r"/console/tickets/T-\d+"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Locked out")
    expect(page.locator(".ticket-line")).to_contain_text("High")


def test_an_agent_saves_the_inbox_filtered_as_a_view_opens_it_and_removes_it(
    offline: OfflineContext, site: Server
) -> None:
    words = f"saved{uuid.uuid4().hex[:8]}"
    filed = file_ticket(site, f"Cannot print {words}", priority="urgent")
    page = sign_in(offline, site, "agent")
    page.goto(f"/console?q={words}&min_position={filed['position']}")
    expect(inbox_row(page, filed["number"])).to_be_visible()
    page.get_by_role("button", name="Save view").click()  # no name: refused, said by the box
    expect(page.locator("#view-error")).to_be_visible()
    expect(page.get_by_label("Save these filters as")).to_have_attribute("aria-invalid", "true")

    name = f"Printing {words}"
    page.get_by_label("Save these filters as").fill(name)
    page.get_by_role("button", name="Save view").click()
    views = page.locator(".saved-views")
    current = views.get_by_role("link", name=name)
    expect(current).to_have_attribute("aria-current", "page")
    expect(views.locator("li", has_text=name).locator(".count")).to_have_text("1")
    accessible_screenshot(page, "console-saved-views")

    page.goto("/console")
    views.get_by_role("link", name=name).click()
    expect(page.get_by_label("Words")).to_have_value(words)
    expect(inbox_row(page, filed["number"])).to_be_visible()
    with site.client("agent") as agent:
        listed = agent.get("/v1/views").json()["views"]
    assert [v["filters"] for v in listed if v["name"] == name] == [{"q": [words]}]

    views.get_by_role("button", name=f"Remove the view {name}").click()
    expect(page.locator(".saved-views").get_by_role("link", name=name)).to_have_count(0)


def test_the_weight_of_a_full_inbox_page_is_recorded(
    offline: OfflineContext, site: Server
) -> None:
    """Not a timed test: the bytes a browser fetches for a first page of 25 tickets (the page
    and every script and stylesheet it loads), as sent to a browser that accepts gzip and
    as they are once decoded, kept with the artifacts as console-inbox-weight.json."""
    for n in range(25):
        file_ticket(site, f"Weighing the inbox, ticket {n}")
    page = sign_in(offline, site, "agent")
    page.goto("/console")
    expect(page.locator("#inbox-list tbody tr")).to_have_count(25)
    assets = page.eval_on_selector_all(
        "script[src], link[rel=stylesheet]",
        "els => els.map(e => e.getAttribute('src') || e.getAttribute('href'))",
    )
    browser = httpx.Client(base_url=site.base_url, headers={"Accept-Encoding": "gzip"}, timeout=30)
    browser.cookies.set("docket_session", session_cookie(offline))
    sizes = {}
    for url in ["/console", *assets]:
        fetched = browser.get(url, headers={"Accept": "text/html"})
        assert fetched.status_code == 200
        sizes[url.partition("?")[0]] = {
            "sent": fetched.num_bytes_downloaded,
            "decoded": len(fetched.content),
            "encoding": fetched.headers.get("content-encoding", "identity"),
        }
    total = {k: sum(int(s[k]) for s in sizes.values()) for k in ("sent", "decoded")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "console-inbox-weight.json").write_text(
        json.dumps({"files": sizes, "total": total}, indent=2)
    )
    assert set(sizes) >= {"/console", "/static/console.js", "/static/docket.css"}
