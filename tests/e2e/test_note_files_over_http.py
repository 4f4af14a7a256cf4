"""Files on internal notes over HTTP: an agent notes with a log; staff read and download it;
the ticket's customers are answered, for that file, exactly as for one that does not
exist, and never see it in their detail or list; the auditor's verify still holds."""

from __future__ import annotations

import re
from typing import Any

import httpx

from bench.harness import sign_in_link
from tests.e2e.conftest import Server, file_ticket

LOG = b"sync 4.2: token refresh failed (401)\n"
NO_SUCH_FILE = "f" * 64
"""An attachment id no one ever uploaded."""


def refusal(response: httpx.Response, attachment_id: str) -> tuple[int, str, dict[str, Any]]:
    """A refusal with the id it names taken out: what should not tell two files apart."""
    body = response.json()
    body.pop("instance", None)  # the request's own path
    body["detail"] = body["detail"].replace(attachment_id, "<id>")
    for key, value in list(body.items()):
        if value == attachment_id:
            body[key] = "<id>"
    return response.status_code, response.headers["content-type"], body


def page_refusal(response: httpx.Response, attachment_id: str) -> tuple[int, str]:
    """A refused page, the id it names and the visit's own tokens taken out."""
    text = response.text.replace(attachment_id, "<id>")
    return response.status_code, re.sub(r'value="[0-9a-f]{40}"', 'value="<csrf>"', text)


def test_an_agents_note_file_is_for_staff_and_no_customer_can_tell_it_exists(
    server: Server,
) -> None:
    filed = file_ticket(server, subject="Quarterly sync keeps failing")
    with server.client("team_admin") as tom:  # a collaborator on Rita's ticket
        joined = tom.post(f"/v1/tickets/{filed['id']}/messages", json={"body": "Me too"})
        assert joined.status_code == 200, joined.text
    with server.client("agent") as agent:
        log = agent.post("/v1/attachments", files={"file": ("sync.log", LOG, "text/plain")})
        assert log.status_code == 201, log.text
        log_id = log.json()["id"]
        noted = agent.post(
            f"/v1/tickets/{filed['id']}/notes",
            json={"body": "Their token expired; log attached.", "attachments": [log_id]},
        )
        assert noted.status_code == 200, noted.text
        wait = {"min_position": noted.json()["position"]}
        detail = agent.get(f"/v1/tickets/{filed['id']}", params=wait).json()
        [note] = detail["internal_notes"]
        [shown] = note["attachments"]
        assert (shown["id"], shown["filename"], shown["content_type"], shown["size"]) == (
            log_id, "sync.log", "text/plain", len(LOG),
        )  # fmt: skip
        assert detail["attachments"] == []  # not among the files customers see
        download = agent.get(shown["url"], params=wait)
        assert (download.status_code, download.content) == (200, LOG)
        cited = agent.post(  # a public reply may not carry it to the customer
            f"/v1/tickets/{filed['id']}/messages",
            json={"body": "Here is the log", "attachments": [log_id]},
        )
        assert cited.status_code == 422, cited.text
        assert cited.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in cited.json()["errors"]] == ["attachments"]
    for reader in ("auditor", "admin"):
        with server.client(reader) as staff:
            assert staff.get(f"/v1/attachments/{log_id}", params=wait).content == LOG
    for customer in ("requester", "team_admin"):
        with server.client(customer) as person:
            asked = person.get(f"/v1/attachments/{log_id}", params=wait)
            unknown = person.get(f"/v1/attachments/{NO_SUCH_FILE}", params=wait)
            assert asked.status_code == 404
            assert refusal(asked, log_id) == refusal(unknown, NO_SUCH_FILE)
            seen = person.get(f"/v1/tickets/{filed['id']}", params=wait)
            assert seen.status_code == 200
            assert log_id not in seen.text and "sync.log" not in seen.text
            assert "internal_notes" not in seen.json()
            scope = {"scope": "team"} if customer == "team_admin" else {}
            listed = person.get("/v1/tickets", params={**wait, **scope, "q": "quarterly"})
            assert filed["number"] in [t["number"] for t in listed.json()["tickets"]]
            assert log_id not in listed.text and "sync.log" not in listed.text
            noted_words = person.get("/v1/tickets", params={**wait, **scope, "q": "expired"})
            assert filed["number"] not in noted_words.text  # a note is never a search hit
    with server.client("auditor") as auditor:
        verified = auditor.get("/v1/audit/verify", params={"ticket": filed["number"]}).json()
        assert verified["ok"], verified
        events = auditor.get(f"/v1/audit/tickets/{filed['id']}/events").json()
        kinds = [e["kind"] for e in events["events"]]
        assert kinds[-2:] == ["Ticket.NoteAttachmentAdded", "Ticket.InternalNoteAdded"]


def test_the_portals_download_answers_a_customer_for_a_note_file_as_for_no_file(
    server: Server,
) -> None:
    filed = file_ticket(server, subject="Portal download")
    with server.client("agent") as agent:
        log_id = agent.post(
            "/v1/attachments", files={"file": ("trace.txt", LOG, "text/plain")}
        ).json()["id"]
        noted = agent.post(
            f"/v1/tickets/{filed['id']}/notes", json={"body": "trace", "attachments": [log_id]}
        )
        assert noted.status_code == 200, noted.text
    wait = noted.json()["position"]
    with server.client("requester") as rita:  # the views have the note before the pages ask
        assert rita.get(f"/v1/tickets/{filed['id']}", params={"min_position": wait}).is_success
    for person in ("requester", "team_admin"):
        with httpx.Client(
            base_url=server.base_url, headers={"Accept": "text/html"}, timeout=30
        ) as browser:
            assert browser.post(sign_in_link(server, person)).status_code == 303
            asked = browser.get(f"/support/files/{log_id}")
            unknown = browser.get(f"/support/files/{NO_SUCH_FILE}")
            assert asked.status_code == 404
            assert page_refusal(asked, log_id) == page_refusal(unknown, NO_SUCH_FILE)
    with httpx.Client(
        base_url=server.base_url, headers={"Accept": "text/html"}, timeout=30
    ) as browser:
        assert browser.post(sign_in_link(server, "agent")).status_code == 303
        assert browser.get(f"/support/files/{log_id}").content == LOG
