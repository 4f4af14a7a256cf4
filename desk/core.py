"""What every area of the desk stands on: the eventsourcing application, ticket numbers,
finding a ticket, and deciding a change again when another writer got there first.

The areas (:mod:`desk.tickets`, :mod:`desk.accounts`, :mod:`desk.help_centre`,
:mod:`desk.imports`) are subclasses of :class:`DeskCore`; :class:`desk.service.SupportDesk`
is all of them on one event store.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from desk.answers import Receipt, TicketFacts
from domain.account import Account
from domain.article import HelpSession
from domain.base import ChainedAggregate
from domain.errors import (
    DocketError,
    TicketBusy,
    UnknownAccount,
    UnknownHelpSession,
    UnknownStaff,
    UnknownTicket,
    VersionMismatch,
)
from domain.numbers import TicketNumber, format_number, parse_number
from domain.sla import FOUNDING_POLICY, Targets, terms_for
from domain.sla_policy import BOOK_ID, SlaPolicyBook
from domain.staff import StaffMember
from domain.stamp import Stamp
from domain.ticket import REOPEN_WINDOW, Ticket
from store.eventstore import register_docket_transcodings

NUMBERS_REMEMBERED = 50_000
"""At most this many ticket numbers cached (a few MB); past it the cache starts over."""
CONFLICT_PATIENCE_SECONDS = 10.0
"""How long a write without If-Match keeps re-deciding after losing a race for its ticket."""

A = TypeVar("A", bound=ChainedAggregate)


class DeskCore(Application[UUID]):
    name = "docket"

    def __init__(
        self, env: dict[str, str] | None = None, *, reopen_window: timedelta = REOPEN_WINDOW
    ) -> None:
        super().__init__(env)
        self.reopen_window = reopen_window
        self.next_number = self._number_source()
        self._numbers: dict[str, UUID] = {}
        """Ticket numbers already looked up: a claim is never undone, so it never goes stale."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_docket_transcodings(transcoder)

    def _number_source(self) -> Callable[[], int]:
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            datastore = recorder.datastore
            sequence = SQL("{0}.{1}").format(
                Identifier(datastore.schema), Identifier("docket_ticket_numbers")
            )
            with datastore.transaction(commit=True) as cursor:
                cursor.execute(SQL("CREATE SEQUENCE IF NOT EXISTS {0}").format(sequence))
            statement = SQL("SELECT nextval('{0}') AS n").format(sequence)

            def next_from_sequence() -> int:
                with datastore.get_connection() as conn:
                    row = conn.execute(statement, prepare=True).fetchone()
                    assert row is not None
                    return int(row["n"])

            return next_from_sequence
        counter = itertools.count(1)
        lock = threading.Lock()

        def next_in_memory() -> int:
            with lock:
                return next(counter)

        return next_in_memory

    # --- finding things ---------------------------------------------------------------

    def find_ticket(self, ref: str | UUID) -> UUID:
        """The id of a ticket given its id or its human number (``T-000123``)."""
        if isinstance(ref, UUID):
            return ref
        n = parse_number(ref)
        if n is None:
            return uuid_of(ref, UnknownTicket)
        number = format_number(n)
        known = self._numbers.get(number)
        if known is not None:
            return known
        try:
            claim: TicketNumber = self.repository.get(TicketNumber.id_for(number))
        except AggregateNotFoundError:
            raise UnknownTicket(f"No ticket {ref}.") from None
        if len(self._numbers) >= NUMBERS_REMEMBERED:
            self._numbers.clear()
        self._numbers[number] = ticket_id = UUID(claim.ticket_id)
        return ticket_id

    def ticket_facts(self, ref: str | UUID) -> TicketFacts:
        t = self._ticket(self.find_ticket(ref))
        return TicketFacts(
            ticket_id=t.id,
            number=t.number,
            account_id=t.account_id,
            requester_id=t.requester_id,
            status=t.status,
            version=t.version,
            assignee_id=t.assignee_id,
        )

    def staff_groups(self, staff_id: str) -> list[str]:
        try:
            member: StaffMember = self.repository.get(uuid_of(staff_id, UnknownStaff))
        except AggregateNotFoundError:
            raise UnknownStaff(f"No staff member {staff_id}.") from None
        if not isinstance(member, StaffMember):
            raise UnknownStaff(f"No staff member {staff_id}.")
        return list(member.groups)

    def has_ticket(self, ticket_id: UUID) -> bool:
        return self._exists(ticket_id)

    def has_account(self, account_id: UUID) -> bool:
        return self._exists(account_id)

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, desc=True, limit=1))

    # --- the SLA terms a ticket is promised -------------------------------------------

    def sla_policy(self) -> dict[str, Targets]:
        """The targets in force now, per tier and priority (seconds of business time)."""
        book = self._policy_book()
        return dict(book.tiers) if book else dict(FOUNDING_POLICY)

    def _policy_book(self) -> SlaPolicyBook | None:
        try:
            book: SlaPolicyBook = self.repository.get(BOOK_ID)
        except AggregateNotFoundError:
            return None
        return book

    def _terms(
        self, account: Account, requester_id: str, product: str, at: datetime
    ) -> dict[str, Any]:
        """What a ticket's cycle is promised: the support its requester gets on its product
        at that instant (Premium only for the account's admins, on covered products)."""
        tier = account.tier_for(requester_id, product, at)
        return terms_for(self.sla_policy(), tier, account.calendar)

    # --- help sessions (filing and the help centre both write to them) ----------------

    def _help_session(
        self, session_id: UUID, person_id: str, account_id: str, stamp: Stamp
    ) -> HelpSession:
        """The session, or a new one started by this person for their account.

        Its stream id is derived from the person and the client's session id, never the
        client's id itself: a client choosing ids cannot take a stream Docket derives
        from a name (an article's slug, a ticket number) or reach someone else's session.
        """
        stream_id = uuid5(NAMESPACE_URL, f"docket:help-session:{person_id}:{session_id}")
        try:
            session: HelpSession = self.repository.get(stream_id)
        except AggregateNotFoundError:
            return HelpSession.start(
                session_id=stream_id, person_id=person_id, account_id=account_id, stamp=stamp
            )
        if not isinstance(session, HelpSession):
            raise UnknownHelpSession(f"No help session {session_id}.")
        session.check_belongs_to(person_id)
        return session

    # --- changing a ticket --------------------------------------------------------------

    def _change(
        self, ref: str | UUID, expected_version: int | None, command: Callable[[Ticket], object]
    ) -> Receipt:
        """Fold the ticket, run ``command`` on it, save: one save, decided again on a race."""
        ticket_id = self.find_ticket(ref)
        deadline = time.monotonic() + CONFLICT_PATIENCE_SECONDS
        for attempt in itertools.count():
            ticket = self._ticket(ticket_id)
            if expected_version is not None and ticket.version != expected_version:
                raise VersionMismatch(expected_version, ticket.version)
            command(ticket)
            try:
                recordings = self.save(ticket)
            except IntegrityError:
                if expected_version is not None:
                    raise VersionMismatch(
                        expected_version, self._ticket(ticket_id).version
                    ) from None
                if time.monotonic() > deadline:
                    raise TicketBusy(ticket.number) from None
                # someone wrote first: after a short random pause (so the losers of one
                # race do not all collide again), fold their events in and decide again
                time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.05)))
                continue
            return Receipt(ticket.id, ticket.number, ticket.version, position(recordings))
        raise AssertionError("unreachable")

    def _get(self, kind: type[A], aggregate_id: UUID, missing: DocketError) -> A:
        """The aggregate of that kind, or ``missing`` raised (also for another kind's id)."""
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing from None
        if not isinstance(found, kind):
            raise missing
        return found

    def _ticket(self, ticket_id: UUID) -> Ticket:
        return self._get(Ticket, ticket_id, UnknownTicket(f"No ticket {ticket_id}."))

    def _account(self, account_id: UUID) -> Account:
        return self._get(Account, account_id, UnknownAccount(f"No account {account_id}."))


def position(recordings: list[Recording[Any]]) -> int:
    """The global position of the last event a save wrote."""
    return max((r.notification.id for r in recordings), default=0)


def uuid_of(text: str, error: Callable[[str], Exception]) -> UUID:
    try:
        return UUID(text)
    except (ValueError, TypeError, AttributeError):
        raise error(f"No such id {text!r}.") from None
