"""The contact form: requests from people who cannot sign in, and what agents do with them.

Receiving a request does the same work for every address: it checks the fields,
counts the request against the form's limits, and records ``Received``. Nothing
looks the address up, so the answer (202 with a fresh reference), its body and
its timing are the same whether or not the address is anyone's. No acknowledgement
email is sent: a form that mails whatever address it is given would let anyone
send Docket's email to strangers; the reference on screen is the receipt.

The limits (:data:`domain.contact.PER_ADDRESS` per client address and
:data:`domain.contact.PER_EMAIL` per email address, in fixed windows of
:data:`domain.contact.CONTACT_WINDOW`) count in PostgreSQL
(:mod:`store.rate_limits`), so they hold across every API process; a refused
request counts too, so a flood gains nothing by retrying. The client address is
used only for that count, and stored only as a digest for the window's length.

Agents answer a request by email (each answer one email, through the outbox), or
turn it into a ticket filed for the member of a paid account at that address:
the ticket, its number's claim and the request's ``TurnedIntoTicket`` are one
save, and the ticket is routed as any other (:mod:`domain.routing`). The agent
names the account (a person may belong to several; the request's detail lists
the accounts that know the address).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder

from desk.answers import ContactReceipt, Receipt
from desk.core import DeskCore, RecordChange, position, uuid_of
from domain.account import Account
from domain.contact import (
    CONTACT_WINDOW,
    PER_ADDRESS,
    PER_EMAIL,
    ContactForm,
    ContactRequest,
    parse_reference,
    reference_from,
)
from domain.errors import (
    Busy,
    ContactNotFileable,
    NotAMember,
    PlanNotEntitled,
    TooManyContactRequests,
    UnknownContactRequest,
)
from domain.messages import Msg
from domain.numbers import TicketNumber
from domain.stamp import Stamp
from domain.ticket import Ticket
from store.rate_limits import HitCounter, MemoryHitCounter, PostgresHitCounter

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CONTACT_ATTEMPTS = 5
"""How many times a change to a contact request is decided again after another write won
(then :class:`Busy`), as for the other records that are not tickets."""


class Contact(DeskCore):
    contact_per_address = PER_ADDRESS
    contact_per_email = PER_EMAIL

    @cached_property
    def contact_hits(self) -> HitCounter:
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            return PostgresHitCounter(recorder.datastore)
        return MemoryHitCounter()

    # --- the form ----------------------------------------------------------------------

    def receive_contact(
        self,
        *,
        name: str,
        email: str,
        subject: str,
        description: str,
        product: str,
        client_address: str | None,
        stamp: Stamp,
        draw: Callable[[], int] = lambda: secrets.randbits(40),
    ) -> ContactReceipt:
        """Record what the form sent, within its limits; the same work for every address."""

        form = ContactForm(name, email, subject, description, product)

        def received() -> ContactRequest:  # under a reference drawn afresh
            return ContactRequest.receive(reference=reference_from(draw()), form=form, stamp=stamp)

        request = received()
        self._count_contact(client_address, request.form.email, stamp.at)
        for _ in range(5):
            try:
                recordings = self.save(request)
            except IntegrityError:  # the reference was drawn before: draw another
                request = received()
                continue
            return ContactReceipt(
                request.id, request.reference, request.version, position(recordings)
            )
        raise Busy(Msg("The contact form"))

    def _count_contact(self, client_address: str | None, email: str, at: datetime) -> None:
        window = CONTACT_WINDOW.total_seconds()
        start = EPOCH + CONTACT_WINDOW * math.floor((at - EPOCH).total_seconds() / window)
        limits = {f"contact:email:{email.lower()}": self.contact_per_email}
        if client_address:
            limits[f"contact:address:{client_address}"] = self.contact_per_address
        counts = self.contact_hits.hit(list(limits), start)
        if any(counts.get(key, 0) > limit for key, limit in limits.items()):
            raise TooManyContactRequests(math.ceil((start + CONTACT_WINDOW - at).total_seconds()))

    # --- agents' work ------------------------------------------------------------------

    def find_contact(self, ref: str | UUID) -> UUID:
        """A contact request's id from its id or its reference (``C-7KQ2M9XD``)."""
        return contact_id(ref)

    def answer_contact(
        self,
        ref: str | UUID,
        *,
        author_id: str,
        body: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> ContactReceipt:
        """An agent's answer, emailed to the address the request came from."""
        return contact_change.run(
            self,
            ref,
            expected_version,
            stamp,
            lambda request: request.answer(author_id=author_id, body=body, stamp=stamp),
        )

    def turn_contact_into_ticket(
        self,
        ref: str | UUID,
        *,
        account_id: UUID,
        stamp: Stamp,
        type: str = "question",
        priority: str = "normal",
        expected_version: int | None = None,
        ticket_id: UUID | None = None,
    ) -> Receipt:
        """File the request as a ticket for the member at its address, in one save with
        the request's ``TurnedIntoTicket``."""
        filed_as = ticket_id or uuid4()

        def file(request: ContactRequest) -> tuple[Ticket, TicketNumber]:
            request.check_not_a_ticket()
            account = self._account(account_id)
            member_id = self._fileable_member(account, request.form.email)
            ticket, claim = self._numbered_ticket(
                account,
                member_id,
                stamp,
                ticket_id=filed_as,
                type=type,
                product=request.form.product,
                subject=request.form.subject,
                description=request.form.description,
                priority=priority,
                topic="",
                channel="web",
            )
            request.turn_into_ticket(
                ticket_id=ticket.id,
                number=ticket.number,
                account_id=str(account_id),
                requester_id=member_id,
                stamp=stamp,
            )
            return ticket, claim

        _, (ticket, _), at = contact_change.saved(self, ref, expected_version, stamp, file)
        return Receipt(ticket.id, ticket.number, ticket.version, at)

    def _fileable_member(self, account: Account, email: str) -> str:
        """The member of ``account`` at ``email`` who may file, or why the request cannot
        become a ticket there."""
        wanted = email.lower()
        at_address = [
            e.member_id
            for e in self.events.get(account.id)
            if isinstance(e, Account.MemberAdded) and e.email.lower() == wanted
        ]
        members = [m for m in dict.fromkeys(at_address) if m in account.members]
        if not members:
            raise ContactNotFileable(
                Msg(
                    "No member of {name} has the address {email}; answer the request by "
                    "email instead.",
                    name=account.name,
                    email=email,
                )
            )
        try:
            account.check_may_file(members[0])
        except (PlanNotEntitled, NotAMember):
            raise ContactNotFileable(
                Msg(
                    "{name} is on the {title} plan, which does not include ticket support; "
                    "answer the request by email instead.",
                    name=account.name,
                    title=account.plan.title(),
                )
            ) from None
        return members[0]

    def _contact(self, request_id: UUID) -> ContactRequest:
        return _contact_request(self, request_id)


def contact_id(ref: str | UUID) -> UUID:
    if isinstance(ref, UUID):
        return ref
    reference = parse_reference(ref)
    if reference is not None:
        return ContactRequest.id_for(reference)
    return uuid_of(ref, UnknownContactRequest)


def _contact_request(desk: DeskCore, ref: str | UUID) -> ContactRequest:
    """The contact request, by its id or its reference."""
    request_id = contact_id(ref)
    return desk._get(
        ContactRequest,
        request_id,
        UnknownContactRequest(Msg("No contact request {request_id}.", request_id=request_id)),
    )


contact_change = RecordChange(
    _contact_request,
    lambda request, at: ContactReceipt(request.id, request.reference, request.version, at),
    what=None,
    busy=lambda request: Msg("Contact request {reference}", reference=request.reference),
    attempts=CONTACT_ATTEMPTS,
)
"""One change to one contact request (an agent's answer; filing it as a ticket)."""
