"""Notification emails: the outbox view, and its delivery over real SMTP on loopback."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from desk.service import SupportDesk
from domain.stamp import Stamp
from mail.sender import MailSender
from projections.catalog import VIEWS
from projections.kit import Tables
from projections.outbox import REPLY_ABOVE, listing
from projections.runner import ProjectionRunner
from replay.rebuild import rebuild
from tests.builders import desk_with_account, now, system
from tests.mailserver import IDENTITY, Mailbox, mail_sender, smtp_server

NOTE = "INTERNAL: the customer is on the legacy cluster"


def worked_conversation(desk: SupportDesk) -> tuple[UUID, str]:
    """A ticket with every kind of event the outbox hears, and an internal note."""
    account = desk_with_account(desk)
    # these tests count the conversation's notifications; surveys have tests of their own
    desk.set_member_preferences(account, member_id="req-1", surveys=False, stamp=system(now()))
    agent = desk.register_staff(  # one registration per address: a new agent each time
        name="Alex Agent",
        email=f"alex-{uuid4().hex[:8]}@desk.test",
        role="agent",
        stamp=system(now()),
    ).staff_id
    staff = Stamp(str(agent), "agent", "web", now())
    filed = desk.file_ticket(account_id=account, requester_id="req-1", subject="Sync fails",
                             description="Files stop syncing.", type="bug", priority="normal",
                             product="Files", stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    t = filed.ticket_id
    desk.add_message(t, author_id=str(agent), author_role="agent",
                     body="Which version do you run?", stamp=staff)  # fmt: skip
    desk.add_internal_note(t, author_id=str(agent), body=NOTE, stamp=staff)
    desk.change_status(t, to_status="pending", stamp=staff)
    desk.add_message(t, author_id="req-1", author_role="requester", body="Version 4.2.",
                     stamp=Stamp("req-1", "requester", "email", now()))  # fmt: skip
    desk.add_message(t, author_id="admin-1", author_role="collaborator",
                     body="Same here on 4.2.", stamp=Stamp("admin-1", "requester", "web", now()))  # fmt: skip
    desk.add_message(t, author_id=str(agent), author_role="agent",
                     body="Fixed in 4.3.", stamp=staff)  # fmt: skip
    desk.change_status(t, to_status="closed", stamp=staff)
    return t, filed.number


@pytest.fixture
def conversation(desk: SupportDesk, runner: ProjectionRunner) -> tuple[UUID, str]:
    """A worked conversation the views have folded: the outbox owes its emails. Its ticket
    id and number."""
    worked = worked_conversation(desk)
    runner.catch_up()
    return worked


@pytest.fixture
def sender(database_url: str, schema: str, mail: tuple[str, Mailbox]) -> MailSender:
    """The desk's outbound mail, sent to this test's SMTP server."""
    return mail_sender(database_url, schema, mail[0])


def test_each_public_reply_and_pending_or_closed_mails_everyone_but_its_author(
    conversation: tuple[UUID, str],
    sender: MailSender,
    conn: psycopg.Connection[Any],
    schema: str,
    mail: tuple[str, Mailbox],
) -> None:
    ticket_id, number = conversation
    assert sender.drain(conn) == {"sent": 6}
    got = mail[1].messages()
    sent = [(m["Subject"], m["To"], m.get_content()) for m in got]
    # filed → the requester's acknowledgement; agent reply → requester; pending →
    # requester; the requester's reply → nobody (no collaborator yet); the collaborator's
    # reply → requester; agent reply, closed → both, each a copy of their own
    assert [to for _, to, _ in sent] == [
        "r@acme.test", "r@acme.test", "r@acme.test", "r@acme.test",
        "r@acme.test", "a@acme.test", "r@acme.test", "a@acme.test",
    ]  # fmt: skip
    assert [r.rcpt_tos for r in mail[1].received] == [[to] for _, to, _ in sent]
    assert all(NOTE not in body and "legacy cluster" not in body for _, _, body in sent)
    assert sent[0][0] == f"Request received: [{number}] Sync fails"
    assert all(s[0] == f"Re: [{number}] Sync fails" for s in sent[1:])
    person = {"r@acme.test": "req-1", "a@acme.test": "admin-1"}
    for m in got:  # a reply address each, signed for that person: a reply to it is theirs
        reply_to = m["Reply-To"].addresses[0].addr_spec
        assert reply_to == IDENTITY.reply_address(number, person[m["To"]])
        assert reply_to.startswith(f"help+{number}.")
    assert len({m["Reply-To"] for m in got}) == 2
    assert all(m.get_content().startswith(REPLY_ABOVE) for m in got)
    copies = [(m["Message-ID"], m["To"]) for m in got]
    assert len(set(copies)) == len(copies)
    root = f"<ticket-{ticket_id}@desk.test>"
    assert got[0]["In-Reply-To"] == root
    requesters = [m for m in got if m["To"] == "r@acme.test"]
    for earlier, later in itertools.pairwise(requesters):
        assert later["In-Reply-To"] == earlier["Message-ID"]
        assert later["References"].split()[0] == root
        assert earlier["Message-ID"] in later["References"].split()
    assert "Which version do you run?" in got[1].get_content()
    assert "Alex Agent wrote" in got[1].get_content()
    assert got[-1]["Auto-Submitted"] == "auto-generated"
    rows = listing(
        conn, Tables(schema), IDENTITY, state=None, ticket=number, limit=50, before=None
    )
    assert {r["state"] for r in rows} == {"sent"}
    assert sender.drain(conn) == {}


def test_requester_reply_mails_collaborators_only_and_imports_mail_nobody(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
) -> None:  # fmt: skip
    account = desk_with_account(desk)
    filed = desk.file_ticket(account_id=account, requester_id="req-1", subject="Export",
                             description="d", type="bug", priority="normal", product="Files",
                             stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    t = filed.ticket_id
    desk.add_message(t, author_id="admin-1", author_role="collaborator", body="following",
                     stamp=Stamp("admin-1", "requester", "web", now()))  # fmt: skip
    desk.add_message(t, author_id="req-1", author_role="requester", body="any news?",
                     stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    desk.add_message(t, author_id="imp", author_role="agent", body="old answer",
                     stamp=Stamp("imp", "importer", "import", now()))  # fmt: skip
    runner.catch_up()
    rows = listing(
        conn, Tables(schema), IDENTITY, state="queued", ticket=None, limit=50, before=None
    )
    assert [(r["reason"], r["recipients"]) for r in reversed(rows)] == [
        ("acknowledgement", ["r@acme.test"]),
        ("collaborator_reply", ["r@acme.test"]),
        ("requester_reply", ["a@acme.test"]),
    ]


@pytest.mark.usefixtures("conversation")
def test_a_server_away_or_refusing_docket_touches_no_email_a_refusal_fails_and_old_mail_expires(
    database_url: str, schema: str, conn: psycopg.Connection[Any]
) -> None:
    with smtp_server() as (url, mailbox):
        pass  # a port nobody listens on any more
    away = mail_sender(database_url, schema, url, timeout=2.0)
    assert away.drain(conn) == {"unavailable": 1}
    queued = listing(conn, Tables(schema), IDENTITY, state="queued", ticket=None, limit=50,
                     before=None)  # fmt: skip
    assert len(queued) == 6
    assert {r["attempts"] for r in queued} == {0}
    deliveries = f'"{schema}".mail_deliveries'
    with smtp_server() as (url, mailbox):
        mailbox.refuse_sender = "553 5.7.1 Sender address rejected: not owned by user"
        refusing = mail_sender(database_url, schema, url)
        refusing.drain(conn)
        states = conn.execute(f"SELECT state, attempts FROM {deliveries}").fetchall()
        assert {state for state, _ in states} <= {"queued", "retry"}  # never failed for it
        assert {attempts for _, attempts in states} == {0}
        mailbox.refuse_sender = None
        mailbox.refuse["a@acme.test"] = "550 5.1.1 No such user"
        conn.execute(f"UPDATE {deliveries} SET next_attempt_at = now()")
        back = mail_sender(database_url, schema, url)
        assert back.drain(conn) == {"sent": 6}
        assert len(mailbox.messages()) == 6
        # one refused recipient of two: the other has it, and the outbox says who did not
        partial = listing(conn, Tables(schema), IDENTITY, state="sent", ticket=None, limit=50,
                          before=None)  # fmt: skip
        assert sum("a@acme.test" in (r["last_error"] or "") for r in partial) == 2
        mailbox.refuse["r@acme.test"] = "550 5.1.1 No such user"
        newest = partial[0]["notification_id"]
        conn.execute(f"DELETE FROM {deliveries} WHERE notification_id = %s", (newest,))
        assert back.drain(conn) == {}  # a running sender looks only past the newest it saw
        again = mail_sender(database_url, schema, url)  # one starting anew looks at them all
        assert again.drain(conn) == {"failed": 1}
        conn.execute(f"DELETE FROM {deliveries} WHERE notification_id = %s", (newest,))
        rebuild(database_url, schema, [VIEWS["outbox"]])  # the outbox table is replaced:
        assert back.drain(conn) == {"failed": 1}  # the running sender looks at it all again
        failed = listing(conn, Tables(schema), IDENTITY, state="failed", ticket=None, limit=5,
                         before=None)  # fmt: skip
        assert "No such user" in failed[0]["last_error"]
        conn.execute(f"DELETE FROM {deliveries}")
        stale = mail_sender(database_url, schema, url, max_age=timedelta(seconds=0))
        assert stale.drain(conn) == {"expired": 6}
        assert len(mailbox.messages()) == 6


def test_a_subject_with_line_breaks_is_mailed_on_one_line(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any], mail: tuple[str, Mailbox],
) -> None:  # fmt: skip
    account = desk_with_account(desk)
    filed = desk.file_ticket(account_id=account, requester_id="req-1",
                             subject="Sync\r\nBcc: everyone@example.test\n fails", description="d",
                             type="bug", priority="normal", product="Files",
                             stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    desk.change_status(filed.ticket_id, to_status="pending", stamp=system(now()))
    runner.catch_up()
    assert mail_sender(database_url, schema, mail[0]).drain(conn) == {"sent": 2}
    acknowledged, got = mail[1].messages()
    assert acknowledged["Subject"] == (
        f"Request received: [{filed.number}] Sync Bcc: everyone@example.test fails"
    )
    assert got["Subject"] == f"Re: [{filed.number}] Sync Bcc: everyone@example.test fails"
    assert got["Bcc"] is None and acknowledged["Bcc"] is None
    assert [r.rcpt_tos for r in mail[1].received] == [["r@acme.test"], ["r@acme.test"]]


def test_a_sender_killed_mid_delivery_and_restarted_sends_each_email_exactly_once(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any], mail: tuple[str, Mailbox],
) -> None:  # fmt: skip
    for _ in range(5):
        worked_conversation(desk)
    runner.catch_up()
    rows = listing(conn, Tables(schema), IDENTITY, state=None, ticket=None, limit=500, before=None)
    assert len(rows) == 30
    owed = sum(len(r["recipients"]) for r in rows)  # a copy for each recipient
    assert owed == 40
    url, mailbox = mail
    mailbox.rcpt_delay = 0.01
    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema,
           "DOCKET_SMTP_URL": url, "DOCKET_SUPPORT_ADDRESS": "help@desk.test",
           "DOCKET_MAIL_FROM": "Acme Help <help@desk.test>"}  # fmt: skip

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "project", "outbox"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    for _ in range(3):  # killed -9 in the middle of an SMTP conversation, three times
        running = worker()
        mailbox.kill_at = (running.pid, mailbox.rcpts + 6)
        assert running.wait(timeout=60) == -signal.SIGKILL
    delivered_before_the_last_start = len(mailbox.messages())
    assert 0 < delivered_before_the_last_start < owed
    last = worker()
    try:
        mailbox.wait_for(owed, timeout=60)
        time.sleep(1.0)  # anything sent twice would arrive by now
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(timeout=30)
    copies = [(m["Message-ID"], m["To"]) for m in mailbox.messages()]
    assert len(copies) == owed
    assert len(set(copies)) == owed, "an email was delivered twice to someone"
    rows = listing(conn, Tables(schema), IDENTITY, state=None, ticket=None, limit=500, before=None)
    assert {r["state"] for r in rows} == {"sent"}
    assert {r["message_id"] for r in rows} == {message_id for message_id, _ in copies}


@pytest.mark.usefixtures("conversation")
def test_the_outbox_rebuilt_from_zero_names_the_same_emails_and_keeps_what_was_sent(
    database_url: str,
    schema: str,
    conn: psycopg.Connection[Any],
    mail: tuple[str, Mailbox],
    sender: MailSender,
) -> None:
    assert sender.drain(conn) == {"sent": 6}
    assert rebuild(database_url, schema, [VIEWS["outbox"]], check=True).differences == {
        "outbox": []
    }
    rebuild(database_url, schema, [VIEWS["outbox"]])  # swapped in: delivery state stays
    rows = listing(conn, Tables(schema), IDENTITY, state=None, ticket=None, limit=50, before=None)
    assert [r["state"] for r in rows] == ["sent"] * 6
    assert sender.drain(conn) == {}
    assert len(mail[1].messages()) == 8  # six emails, two of them to two people


@pytest.mark.usefixtures("conversation")
def test_a_recipient_refused_for_now_gets_their_copy_later_and_the_others_not_twice(
    schema: str, conn: psycopg.Connection[Any], mail: tuple[str, Mailbox], sender: MailSender
) -> None:
    mailbox = mail[1]
    mailbox.refuse["a@acme.test"] = "451 4.3.0 Try again later"
    assert sender.drain(conn) == {"sent": 4, "retry": 2}
    deliveries = f'"{schema}".mail_deliveries'
    held = conn.execute(f"SELECT sent_to FROM {deliveries} WHERE state = 'retry'").fetchall()
    assert [list(row[0]) for row in held] == [["req-1"], ["req-1"]]
    del mailbox.refuse["a@acme.test"]
    conn.execute(f"UPDATE {deliveries} SET next_attempt_at = now()")
    assert sender.drain(conn) == {"sent": 2}
    copies = [(m["Message-ID"], m["To"]) for m in mailbox.messages()]
    assert len(copies) == 8 and len(set(copies)) == 8
