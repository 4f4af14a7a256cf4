"""The contact request's rules: its reference, its fields, and what a ticket ends."""

from __future__ import annotations

from uuid import uuid4

import pytest

from desk.service import SupportDesk
from domain.contact import (
    PER_EMAIL,
    ContactForm,
    ContactRequest,
    parse_reference,
    reference_from,
)
from domain.errors import ContactAlreadyATicket, InvalidField, TooManyContactRequests
from tests.builders import agent, requester, send_contact_form


def received(email: str = "ada@example.com") -> ContactRequest:
    return ContactRequest.receive(
        reference=reference_from(12345),
        form=ContactForm("Ada", email, "Locked out", "No reset email.", ""),
        stamp=requester(),
    )


def test_a_reference_is_c_and_eight_characters_read_back_in_any_case() -> None:
    reference = reference_from(2**40 - 1)
    assert reference == "C-ZZZZZZZZ"
    assert parse_reference(" c-zzzzzzzz ") == reference
    assert parse_reference("C-ILOU0000") is None  # letters a phone call would confuse
    assert parse_reference("T-000123") is None


def test_the_request_id_follows_from_its_reference() -> None:
    assert received().id == ContactRequest.id_for(reference_from(12345))


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@localhost", "a b@c.d"])
def test_an_address_we_could_not_answer_is_refused(email: str) -> None:
    with pytest.raises(InvalidField) as refused:
        received(email)
    assert refused.value.field == "email"


def test_answers_are_recorded_one_by_one() -> None:
    request = received()
    request.answer(author_id="agent-1", body="Here is a link.", stamp=agent())
    request.answer(author_id="agent-1", body="Did it work?", stamp=agent())
    assert [type(e) for e in request.collect_events()] == [
        ContactRequest.Received,
        ContactRequest.Answered,
        ContactRequest.Answered,
    ]


def test_a_request_turned_into_a_ticket_takes_no_answer_and_no_second_ticket() -> None:
    request = received()
    request.turn_into_ticket(
        ticket_id=uuid4(), number="T-000042", account_id="a", requester_id="r", stamp=agent()
    )
    with pytest.raises(ContactAlreadyATicket, match="T-000042"):
        request.answer(author_id="agent-1", body="Hello", stamp=agent())
    with pytest.raises(ContactAlreadyATicket):
        request.turn_into_ticket(
            ticket_id=uuid4(), number="T-000043", account_id="a", requester_id="r", stamp=agent()
        )


def test_the_limit_per_email_ignores_case_and_holds_to_the_end_of_its_window() -> None:
    desk = SupportDesk()
    for n in range(PER_EMAIL):
        send_contact_form(desk, "ada@example.com", f"10.0.0.{n}")
    for n in range(2):
        with pytest.raises(TooManyContactRequests) as refused:
            send_contact_form(desk, "ADA@example.com", f"10.0.1.{n}")
        assert refused.value.retry_after_seconds == 3600
