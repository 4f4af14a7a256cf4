"""Inbound email on real PostgreSQL: replies find their ticket, new mail files one, the rest
is refused with a reason and kept."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import psycopg
import pytest

from desk.service import SupportDesk
from domain.errors import MailRefused, MailUnreadable
from domain.stamp import Stamp
from domain.ticket import Ticket
from domain.vocabulary import ATTACHMENTS_MAX
from mail.intake import MailIntake
from mail.sender import render
from projections.outbox import listing
from projections.runner import ProjectionRunner
from tests.builders import desk_with_account, field_data, new_member, now, system
from tests.mailserver import IDENTITY

GATEWAY = "mx.desk.test"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def intake_options() -> dict[str, Any]:
    """This desk trusts its gateway's verdicts on who sent an email."""
    return {"trusted_authserv_id": GATEWAY}


@pytest.fixture
def world(desk: SupportDesk, runner: ProjectionRunner) -> dict[str, Any]:
    account = desk_with_account(desk)
    new_member(desk, account, "col-1", "c@acme.test", "C", at=now())
    free = desk.open_account(
        name="Freebies", plan="free", support_tier="standard", stamp=system(now())
    ).account_id
    new_member(desk, free, "free-1", "f@free.test", "F", at=now())
    agent = desk.register_staff(
        name="Alex", email="alex@desk.test", role="agent", stamp=system(now())
    ).staff_id
    desk.register_staff(name="Ada", email="ada@desk.test", role="admin", stamp=system(now()))
    filed = desk.file_ticket(account_id=account, requester_id="req-1", subject="Sync fails",
                             description="d", type="bug", priority="normal", product="Files",
                             stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    runner.catch_up()  # the directory knows everyone
    return {"account": account, "agent": agent, "ticket": filed.ticket_id, "number": filed.number}


def email(sender: str, to: str, subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    if headers.pop("vouched", ""):  # the trusted gateway checked the From domain's DMARC
        domain = sender.rpartition("@")[2].strip(">").lower()
        message["Authentication-Results"] = f"{GATEWAY}; dmarc=pass header.from={domain}"
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def reply_to(number: str, person_id: str = "req-1") -> str:
    """The reply address Docket mails ``person_id`` about ticket ``number``: theirs alone."""
    return IDENTITY.reply_address(number, person_id)


def conversation(desk: SupportDesk, ticket: UUID) -> list[tuple[str, str, str]]:
    """(role, author, body) of every message after the description."""
    events: list[Any] = list(desk.repository.event_store.get(ticket))
    added = [e for e in events if type(e).__qualname__ == "Ticket.MessageAdded"]
    return [(e.author_role, e.author_id, e.body) for e in added]


def test_a_reply_to_the_reply_address_lands_trimmed_with_its_attachment(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    number = world["number"]
    reply = email("R <R@Acme.test>", reply_to(number).upper(), f"Re: [{number}] Sync fails",
                  "It works again, thanks!\n\nOn Mon, 4 Mar 2024 at 09:00, Acme Help wrote:\n"
                  "> ##- Please type your reply above this line -##\n> Which version?\n",
                  Message_ID="<r1@acme.test>")  # fmt: skip
    reply.add_attachment(PNG, maintype="image", subtype="png", filename="screen.png")
    taken = intake.take(reply.as_bytes())
    assert (taken.action, taken.number, taken.duplicate) == ("added", number, False)
    assert conversation(desk, world["ticket"])[-1] == (
        "requester",
        "req-1",
        "It works again, thanks!",
    )
    assert len(desk._ticket(world["ticket"]).attachments) == 1
    again = intake.take(reply.as_bytes())
    assert again.duplicate and again.version == taken.version
    assert len(conversation(desk, world["ticket"])) == 1


def test_references_or_the_subject_tag_find_the_ticket_and_say_who_wrote(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    number, ticket = world["number"], world["ticket"]
    by_refs = email("alex@desk.test", "help@desk.test", "Re: your ticket", "Try 4.3.",
                    vouched="yes", In_Reply_To=f"<ticket-{ticket}-2@desk.test>",
                    References=f"<ticket-{ticket}@desk.test> <ticket-{ticket}-2@desk.test>")  # fmt: skip
    assert intake.take(by_refs.as_bytes()).action == "added"
    by_tag = email("a@acme.test", "help@desk.test", f"Re: [{number}] Sync fails", "Same here.",
                   vouched="yes")  # fmt: skip
    assert intake.take(by_tag.as_bytes()).number == number
    assert conversation(desk, ticket) == [
        ("agent", str(world["agent"]), "Try 4.3."),
        ("collaborator", "admin-1", "Same here."),
    ]


@pytest.mark.parametrize(
    ("sender", "to", "subject", "reason"),
    [
        ("stranger@else.test", "help+{n}@desk.test", "Re: hi", "unknown-sender"),
        ("c@acme.test", "help+{n}@desk.test", "Re: hi", "sender-unproven"),
        ("C@acme.test", "help+{n}@desk.test", "Re: hi", "not-allowed"),  # vouched for
        ("r@acme.test", "help+{n}@desk.test", "Re: [{n}] hi", "sender-unproven"),
        ("alex@desk.test", "help+{n}@desk.test", "Re: hi", "sender-unproven"),
        ("ada@desk.test", "help@desk.test", "Re: [{n}] hi", "sender-unproven"),
        ("ada@desk.test", "help@desk.test", "A new ticket", "sender-unproven"),
        ("r@acme.test", "help+T-999999@desk.test", "Re: hi", "unknown-ticket"),
        ("stranger@else.test", "help@desk.test", "Help", "unknown-sender"),
        ("f@free.test", "help@desk.test", "Help", "not-entitled"),
    ],
)
def test_a_refused_email_says_why_and_is_kept_raw_in_the_rejected_list(
    intake: MailIntake, world: dict[str, Any], sender: str, to: str, subject: str, reason: str
) -> None:
    vouched = "yes" if sender.startswith("C@") else ""
    message = email(sender, to.format(n=world["number"]), subject.format(n=world["number"]),
                    "hello", vouched=vouched)  # fmt: skip
    with pytest.raises(MailRefused) as refused:
        intake.take(message.as_bytes())
    assert refused.value.reason == reason
    assert refused.value.detail
    kept = intake.rejected(limit=5, before=None)
    assert [(r["sender"], r["reason"]) for r in kept] == [(sender.lower(), reason)]
    raw = intake.rejected_raw(kept[0]["rejected_id"])
    assert raw == message.as_bytes()


def test_unreadable_mail_and_auto_replies_are_kept_too(
    intake: MailIntake, world: dict[str, Any]
) -> None:
    with pytest.raises(MailUnreadable):
        intake.take(b"\x00\xff not an email at all")
    away = email("r@acme.test", reply_to(world["number"]), "Out of office", "Away.",
                 Auto_Submitted="auto-replied")  # fmt: skip
    with pytest.raises(MailRefused) as refused:
        intake.take(away.as_bytes())
    assert refused.value.reason == "auto-reply"
    assert [r["reason"] for r in intake.rejected(limit=5, before=None)] == [
        "auto-reply",
        "unreadable",
    ]


def test_a_new_email_from_a_paid_member_files_an_email_ticket(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    message = email("C <c@acme.test>", "help@desk.test", "Billing question", "Why two invoices?")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="invoice.png")
    taken = intake.take(message.as_bytes())
    assert taken.action == "filed"
    t = desk._ticket(UUID(taken.ticket_id))
    assert (t.subject, t.channel, t.requester_id, len(t.attachments)) == (
        "Billing question", "email", "col-1", 1,
    )  # fmt: skip


def test_a_required_custom_field_does_not_block_an_email_ticket(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    """Required applies to the web and API form: an email files with no custom values."""
    desk.define_ticket_field(data=field_data(required=True), stamp=system(now()))
    taken = intake.take(email("C <c@acme.test>", "help@desk.test", "Help", "Hi").as_bytes())
    assert taken.action == "filed"
    assert desk._ticket(UUID(taken.ticket_id)).custom_fields == {}


def test_a_reply_to_a_closed_ticket_reopens_it_within_the_window_else_is_refused(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    ticket, number = world["ticket"], world["number"]
    desk.change_status(ticket, to_status="closed", stamp=system(now()))
    taken = intake.take(email("r@acme.test", reply_to(number), "Re", "Broken again").as_bytes())
    assert taken.action == "reopened"
    assert desk._ticket(ticket).status == "open"
    long_ago = Stamp("system", "system", "api", now() - timedelta(days=40))
    desk.change_status(ticket, to_status="closed", stamp=long_ago)
    with pytest.raises(MailRefused) as refused:
        intake.take(email("r@acme.test", reply_to(number), "Re", "Still?").as_bytes())
    assert refused.value.reason == "closed"
    assert "new ticket" in refused.value.detail
    assert f"mention {number} in it" in refused.value.detail
    assert desk._ticket(ticket).status == "closed"


def test_an_attachment_over_the_limit_refuses_the_email_before_any_write(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any], conn: psycopg.Connection[Any]
) -> None:
    message = email("r@acme.test", reply_to(world["number"]), "Re", "the log")
    message.add_attachment(b"x" * 5000, maintype="text", subtype="plain", filename="big.log")
    before = desk._ticket(world["ticket"]).version
    with pytest.raises(MailRefused) as refused:
        intake.take(message.as_bytes())
    assert refused.value.reason == "attachment-too-large"
    assert desk._ticket(world["ticket"]).version == before


def test_an_email_taken_whose_answer_was_lost_is_not_added_or_filed_twice(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any], conn: psycopg.Connection[Any],
    schema: str,
) -> None:  # fmt: skip
    reply = email("r@acme.test", reply_to(world["number"]), "Re", "Thanks",
                  Message_ID="<lost-1@acme.test>")  # fmt: skip
    new = email(
        "c@acme.test", "help@desk.test", "New one", "Hello", Message_ID="<lost-2@acme.test>"
    )
    first_reply, first_filing = intake.take(reply.as_bytes()), intake.take(new.as_bytes())
    # the writes committed, then the record of the answer was lost (a crash in between)
    conn.execute(f'DELETE FROM "{schema}".inbound_mail')
    again_reply, again_filing = intake.take(reply.as_bytes()), intake.take(new.as_bytes())
    assert (again_reply.duplicate, again_reply.version) == (True, first_reply.version)
    assert (again_filing.duplicate, again_filing.ticket_id) == (True, first_filing.ticket_id)
    assert [body for _, _, body in conversation(desk, world["ticket"])] == ["Thanks"]


def test_another_sender_reusing_a_message_id_is_not_taken_for_the_first_email(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    number = world["number"]
    intake.take(email("r@acme.test", reply_to(number), "Re", "Mine",
                      Message_ID="<same@x.test>").as_bytes())  # fmt: skip
    copycat = email("a@acme.test", reply_to(number, "admin-1"), "Re", "Also mine",
                    Message_ID="<same@x.test>")  # fmt: skip
    assert intake.take(copycat.as_bytes()).duplicate is False
    assert [body for _, _, body in conversation(desk, world["ticket"])] == ["Mine", "Also mine"]


def test_a_forged_staff_from_is_refused_kept_and_writes_nothing_whatever_the_reference(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    """Issue 17: ``From: <an agent's address>`` and a subject tag was an agent reply."""
    number, ticket = world["number"], world["ticket"]
    version = desk._ticket(ticket).version
    forged = [
        email("alex@desk.test", "help@desk.test", f"Re: [{number}] Sync fails", "Refund sent"),
        email("ada@desk.test", f"help+{number}@desk.test", "Re", "Closing this"),
        email("alex@desk.test", "help@desk.test", "Re", "Try this link",
              References=f"<ticket-{ticket}@desk.test>"),
        # a reply address signed for someone else (the requester) proves nothing for Alex
        email("alex@desk.test", reply_to(number), "Re", "Let me in"),
        # the gateway's verdict is about another domain, or from another gateway
        email("alex@desk.test", "help@desk.test", f"Re: [{number}]", "x",
              Authentication_Results=f"{GATEWAY}; dmarc=pass header.from=evil.test"),
        email("alex@desk.test", "help@desk.test", f"Re: [{number}]", "x",
              Authentication_Results="mx.evil.test; dmarc=pass header.from=desk.test"),
    ]  # fmt: skip
    for message in forged:
        with pytest.raises(MailRefused) as refused:
            intake.take(message.as_bytes())
        assert refused.value.reason == "sender-unproven"
        assert "staff" in refused.value.detail
    assert desk._ticket(ticket).version == version
    kept = intake.rejected(limit=20, before=None)
    assert [r["reason"] for r in kept] == ["sender-unproven"] * len(forged)


def test_a_forged_authentication_result_below_the_gateways_own_proves_nothing(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    number = world["number"]
    message = EmailMessage()
    message["Authentication-Results"] = f"{GATEWAY}; dkim=fail header.d=desk.test; dmarc=fail"
    message["Received"] = "from mail.evil.test by mx.desk.test; Mon, 4 Mar 2024 09:00:00 +0000"
    message["Authentication-Results"] = f"{GATEWAY}; dmarc=pass header.from=desk.test"
    message["From"] = "alex@desk.test"
    message["To"] = "help@desk.test"
    message["Subject"] = f"Re: [{number}] Sync fails"
    message.set_content("I am an agent, honest")
    with pytest.raises(MailRefused) as refused:
        intake.take(message.as_bytes())
    assert refused.value.reason == "sender-unproven"
    del message["Authentication-Results"]  # the gateway's own verdict on top is a pass
    message["Authentication-Results"] = f"{GATEWAY}; dkim=pass header.d=desk.test"
    raw = message.as_bytes()
    on_top = b"Authentication-Results: " + GATEWAY.encode() + b"; dkim=pass header.d=desk.test\n"
    taken = intake.take(on_top + raw.replace(on_top, b""))
    assert taken.action == "added"
    assert conversation(desk, world["ticket"])[-1][0] == "agent"


def test_without_a_trusted_gateway_only_the_reply_address_proves_the_sender(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    number = world["number"]
    untrusting = MailIntake(intake.desk, intake.pool, intake.schema, intake.attachments,
                            IDENTITY, max_attachment_bytes=1024)  # fmt: skip
    vouched = email("alex@desk.test", "help@desk.test", f"Re: [{number}]", "x", vouched="yes")
    with pytest.raises(MailRefused) as refused:
        untrusting.take(vouched.as_bytes())
    assert refused.value.reason == "sender-unproven"
    assert untrusting.take(email("r@acme.test", reply_to(number), "Re", "Mine").as_bytes())


def test_an_unproven_customer_may_file_a_new_ticket_but_not_add_to_or_reopen_one(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    number, ticket = world["number"], world["ticket"]
    filed = intake.take(email("r@acme.test", "help@desk.test", "New problem", "Help").as_bytes())
    assert filed.action == "filed"
    others = IDENTITY.reply_token(filed.number, "req-1")  # signed for the requester's other one
    for message in (
        email("r@acme.test", "help@desk.test", f"Re: [{number}] Sync fails", "More"),
        email("r@acme.test", f"help+{number}@desk.test", "Re", "More"),
        email("r@acme.test", f"help+{number}.{'a' * 26}@desk.test", "Re", "More"),  # made up
        email("r@acme.test", f"help+{number}.{others}@desk.test", "Re", "Other ticket's"),
    ):
        with pytest.raises(MailRefused) as refused:
            intake.take(message.as_bytes())
        assert refused.value.reason == "sender-unproven"
        assert "new ticket" in refused.value.detail or "without the ticket" in refused.value.detail
    desk.change_status(ticket, to_status="closed", stamp=system(now()))
    with pytest.raises(MailRefused) as refused:
        intake.take(email("r@acme.test", f"help+{number}@desk.test", "Re", "Again").as_bytes())
    assert refused.value.reason == "sender-unproven"
    assert desk._ticket(ticket).status == "closed"
    assert conversation(desk, ticket) == []
    # a colleague who was never sent the requester's reply address cannot use it either
    with pytest.raises(MailRefused) as refused:
        intake.take(email("a@acme.test", reply_to(number), "Re", "Mine now").as_bytes())
    assert refused.value.reason == "sender-unproven"


def test_one_email_carries_no_more_files_than_one_message_over_the_api(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    """Issue 17: 1,500 tiny attachments in one email wrote 1,501 events."""
    ticket = world["ticket"]
    version = desk._ticket(ticket).version
    flood = email("r@acme.test", reply_to(world["number"]), "Re", "files")
    for n in range(ATTACHMENTS_MAX + 1):
        flood.add_attachment(PNG[:8] + bytes([n]) * 8, maintype="image", subtype="png",
                             filename=f"{n}.png")  # fmt: skip
    with pytest.raises(MailRefused) as refused:
        intake.take(flood.as_bytes())
    assert refused.value.reason == "too-many-attachments"
    assert str(ATTACHMENTS_MAX) in refused.value.detail
    heavy = email("r@acme.test", reply_to(world["number"]), "Re", "files")
    for n in range(2):  # each within the limit of 1024, together over it (real PNGs)
        heavy.add_attachment(PNG[:8] + bytes([n]) * 600, maintype="image", subtype="png",
                             filename=f"{n}.png")  # fmt: skip
    with pytest.raises(MailRefused) as refused:
        intake.take(heavy.as_bytes())
    assert refused.value.reason == "attachments-too-large"
    filing = email("r@acme.test", "help@desk.test", "New", "files")
    for n in range(ATTACHMENTS_MAX + 1):
        filing.add_attachment(
            PNG + bytes([n]), maintype="image", subtype="png", filename=f"{n}.png"
        )
    with pytest.raises(MailRefused):
        intake.take(filing.as_bytes())
    assert desk._ticket(ticket).version == version
    assert [r["reason"] for r in intake.rejected(limit=5, before=None)] == [
        "too-many-attachments", "attachments-too-large", "too-many-attachments",
    ]  # fmt: skip
    enough = email("r@acme.test", reply_to(world["number"]), "Re", "files")
    for n in range(ATTACHMENTS_MAX):
        enough.add_attachment(PNG[:8] + bytes([n]) * 8, maintype="image", subtype="png",
                              filename=f"{n}.png")  # fmt: skip
    assert intake.take(enough.as_bytes()).action == "added"


def test_the_answer_to_a_contact_request_turned_ticket_lands_in_the_ticket_as_its_requester(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any], runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
) -> None:  # fmt: skip
    reference = desk.receive_contact(name="R", email="r@acme.test", subject="Locked out",
                                     description="No reset email.", product="Files",
                                     client_address="203.0.113.9", stamp=system(now())).reference  # fmt: skip
    filed = desk.turn_contact_into_ticket(
        reference, account_id=world["account"], stamp=system(now())
    )
    runner.catch_up()
    [row] = listing(conn, runner.tables, IDENTITY, state=None, ticket=reference, limit=5,
                    before=None)  # fmt: skip
    told = render(row, IDENTITY, row["recipient_ids"][0], row["recipients"][0])
    assert told["Reply-To"].addresses[0].addr_spec == reply_to(filed.number)
    reply = email("r@acme.test", str(told["Reply-To"]), f"Re: {told['Subject']}", "Thanks!",
                  In_Reply_To=str(told["Message-ID"]))  # fmt: skip
    taken = intake.take(reply.as_bytes())
    assert (taken.action, taken.number) == ("added", filed.number)
    assert conversation(desk, filed.ticket_id) == [("requester", "req-1", "Thanks!")]


@pytest.mark.parametrize(
    ("maintype", "subtype"),
    [("text", "html"), ("image", "svg+xml"), ("application", "javascript"),
     ("application", "xhtml+xml")],
)  # fmt: skip
def test_an_email_with_a_file_a_browser_would_run_is_refused_and_kept_before_any_write(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any], maintype: str, subtype: str
) -> None:
    """The same type allowlist as uploads: such a file was once stored and served as is."""
    message = email("r@acme.test", reply_to(world["number"]), "Re", "see page")
    message.add_attachment(b"<html><script>alert(1)</script></html>", maintype=maintype,
                           subtype=subtype, filename="page")  # fmt: skip
    before = desk._ticket(world["ticket"]).version
    with pytest.raises(MailRefused) as refused:
        intake.take(message.as_bytes())
    assert refused.value.reason == "unsupported-attachment-type"
    assert f"{maintype}/{subtype}" in refused.value.detail
    assert desk._ticket(world["ticket"]).version == before
    kept = intake.rejected(limit=1, before=None)
    assert [(k["sender"], k["reason"]) for k in kept] == [
        ("r@acme.test", "unsupported-attachment-type")
    ]


def test_an_email_file_whose_bytes_are_not_its_type_is_refused_naming_it_and_what_it_is(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    new = email("r@acme.test", "help@desk.test", "Screenshot", "attached")
    new.add_attachment(b"<!doctype html><p>hi</p>", maintype="image", subtype="png",
                       filename="screen.png")  # fmt: skip
    with pytest.raises(MailRefused) as refused:
        intake.take(new.as_bytes())
    assert refused.value.reason == "attachment-content-mismatch"
    assert "screen.png" in refused.value.detail
    assert "HTML" in refused.value.detail
    assert intake.rejected(limit=1, before=None)[0]["reason"] == "attachment-content-mismatch"


def test_an_email_file_is_an_upload_of_its_sender_under_its_clean_name(
    intake: MailIntake, desk: SupportDesk, world: dict[str, Any]
) -> None:
    new = email("r@acme.test", "help@desk.test", "Log", "attached", Message_ID="<log@acme.test>")
    new.add_attachment(b"line 1\n", maintype="text", subtype="plain",
                       filename="..\\..\\C:\\logs\\sync\u202e.txt")  # fmt: skip
    taken = intake.take(new.as_bytes())
    events: list[Any] = list(desk.repository.event_store.get(UUID(taken.ticket_id)))
    added = [e for e in events if isinstance(e, Ticket.AttachmentAdded)]
    assert [(e.filename, e.content_type) for e in added] == [("sync.txt", "text/plain")]
    assert intake.attachments.describe(added[0].attachment_id, "req-1") is not None
    assert intake.attachments.describe(added[0].attachment_id, "admin-1") is None
