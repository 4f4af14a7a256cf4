"""A contact request: someone who cannot sign in writes to support through the form.

The request is its own stream, found by its reference (``C-7KQ2M9XD``): the id is
derived from the reference, as a ticket number's claim is from the number, so an
agent's ``C-…`` finds the request without a lookup table. Whether the address
belongs to anyone is never a fact of the request: the form records what was sent,
the same way for every address, and an agent decides what to do with it.

An agent answers it by email (``Answered``, as often as needed), or, when the
address is a member's of an account whose plan includes support, turns it into a
ticket filed for that member (``TurnedIntoTicket``, saved with the ticket). A
request turned into a ticket is worked on the ticket from then on: it takes no
further answer and cannot become a second ticket.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import ContactAlreadyATicket, InvalidField
from domain.messages import Msg
from domain.stamp import Stamp
from domain.vocabulary import (
    BODY_MAX_BYTES,
    NAME_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    checked_text,
)

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so a reference read out on the phone survives."""
REFERENCE_PATTERN = re.compile(rf"^C-[{REFERENCE_ALPHABET}]{{8}}$")

CONTACT_WINDOW = timedelta(hours=1)
"""The window the form's limits count in (fixed windows, aligned on the hour)."""
PER_ADDRESS = 10
"""Contact requests one client address may send per window (an office behind one NAT)."""
PER_EMAIL = 3
"""Contact requests one email address may be named in per window."""


def reference_from(draw: int) -> str:
    """The reference spelled from 40 random bits the caller drew (``C-`` and 8 characters)."""
    chars = [REFERENCE_ALPHABET[(draw >> (5 * i)) & 31] for i in range(8)]
    return "C-" + "".join(reversed(chars))


def parse_reference(text: str) -> str | None:
    """The reference in canonical form, or None if ``text`` is not one."""
    candidate = text.strip().upper()
    return candidate if REFERENCE_PATTERN.match(candidate) else None


def checked_email(value: str) -> str:
    checked_text("email", value, max_chars=NAME_MAX_CHARS)
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value.strip()):
        raise InvalidField(
            "email", Msg("{value!r} is not an email address we can answer.", value=value)
        )
    return value.strip()


@dataclass(frozen=True)
class ContactForm:
    """What the form sent: who wrote, from which address, and what about."""

    name: str
    email: str
    subject: str
    description: str
    product: str
    """The product it is about, if they named one (``""`` if not)."""


def checked_form(form: ContactForm) -> ContactForm:
    """The form, its address trimmed, if every field is within its limits."""
    checked_text("name", form.name, max_chars=NAME_MAX_CHARS)
    email = checked_email(form.email)
    checked_text("subject", form.subject, max_chars=SUBJECT_MAX_CHARS)
    checked_text("description", form.description, max_bytes=BODY_MAX_BYTES)
    if form.product:
        checked_text("product", form.product, max_chars=NAME_MAX_CHARS)
    return replace(form, email=email)


class ContactRequest(ChainedAggregate):
    """What the form received, and what support did with it."""

    class Received(ChainedAggregate.Created):
        reference: str
        name: str
        email: str
        subject: str
        description: str
        product: str

    class Answered(ChainedAggregate.Event):
        author_id: str
        body: str

    class TurnedIntoTicket(ChainedAggregate.Event):
        ticket_id: str
        number: str
        account_id: str
        requester_id: str

    ticket_number: str | None = None

    @staticmethod
    def id_for(reference: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"docket:contact-request:{reference}")

    @classmethod
    def receive(cls, *, reference: str, form: ContactForm, stamp: Stamp) -> ContactRequest:
        if parse_reference(reference) != reference:
            raise InvalidField(
                "reference", Msg("{reference!r} is not a contact reference.", reference=reference)
            )
        # the event's fields are the form's, in the form's order
        return cls(
            id=cls.id_for(reference),
            reference=reference,
            **asdict(checked_form(form)),
            stamp=stamp,
        )

    @event(Received)
    def __init__(
        self,
        id: UUID,
        reference: str,
        name: str,
        email: str,
        subject: str,
        description: str,
        product: str,
        stamp: Stamp,
    ) -> None:
        self.reference = reference
        self.form = ContactForm(name, email, subject, description, product)
        self.answers = 0

    def answer(self, *, author_id: str, body: str, stamp: Stamp) -> None:
        """An email to the address the request came from."""
        self.check_not_a_ticket()
        checked_text("body", body, max_bytes=BODY_MAX_BYTES)
        self._answered(author_id=author_id, body=body, stamp=stamp)

    @event(Answered)
    def _answered(self, author_id: str, body: str, stamp: Stamp) -> None:
        self.answers += 1

    def turn_into_ticket(
        self, *, ticket_id: UUID, number: str, account_id: str, requester_id: str, stamp: Stamp
    ) -> None:
        """The ticket filed for the member at this address (saved with it, in one append)."""
        self.check_not_a_ticket()
        self._turned_into_ticket(
            ticket_id=str(ticket_id),
            number=number,
            account_id=account_id,
            requester_id=requester_id,
            stamp=stamp,
        )

    @event(TurnedIntoTicket)
    def _turned_into_ticket(
        self, ticket_id: str, number: str, account_id: str, requester_id: str, stamp: Stamp
    ) -> None:
        self.ticket_number = number

    def check_not_a_ticket(self) -> None:
        if self.ticket_number is not None:
            raise ContactAlreadyATicket(self.reference, self.ticket_number)
