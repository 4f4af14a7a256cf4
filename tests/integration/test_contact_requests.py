"""The contact form on PostgreSQL: what is recorded, the limits every desk shares, the
queue agents read, and a request turned into a ticket in one save."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from domain.contact import PER_ADDRESS, PER_EMAIL, ContactRequest
from domain.errors import Busy, ContactNotFileable, TooManyContactRequests
from domain.numbers import TicketNumber
from projections import contact_requests, outbox
from projections.runner import ProjectionRunner
from tests.builders import T0, agent, desk_with_account, file, send_contact_form


def test_a_request_is_recorded_as_received_with_its_stamp_and_no_client_address(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    reference = send_contact_form(desk, "ada@example.com", client="203.0.113.77")
    request: ContactRequest = desk.repository.get(ContactRequest.id_for(reference))
    assert isinstance(request, ContactRequest)
    (received,) = desk.events.get(request.id)
    assert isinstance(received, ContactRequest.Received)
    assert (received.email, received.stamp.actor_kind, received.stamp.at) == (
        "ada@example.com",
        "requester",
        T0,
    )
    stored = conn.execute(
        f'SELECT state FROM "{schema}".docket_events WHERE originator_id = %s', (request.id,)
    ).fetchall()
    assert all(b"203.0.113.77" not in bytes(row[0]) for row in stored)
    digests = conn.execute(f'SELECT key_digest FROM "{schema}".docket_rate_hits').fetchall()
    assert digests and all("203.0.113" not in d[0] and "@" not in d[0] for d in digests)


def test_the_limits_hold_across_two_desks_on_one_database(pg_env: dict[str, str]) -> None:
    first, second = SupportDesk(pg_env), SupportDesk(pg_env)
    try:
        for n in range(PER_ADDRESS):
            send_contact_form(first if n % 2 else second, f"p{n}@example.com")
        with pytest.raises(TooManyContactRequests) as refused:
            send_contact_form(second, "one-more@example.com")
        assert refused.value.retry_after_seconds == 3600  # T0 is on the hour
        for n in range(PER_EMAIL):
            send_contact_form(
                second if n % 2 else first, "same@example.com", client=f"198.51.100.{n}"
            )
        with pytest.raises(TooManyContactRequests):
            send_contact_form(first, "SAME@example.com", client="198.51.100.99")
        # the next window starts afresh
        send_contact_form(first, "same@example.com", at=T0 + timedelta(hours=1))
    finally:
        first.close()
        second.close()


def test_a_refused_request_records_nothing(desk: SupportDesk) -> None:
    for n in range(PER_EMAIL):
        send_contact_form(desk, "flood@example.com", client=f"198.51.100.{n}")
    before = desk.recorder.max_notification_id()
    with pytest.raises(TooManyContactRequests):
        send_contact_form(desk, "flood@example.com", client="198.51.100.200")
    assert desk.recorder.max_notification_id() == before


def test_the_queue_lists_waiting_requests_oldest_first_and_keeps_each_answer(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    first = send_contact_form(desk, "one@example.com")
    second = send_contact_form(desk, "two@example.com", client="203.0.113.10")
    desk.answer_contact(second, author_id="agent-1", body="Try this link.", stamp=agent())
    runner.catch_up()
    waiting = contact_requests.queue(conn, runner.tables, states=["waiting"], after=None, limit=10)
    assert [r["reference"] for r in waiting] == [first]
    detail = contact_requests.request(conn, runner.tables, second.lower())
    assert detail is not None and detail["state"] == "answered"
    assert [a["body"] for a in detail["answers"]] == ["Try this link."]
    mails = outbox.listing(
        conn, runner.tables, outbox.MailIdentity(), state=None, ticket=second, limit=5, before=None
    )
    assert [(m["reason"], m["recipients"]) for m in mails] == [
        ("contact_answer", ["two@example.com"])
    ]


def test_a_members_request_becomes_their_ticket_in_one_save(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(desk)
    reference = send_contact_form(desk, "R@acme.test")
    receipt = desk.turn_contact_into_ticket(reference, account_id=account, stamp=agent())
    ticket = desk.ticket_facts(receipt.number)
    assert ticket.requester_id == "req-1"
    request: ContactRequest = desk.repository.get(ContactRequest.id_for(reference))
    turned = list(desk.events.get(request.id))[-1]
    assert isinstance(turned, ContactRequest.TurnedIntoTicket)
    assert (turned.number, turned.requester_id) == (receipt.number, "req-1")
    # the ticket, its number's claim and the request's event: one transaction
    written = [(ticket.ticket_id, 1), (TicketNumber.id_for(receipt.number), 1), (request.id, 2)]
    transactions = {
        conn.execute(
            f'SELECT xmin::text FROM "{schema}".docket_events '
            "WHERE originator_id = %s AND originator_version = %s",
            row,
        ).fetchone()
        for row in written
    }
    assert len(transactions) == 1 and None not in transactions


@pytest.mark.parametrize(
    ("plan", "email"), [("business", "stranger@example.com"), ("free", "r@acme.test")]
)
def test_a_request_becomes_no_ticket_for_a_stranger_or_on_a_free_plan(
    desk: SupportDesk, plan: str, email: str
) -> None:
    account = desk_with_account(desk, plan=plan)
    reference = send_contact_form(desk, email)
    before = desk.recorder.max_notification_id()
    with pytest.raises(ContactNotFileable, match="answer the request by email"):
        desk.turn_contact_into_ticket(reference, account_id=account, stamp=agent())
    assert desk.recorder.max_notification_id() == before


def test_a_save_that_can_never_succeed_is_refused_as_busy_not_retried_for_ever(
    desk: SupportDesk,
) -> None:
    account = desk_with_account(desk)
    taken = file(desk, account).ticket_id
    reference = send_contact_form(desk, "R@acme.test")
    before = desk.recorder.max_notification_id()
    with pytest.raises(Busy, match="Contact request"):  # the ticket id is another ticket's
        desk.turn_contact_into_ticket(
            reference, account_id=account, stamp=agent(), ticket_id=taken
        )
    assert desk.recorder.max_notification_id() == before
    assert desk._contact(desk.find_contact(reference)).version == 1  # untouched
