"""Email in and out over real HTTP and SMTP: a reply is mailed, the mailed answer comes back."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest

from tests.e2e.conftest import Server, file_ticket, running_server
from tests.mailserver import Mailbox, smtp_server

NOTE = "Customer is on the legacy cluster, do not tell them"


@pytest.fixture(scope="module")
def mailed(database_url: str) -> Iterator[tuple[Server, Mailbox]]:
    with (
        smtp_server() as (url, mailbox),
        running_server(
            database_url, DOCKET_SMTP_URL=url, DOCKET_SUPPORT_ADDRESS="help@docket.example"
        ) as server,
    ):
        yield server, mailbox


def post_mail(
    server: Server, message: EmailMessage | bytes, role: str = "mail_gateway"
) -> httpx.Response:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    with server.client(role) as c:
        return c.post("/v1/inbound/email", content=raw, headers={"Content-Type": "message/rfc822"})


def test_an_agent_reply_is_mailed_and_the_mailed_answer_lands_in_the_ticket(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, mailbox = mailed
    ticket = file_ticket(server)
    with server.client("agent") as agent:
        t = ticket["id"]
        assert agent.post(f"/v1/tickets/{t}/notes", json={"body": NOTE}).status_code == 200
        answer = agent.post(
            f"/v1/tickets/{t}/messages", json={"body": "Which version do you run?"}
        )
        assert answer.status_code == 200, answer.text
    [sent] = [m for m in mailbox.wait_for(1) if m["X-Docket-Ticket"] == ticket["number"]]
    assert sent["To"] == "rita@northwind.example"
    assert NOTE not in sent.as_string()
    assert "Which version do you run?" in sent.get_content()

    reply = EmailMessage()
    reply["From"] = "Rita Requester <rita@northwind.example>"
    reply["To"] = str(sent["Reply-To"])
    reply["Subject"] = "Re: " + str(sent["Subject"])
    reply["Message-ID"] = "<rita-1@northwind.example>"
    reply["In-Reply-To"] = sent["Message-ID"]
    reply["References"] = f"{sent['References']} {sent['Message-ID']}"
    quoted = "\n".join("> " + line for line in sent.get_content().splitlines())
    reply.set_content(f"Version 4.2 on Windows.\n\nOn Monday, Docket Support wrote:\n{quoted}\n")
    taken = post_mail(server, reply)
    assert taken.status_code == 200, taken.text
    assert taken.json()["action"] == "added"
    assert post_mail(server, reply).json()["duplicate"] is True
    with server.client("agent") as agent:
        detail = agent.get(f"/v1/tickets/{t}", params={"min_position": taken.json()["position"]})
    messages = detail.json()["conversation"]
    assert (messages[-1]["body"], messages[-1]["via"]) == ("Version 4.2 on Windows.", "email")
    assert sum(m["body"] == "Version 4.2 on Windows." for m in messages) == 1
    with server.client("admin") as admin:
        outbox = admin.get("/v1/admin/outbox", params={"ticket": ticket["number"]}).json()
    assert outbox["sending"] is True
    assert [e["state"] for e in outbox["emails"]] == ["sent"]


def test_a_new_email_files_a_ticket_and_a_stranger_is_refused_and_kept(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, _ = mailed
    new = EmailMessage()
    new["From"] = "rita@northwind.example"
    new["To"] = "help@docket.example"
    new["Subject"] = "Invoices twice"
    new.set_content("We were billed twice in March.")
    filed = post_mail(server, new)
    assert filed.status_code == 201, filed.text
    with server.client("requester") as rita:
        mine = rita.get(f"/v1/tickets/{filed.json()['id']}",
                        params={"min_position": filed.json()["position"]})  # fmt: skip
    assert (mine.json()["subject"], mine.json()["channel"]) == ("Invoices twice", "email")

    new.replace_header("From", "mallory@elsewhere.example")
    refused = post_mail(server, new)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["reason"] == "unknown-sender"
    with server.client("admin") as admin:
        kept = admin.get("/v1/admin/rejected-mail").json()["emails"]
        raw = admin.get(f"/v1/admin/rejected-mail/{kept[0]['rejected_id']}/raw")
    assert kept[0]["sender"] == "mallory@elsewhere.example"
    assert raw.content == new.as_bytes()
    assert raw.headers["content-disposition"].startswith("attachment")


def test_only_a_gateway_posts_raw_email(mailed: tuple[Server, Mailbox]) -> None:
    server, _ = mailed
    assert post_mail(server, b"From: a@b.c\r\n\r\nhi", role="requester").status_code == 403
    assert post_mail(server, b"From: a@b.c\r\n\r\nhi", role="admin").status_code == 403
    with server.client("mail_gateway") as gateway:
        wrong = gateway.post("/v1/inbound/email", json={"from": "a@b.c"})
    assert wrong.status_code == 415
    unreadable = post_mail(server, b"\x00\x01\x02")
    assert unreadable.status_code == 422
    assert unreadable.json()["type"].endswith("mail-unreadable")
