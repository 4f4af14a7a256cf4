"""Merging duplicates on real PostgreSQL: the views, the requester's email over loopback
SMTP, an emailed reply to the merged ticket landing in the target, and racing merges."""

from __future__ import annotations

import threading
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import psycopg
import pytest

from desk.service import SupportDesk
from domain import errors
from domain.stamp import Stamp
from domain.ticket import Ticket
from mail.intake import MailIntake
from projections import tag_counts, ticket_detail
from projections.dashboard import queries
from projections.kit import Tables
from projections.runner import ProjectionRunner
from replay.history import backlog
from tests.builders import SYNC_FAILS, desk_with_account, new_member, new_staff, now
from tests.mailserver import IDENTITY, Mailbox, mail_sender

NOTE = "INTERNAL: both come from the same broken laptop"


def person(who: str) -> Stamp:
    return Stamp(who, "requester", "web", now())


@pytest.fixture
def duplicates(desk: SupportDesk) -> dict[str, Any]:
    """Bea files a ticket; her colleague R files the same problem again; an agent, Alex,
    notes something about R's and merges it into Bea's."""
    account = desk_with_account(desk)
    new_member(desk, account, "bea", "bea@acme.test", "Bea", at=now())
    alex = new_staff(desk, "Alex Agent", "alex@desk.test", at=now())
    target = desk.file_ticket(account_id=account, requester_id="bea", stamp=person("bea"),
                              **SYNC_FAILS)  # fmt: skip
    source = desk.file_ticket(account_id=account, requester_id="req-1", stamp=person("req-1"),
                              **SYNC_FAILS)  # fmt: skip
    staff = Stamp(alex, "agent", "web", now())
    desk.add_internal_note(source.number, author_id=alex, body=NOTE, stamp=staff)
    desk.add_message(source.number, author_id="req-1", author_role="requester",
                     body="It is my laptop too.", stamp=person("req-1"))  # fmt: skip
    for ticket in (source, target):
        desk.change_tags(ticket.number, add=["laptop"], remove=[], stamp=staff)
    desk.merge_ticket(source.number, into=target.number, stamp=staff)
    return {"account": account, "alex": alex, "source": source, "target": target, "staff": staff}


def test_the_views_show_the_merge_on_both_tickets_and_count_the_request_once(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any],
    schema: str, duplicates: dict[str, Any],
) -> None:  # fmt: skip
    runner.catch_up()
    t = Tables(schema)
    source, target = duplicates["source"].number, duplicates["target"].number
    merged = ticket_detail.detail(conn, t, source, with_internal_notes=False, seen_by="customer")
    assert merged is not None
    assert (merged["status"], merged["merged_into"], merged["closed_at"] is not None) == (
        "closed", target, True,
    )  # fmt: skip
    went = ticket_detail.detail(conn, t, target, with_internal_notes=False, seen_by="customer")
    assert went is not None
    assert (went["status"], went["merged_from"], went["participants"]) == (
        "open", [source], ["req-1"],
    )  # fmt: skip
    owner = ticket_detail.owner_of(conn, t, target)
    assert owner is not None and owner.participants == ("req-1",)
    for table in ("inbox_tickets", "customer_tickets"):
        rows = conn.execute(
            f"SELECT number, status, merged_into FROM {t(table)} "
            "WHERE valid_to = 9223372036854775807 ORDER BY number"
        ).fetchall()
        assert rows == [(target, "open", None), (source, "closed", target)]
    board = queries.DashboardFilter()
    assert {r["status"]: r["tickets"] for r in queries.summary(conn, t, board)} == {
        "merged": 1, "open": 1,
    }  # fmt: skip
    issues = queries.top_issues(conn, t, board, 10)
    assert {(r["dimension"], r["name"], r["tickets"]) for r in issues} == {
        ("topic", "", 1), ("type", "bug", 1),
    }  # fmt: skip
    kinds = conn.execute(f"SELECT kind FROM {t('dashboard_moments')} ORDER BY kind").fetchall()
    assert kinds == [("filed",), ("filed",)]  # the merge is no close
    (times,) = queries.times(conn, t, board, "priority")
    assert (times["tickets"], times["resolution_count"]) == (1, 0)
    assert backlog(conn, t, now())["by_status"] == {"open": 1}  # the merged one is not owed
    assert tag_counts.tags_dashboard(conn, t) == [
        {"name": "laptop", "tickets": 1, "open": 1, "pending": 0, "closed": 0}
    ]


def test_the_merged_requester_is_told_by_email_naming_the_target_and_their_reply_lands_there(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any], mail: tuple[str, Mailbox], intake: MailIntake,
    duplicates: dict[str, Any],
) -> None:  # fmt: skip
    source, target = duplicates["source"], duplicates["target"]
    runner.catch_up()
    sender = mail_sender(database_url, schema, mail[0])
    assert sender.drain(conn) == {"sent": 3}  # each filing acknowledged, then the merge
    *acknowledgements, notice = mail[1].messages()
    assert all(m["Subject"].startswith("Request received:") for m in acknowledgements)
    assert notice["To"] == "r@acme.test"
    assert notice["Subject"] == f"Re: [{source.number}] Sync fails"
    assert notice["Auto-Submitted"] == "auto-generated"  # news of the ticket, not a reply
    body = notice.get_content()
    assert f"merged it into ticket {target.number}" in body and "Alex Agent" in body
    assert NOTE not in body and "broken laptop" not in body
    reply_address = notice["Reply-To"].addresses[0].addr_spec
    assert reply_address == IDENTITY.reply_address(source.number, "req-1")

    reply = EmailMessage()
    reply["From"] = "R <r@acme.test>"
    reply["To"] = reply_address
    reply["Subject"] = f"Re: [{source.number}] Sync fails"
    reply["Message-ID"] = "<reply-after-merge@acme.test>"
    reply.set_content("Thanks, I will follow the other ticket.")
    taken = intake.take(reply.as_bytes())
    assert (taken.action, taken.number, taken.ticket_id) == (
        "added", target.number, str(target.ticket_id),
    )  # fmt: skip
    last = list(desk.repository.event_store.get(target.ticket_id))[-1]
    assert isinstance(last, Ticket.MessageAdded)
    assert (last.author_id, last.author_role, last.stamp.via) == ("req-1", "collaborator", "email")
    assert intake.take(reply.as_bytes()).duplicate  # the gateway's retry adds nothing twice
    assert list(desk.repository.event_store.get(target.ticket_id))[-1].originator_version == (
        last.originator_version
    )

    # Bea hears of R's reply; from now on the target's public replies reach R too, each
    # with a reply address signed for them on the target
    staff = duplicates["staff"]
    desk.add_message(target.number, author_id=duplicates["alex"], author_role="agent",
                     body="Fixed in 4.3.", stamp=staff)  # fmt: skip
    runner.catch_up()
    assert sender.drain(conn) == {"sent": 2}
    to = [(m["To"], m["Reply-To"].addresses[0].addr_spec) for m in mail[1].messages()[3:]]
    bea = ("bea@acme.test", IDENTITY.reply_address(target.number, "bea"))
    assert to[0] == bea and "Thanks, I will follow" in mail[1].messages()[3].get_content()
    assert sorted(to[1:]) == [bea, ("r@acme.test", IDENTITY.reply_address(target.number, "req-1"))]
    answer = EmailMessage()
    answer["From"] = "r@acme.test"
    answer["To"] = IDENTITY.reply_address(target.number, "req-1")
    answer["Subject"] = f"Re: [{target.number}] Sync fails"
    answer.set_content("Works now.")
    assert intake.take(answer.as_bytes()).number == target.number


def test_an_unproven_reply_to_the_merged_ticket_lands_nowhere(
    desk: SupportDesk, runner: ProjectionRunner, intake: MailIntake, duplicates: dict[str, Any]
) -> None:
    source, target = duplicates["source"], duplicates["target"]
    runner.catch_up()
    forged = EmailMessage()
    forged["From"] = "r@acme.test"
    forged["To"] = "help@desk.test"  # no signed reply address: nothing proves the sender
    forged["Subject"] = f"Re: [{source.number}] Sync fails"
    forged.set_content("Close the other ticket too.")
    before = list(desk.repository.event_store.get(target.ticket_id))
    with pytest.raises(errors.MailRefused) as refused:
        intake.take(forged.as_bytes())
    assert refused.value.reason == "sender-unproven"
    assert list(desk.repository.event_store.get(target.ticket_id)) == before


def test_racing_merges_of_one_ticket_into_two_leave_it_merged_once(desk: SupportDesk) -> None:
    account = desk_with_account(desk)
    source, a, b = (
        desk.file_ticket(
            account_id=account, requester_id="req-1", stamp=person("req-1"), **SYNC_FAILS
        ).number
        for _ in range(3)
    )
    answers: dict[str, Any] = {}
    start = threading.Barrier(2)

    def merge(into: str) -> None:
        start.wait()
        try:
            answers[into] = desk.merge_ticket(
                source, into=into, stamp=Stamp("agent-1", "agent", "web", now())
            )
        except errors.TicketMerged as refused:
            answers[into] = refused

    racers = [threading.Thread(target=merge, args=(n,)) for n in (a, b)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    won = [n for n, answer in answers.items() if not isinstance(answer, Exception)]
    lost = [n for n, answer in answers.items() if isinstance(answer, errors.TicketMerged)]
    assert len(won) == 1 and len(lost) == 1
    assert desk.ticket_facts(source).merged_into == won[0]
    assert kinds(desk, won[0]) == ["Opened", "MergeReceived"]
    assert kinds(desk, lost[0]) == ["Opened"]
    assert kinds(desk, source) == ["Opened", "MergedInto"]


def kinds(desk: SupportDesk, number: str) -> list[str]:
    ticket_id: UUID = desk.find_ticket(number)
    return [type(e).__name__ for e in desk.repository.event_store.get(ticket_id)]
