"""Email in and out over real HTTP and SMTP: a reply is mailed, the mailed answer comes back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from mail.message import parse_mail
from tests.e2e.conftest import Server, file_ticket, mailing_server
from tests.mailserver import Mailbox

NOTE = "Customer is on the legacy cluster, do not tell them"
ATTACHMENT_LIMIT = 256 * 1024
UPLOAD_LIMIT = ATTACHMENT_LIMIT + 64 * 1024
GATEWAY = "mx.docket.example"


@pytest.fixture(scope="module")
def mailed(database_url: str) -> Iterator[tuple[Server, Mailbox]]:
    with mailing_server(
        database_url,
        DOCKET_SUPPORT_ADDRESS="help@docket.example",
        DOCKET_MAX_ATTACHMENT_BYTES=str(ATTACHMENT_LIMIT),
        DOCKET_MAIL_TRUSTED_AUTHSERV_ID=GATEWAY,
    ) as mailed:
        yield mailed


def post_mail(
    server: Server, message: EmailMessage | bytes, role: str = "mail_gateway"
) -> httpx.Response:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    with server.client(role) as c:
        return c.post("/v1/inbound/email", content=raw, headers={"Content-Type": "message/rfc822"})


def mailed_about(mailbox: Mailbox, number: str, count: int) -> list[EmailMessage]:
    """The first ``count`` emails about ticket ``number``, once they have all arrived."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in mailbox.messages() if m["X-Docket-Ticket"] == number]
        if len(found) >= count:
            return found[:count]
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} emails about {number} arrived")


def to_the_desk(sender: str, subject: str, body: str) -> EmailMessage:
    """An email from ``sender`` to the desk's address."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = "help@docket.example"
    email["Subject"] = subject
    email.set_content(body)
    return email


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
    acknowledged, sent = mailed_about(mailbox, ticket["number"], 2)  # the note mails nobody
    assert acknowledged["Subject"] == f"Request received: [{ticket['number']}] Sync fails"
    assert sent["To"] == acknowledged["To"] == "rita@northwind.example"
    assert NOTE not in acknowledged.as_string()
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
    assert [e["state"] for e in outbox["emails"]] == ["sent", "sent"]


def test_a_new_email_files_a_ticket_and_a_stranger_is_refused_and_kept(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, _ = mailed
    new = to_the_desk("rita@northwind.example", "Invoices twice", "We were billed twice in March.")
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


def test_the_gateway_is_told_the_same_for_a_ticket_the_sender_may_not_write_to_as_for_none(
    mailed: tuple[Server, Mailbox],
) -> None:
    """Issue 17: a gateway that bounces its answer told the sender whether the ticket
    exists (``not-allowed``, ``sender-unproven``, ``unknown-sender`` against
    ``unknown-ticket``); the admins still read the precise reason."""
    server, _ = mailed
    ticket = file_ticket(server)
    senders = {
        "carl@contoso.example": "not-allowed",  # vouched for, of another account
        "rita@northwind.example": "sender-unproven",  # the requester's address, no proof
        "alex@docket.example": "sender-unproven",  # a staff address, no proof
        "mallory@elsewhere.example": "unknown-sender",
    }
    answers = []
    for n, (sender, reason) in enumerate(senders.items()):
        for ref in (ticket["number"], "T-999999"):
            mail = EmailMessage()
            mail["From"] = sender
            mail["To"] = "help@docket.example"
            mail["Subject"] = f"Re: [{ref}] Sync fails"
            mail["Message-ID"] = f"<probe-{n}-{ref}@elsewhere.example>"
            if sender.startswith("carl"):
                mail["Authentication-Results"] = (
                    f"{GATEWAY}; dmarc=pass header.from=contoso.example"
                )
            mail.set_content("Does this ticket exist?")
            answer = post_mail(server, mail)
            body = answer.json()
            answers.append(
                (answer.status_code, answer.headers["content-type"], body["type"],
                 body["reason"], body["detail"].replace(ref, "REF"), tuple(sorted(body)))
            )  # fmt: skip
            kept = rejected(server)[0]
            assert kept["sender"] == sender
            assert kept["reason"] == (reason if ref == ticket["number"] else "unknown-ticket")
    assert len(set(answers)) == 1, answers
    assert answers[0][0] == 422 and answers[0][3] == "unknown-ticket"
    assert [m["body"] for m in conversation(server, ticket["id"])] == ["Since this morning."]


def rejected(server: Server) -> list[dict[str, Any]]:
    with server.client("admin") as admin:
        emails: list[dict[str, Any]] = admin.get("/v1/admin/rejected-mail").json()["emails"]
    return emails


def conversation(server: Server, ticket: str) -> list[dict[str, Any]]:
    with server.client("agent") as agent:
        messages: list[dict[str, Any]] = agent.get(f"/v1/tickets/{ticket}").json()["conversation"]
    return messages


def test_a_forged_agent_or_admin_from_is_refused_kept_and_adds_nothing(
    mailed: tuple[Server, Mailbox],
) -> None:
    """Issue 17: ``From: <an agent's address>``, ``Subject: Re: [T-…]`` was an agent reply,
    mailed to the customer."""
    server, _ = mailed
    ticket = file_ticket(server)
    for forger in ("alex@docket.example", "root@docket.example"):
        forged = to_the_desk(
            forger,
            f"Re: [{ticket['number']}] Sync fails",
            "Please confirm your password at http://evil.example/login",
        )
        refused = post_mail(server, forged)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["reason"] == "unknown-ticket"  # told as if there were none
        assert rejected(server)[0]["sender"] == forger
        assert rejected(server)[0]["reason"] == "sender-unproven"
        assert "agent console" in rejected(server)[0]["detail"]
    assert [m["body"] for m in conversation(server, ticket["id"])] == ["Since this morning."]
    # vouched for by the gateway, the agent's email is theirs
    forged.replace_header("From", "alex@docket.example")
    forged["Authentication-Results"] = f"{GATEWAY}; dmarc=pass header.from=docket.example"
    forged.replace_header("Subject", f"Re: [{ticket['number']}] Sync fails (2)")
    answer = post_mail(server, forged)
    assert answer.status_code == 200, answer.text
    assert conversation(server, ticket["id"])[-1]["author_role"] == "agent"


def test_an_email_with_a_flood_of_files_is_refused_at_once_and_kept(
    mailed: tuple[Server, Mailbox],
) -> None:
    """Issue 17: 1,500 tiny attachments took 19 s and wrote 1,501 events."""
    server, _ = mailed
    flood = to_the_desk("rita@northwind.example", "Logs", "All the logs.")
    for n in range(1500):
        flood.add_attachment(b"x", maintype="application", subtype="octet-stream",
                             filename=f"{n}.log")  # fmt: skip
    raw = flood.as_bytes()
    started = time.monotonic()
    parse_mail(raw)  # the baseline, in this run: reading the message at all
    parsing = time.monotonic() - started
    with server.client() as anonymous:
        head = anonymous.get("/healthz").json()["position"]
    started = time.monotonic()
    refused = post_mail(server, raw)
    took = time.monotonic() - started
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason"] == "too-many-attachments"
    with server.client() as anonymous:
        assert anonymous.get("/healthz").json()["position"] == head  # not one event written
    # refused once read, not after 1,500 files are checked and stored (19 s was ~10x parsing)
    assert took < 4 * parsing + 1.0, (took, parsing)
    assert rejected(server)[0]["reason"] == "too-many-attachments"


def test_an_email_over_the_size_limit_is_refused_and_its_first_bytes_are_kept(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, _ = mailed
    big = to_the_desk("rita@northwind.example", "A huge log", "Attached.")
    big.add_attachment(b"y" * UPLOAD_LIMIT, maintype="text", subtype="plain", filename="huge.log")
    raw = big.as_bytes()
    refused = post_mail(server, raw)
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("body-too-large")
    [kept] = rejected(server)[:1]
    assert (kept["reason"], kept["sender"], kept["subject"]) == (
        "too-large", "rita@northwind.example", "A huge log"
    )  # fmt: skip
    assert kept["size"] == len(raw) and "first" in kept["detail"]
    with server.client("admin") as admin:
        head = admin.get(f"/v1/admin/rejected-mail/{kept['rejected_id']}/raw").content
    assert head == raw[:UPLOAD_LIMIT]
