"""The support desk's application service: one method per use case.

Every method takes plain values (ids, strings, a :class:`~domain.stamp.Stamp`)
and returns plain values, never aggregates. Writes return a :class:`Receipt`
with the global position of the last event written, which readers pass back as
``min_position`` to read their own writes.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.account import Account
from domain.article import HelpArticle, HelpSession, article_id_for, checked_slug
from domain.base import ChainedAggregate
from domain.channels import (
    ChatLine,
    callback_description,
    chat_description,
    check_callback_window,
    check_channel_and_transcript,
    checked_phone,
    checked_time_zone,
)
from domain.errors import (
    AlreadyExists,
    DocketError,
    InvalidField,
    NothingChanged,
    TicketBusy,
    UnknownAccount,
    UnknownArticle,
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
from projections.eventstore import register_docket_transcodings

NUMBERS_REMEMBERED = 50_000
"""At most this many ticket numbers cached (a few MB); past it the cache starts over."""
CONFLICT_PATIENCE_SECONDS = 10.0
"""How long a write without If-Match keeps re-deciding after losing a race for its ticket."""


A = TypeVar("A", bound=ChainedAggregate)


@dataclass(frozen=True)
class Receipt:
    """What a write answers: the ticket, its new version, and the log position."""

    ticket_id: UUID
    number: str
    version: int
    position: int


@dataclass(frozen=True)
class ArticleReceipt:
    """What an article write answers: the article, its new version, and the log position."""

    article_id: UUID
    slug: str
    version: int
    position: int


@dataclass(frozen=True)
class AttachmentRef:
    """An uploaded file, by content hash, to attach to a ticket with a message."""

    attachment_id: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class TicketFacts:
    """What the ways in need to know to authorise a ticket write."""

    ticket_id: UUID
    number: str
    account_id: str
    requester_id: str
    status: str
    version: int
    assignee_id: str | None


@dataclass(frozen=True)
class Change:
    """One historical change of an imported ticket: a Ticket command, its arguments, its stamp."""

    command: str
    args: dict[str, Any]
    stamp: Stamp


IMPORT_COMMANDS = frozenset(
    {
        "add_message",
        "add_internal_note",
        "change_status",
        "change_priority",
        "assign",
        "change_type",
        "change_product",
        "reopen",
        "rate_satisfaction",
    }
)


class SupportDesk(Application[UUID]):
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

    # --- accounts and staff ----------------------------------------------------------

    def open_account(
        self,
        *,
        name: str,
        plan: str,
        support_tier: str,
        stamp: Stamp,
        calendar: str = "24x7",
        account_id: UUID | None = None,
    ) -> UUID:
        account = Account.open(
            account_id=account_id or uuid4(),
            name=name,
            plan=plan,
            support_tier=support_tier,
            calendar=calendar,
            stamp=stamp,
        )
        self.save(account)
        return account.id

    def add_member(
        self, account_id: UUID, *, member_id: str, email: str, name: str, role: str, stamp: Stamp
    ) -> int:
        account = self._account(account_id)
        account.add_member(member_id=member_id, email=email, name=name, role=role, stamp=stamp)
        return _position(self.save(account))

    def change_plan(self, account_id: UUID, *, to_plan: str, stamp: Stamp) -> int:
        account = self._account(account_id)
        account.change_plan(to_plan=to_plan, stamp=stamp)
        return _position(self.save(account))

    def change_support_tier(self, account_id: UUID, *, to_tier: str, stamp: Stamp) -> int:
        """From this instant on, new cycles of the account's tickets get the tier's terms."""
        account = self._account(account_id)
        account.change_support_tier(to_tier=to_tier, stamp=stamp)
        return _position(self.save(account))

    # --- service levels ----------------------------------------------------------------

    def sla_policy(self) -> dict[str, Targets]:
        """The targets in force now, per tier and priority (seconds of business time)."""
        book = self._policy_book()
        return dict(book.tiers) if book else dict(FOUNDING_POLICY)

    def change_sla_targets(self, *, tier: str, data: dict[str, Any], stamp: Stamp) -> int:
        """Record new targets for ``tier``, in force for promises made from ``stamp.at``."""
        for _ in range(5):
            book = self._policy_book() or SlaPolicyBook.found(stamp=stamp)
            book.change_targets(tier=tier, data=data, stamp=stamp)
            try:
                return _position(self.save(book))
            except IntegrityError:  # changed meanwhile: decide again on the new book
                continue
        raise TicketBusy("the SLA policy")

    def record_sla_breaches(self, ticket: str | UUID, *, stamp: Stamp) -> Receipt:
        """Put on record every clock of the ticket past due at ``stamp.at`` (once each)."""
        return self._change(ticket, None, lambda t: t.record_sla_breaches(stamp=stamp))

    def _policy_book(self) -> SlaPolicyBook | None:
        try:
            book: SlaPolicyBook = self.repository.get(BOOK_ID)
        except AggregateNotFoundError:
            return None
        return book

    def _terms(self, account: Account) -> dict[str, Any]:
        return terms_for(self.sla_policy(), account.support_tier, account.calendar)

    def register_staff(
        self,
        *,
        name: str,
        email: str,
        role: str,
        stamp: Stamp,
        groups: list[str] | None = None,
        staff_id: UUID | None = None,
    ) -> UUID:
        member = StaffMember.register(
            staff_id=staff_id or uuid4(),
            name=name,
            email=email,
            role=role,
            groups=list(groups or []),
            stamp=stamp,
        )
        self.save(member)
        return member.id

    def staff_groups(self, staff_id: str) -> list[str]:
        try:
            member: StaffMember = self.repository.get(_uuid(staff_id, UnknownStaff))
        except AggregateNotFoundError:
            raise UnknownStaff(f"No staff member {staff_id}.") from None
        if not isinstance(member, StaffMember):
            raise UnknownStaff(f"No staff member {staff_id}.")
        return list(member.groups)

    # --- filing ------------------------------------------------------------------------

    def file_ticket(
        self,
        *,
        account_id: UUID,
        requester_id: str,
        subject: str,
        description: str,
        type: str,
        priority: str,
        product: str,
        stamp: Stamp,
        topic: str = "",
        channel: str = "web",
        follow_up_of: str | None = None,
        ticket_id: UUID | None = None,
        help_session: UUID | None = None,
        transcript: list[ChatLine] | None = None,
    ) -> Receipt:
        """File a ticket. With ``help_session``, the session records that this ticket was
        filed anyway, in the same save as the ticket: both are on record or neither.
        A chat ticket comes with its ``transcript``: rendered into the first message, and
        its lines kept right after Opened (see :mod:`domain.channels`)."""
        account = self._account(account_id)
        account.check_may_file(requester_id)
        check_channel_and_transcript(channel, transcript)
        if transcript:
            description = chat_description(description, transcript)
        linked: str | None = None
        if follow_up_of:
            earlier = self.ticket_facts(follow_up_of)
            if earlier.account_id != str(account_id):
                raise UnknownTicket(f"No ticket {follow_up_of} in this account.")
            linked = earlier.number
        ticket_id = ticket_id or uuid4()
        number = format_number(self.next_number())
        ticket = Ticket.file(
            ticket_id=ticket_id,
            number=number,
            subject=subject,
            description=description,
            type=type,
            priority=priority,
            product=product,
            topic=topic,
            channel=channel,
            requester_id=requester_id,
            account_id=str(account_id),
            follow_up_of=linked,
            stamp=stamp,
            sla_terms=self._terms(account),
        )
        if transcript:
            ticket.record_chat_transcript(lines=transcript, stamp=stamp)
        claim = TicketNumber.claim(number=number, ticket_id=ticket.id, stamp=stamp)
        if help_session is None:
            recordings = self.save(ticket, claim)
            return Receipt(ticket.id, number, ticket.version, _position(recordings))
        for _ in range(5):
            session = self._help_session(help_session, requester_id, str(account_id), stamp)
            session.file_ticket_anyway(
                ticket_id=ticket.id, number=number, person_id=requester_id, stamp=stamp
            )
            try:
                recordings = self.save(ticket, claim, session)
            except IntegrityError:  # the session moved on meanwhile: decide again
                continue
            return Receipt(ticket.id, number, ticket.version, _position(recordings))
        raise TicketBusy(number)

    def request_callback(
        self,
        *,
        account_id: UUID,
        requester_id: str,
        subject: str,
        description: str,
        product: str,
        phone: str,
        window_start: datetime,
        window_end: datetime,
        time_zone: str | None,
        stamp: Stamp,
        type: str = "question",
        ticket_id: UUID | None = None,
    ) -> Receipt:
        """File an urgent phone ticket and record the callback asked for, in one save."""
        account = self._account(account_id)
        account.check_may_file(requester_id)
        # the request's own rules first: the description below writes the window out
        checked_phone(phone)
        checked_time_zone(time_zone)
        check_callback_window(window_start, window_end, stamp.at)
        ticket_id = ticket_id or uuid4()
        number = format_number(self.next_number())
        ticket = Ticket.file(
            ticket_id=ticket_id,
            number=number,
            subject=subject,
            description=callback_description(description, window_start, window_end, time_zone),
            type=type,
            priority="urgent",
            product=product,
            topic="",
            channel="phone",
            requester_id=requester_id,
            account_id=str(account_id),
            stamp=stamp,
            sla_terms=self._terms(account),
        )
        ticket.request_callback(
            phone=phone,
            window_start=window_start,
            window_end=window_end,
            time_zone=time_zone,
            stamp=stamp,
        )
        claim = TicketNumber.claim(number=number, ticket_id=ticket.id, stamp=stamp)
        recordings = self.save(ticket, claim)
        return Receipt(ticket.id, number, ticket.version, _position(recordings))

    def import_ticket(
        self,
        *,
        ticket_id: UUID,
        account_id: UUID,
        filing: dict[str, Any],
        stamp: Stamp,
        changes: list[Change],
    ) -> tuple[Receipt | None, list[tuple[Change, DocketError]]]:
        """File a ticket as it was filed elsewhere and replay its later changes, atomically.

        Each change goes through the same Ticket command (and rule) as live traffic;
        a change the rules refuse is skipped and answered with its refusal. A ticket
        already imported (same ``ticket_id``) is left alone and answers ``None``, so
        an interrupted import can simply run again.
        """
        if self._exists(ticket_id):
            return None, []
        account = self._account(account_id)
        account.check_may_file(filing["requester_id"])
        number = format_number(self.next_number())
        terms = self._terms(account)
        ticket = Ticket.file(
            ticket_id=ticket_id,
            number=number,
            account_id=str(account_id),
            stamp=stamp,
            sla_terms=terms,
            **filing,
        )
        refused: list[tuple[Change, DocketError]] = []
        for change in changes:
            if change.command not in IMPORT_COMMANDS:
                raise ValueError(f"{change.command} is not a ticket change")
            try:
                if change.command == "reopen":
                    ticket.reopen(stamp=change.stamp, window=self.reopen_window, sla_terms=terms)
                else:
                    getattr(ticket, change.command)(stamp=change.stamp, **change.args)
            except DocketError as error:
                refused.append((change, error))
        claim = TicketNumber.claim(number=number, ticket_id=ticket.id, stamp=stamp)
        try:
            recordings = self.save(ticket, claim)
        except IntegrityError:  # imported meanwhile by another run
            return None, []
        return Receipt(ticket.id, number, ticket.version, _position(recordings)), refused

    def has_account(self, account_id: UUID) -> bool:
        return self._exists(account_id)

    def has_ticket(self, ticket_id: UUID) -> bool:
        return self._exists(ticket_id)

    def has_member(self, account_id: UUID, member_id: str) -> bool:
        return member_id in self._account(account_id).members

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, desc=True, limit=1))

    # --- working a ticket ----------------------------------------------------------------

    def add_message(
        self,
        ticket: str | UUID,
        *,
        author_id: str,
        author_role: str,
        body: str,
        stamp: Stamp,
        attachments: list[AttachmentRef] | None = None,
        expected_version: int | None = None,
    ) -> Receipt:
        files = list(attachments or [])

        def command(t: Ticket) -> None:
            for f in files:
                if f.attachment_id not in t.attachments:
                    t.add_attachment(
                        attachment_id=f.attachment_id,
                        filename=f.filename,
                        content_type=f.content_type,
                        size=f.size,
                        stamp=stamp,
                    )
            t.add_message(
                author_id=author_id,
                author_role=author_role,
                body=body,
                attachments=[f.attachment_id for f in files],
                stamp=stamp,
            )

        return self._change(ticket, expected_version, command)

    def add_internal_note(
        self,
        ticket: str | UUID,
        *,
        author_id: str,
        body: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket,
            expected_version,
            lambda t: t.add_internal_note(author_id=author_id, body=body, stamp=stamp),
        )

    def add_attachment(
        self,
        ticket: str | UUID,
        *,
        attachment: AttachmentRef,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket,
            expected_version,
            lambda t: t.add_attachment(
                attachment_id=attachment.attachment_id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                stamp=stamp,
            ),
        )

    def change_status(
        self,
        ticket: str | UUID,
        *,
        to_status: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket, expected_version, lambda t: t.change_status(to_status=to_status, stamp=stamp)
        )

    def change_priority(
        self,
        ticket: str | UUID,
        *,
        to_priority: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket,
            expected_version,
            lambda t: t.change_priority(to_priority=to_priority, stamp=stamp),
        )

    def assign(
        self,
        ticket: str | UUID,
        *,
        agent_id: str | None,
        group: str | None,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        if agent_id is not None:
            groups = self.staff_groups(agent_id)  # raises UnknownStaff for anyone else
            if group is not None and group not in groups:
                raise InvalidField("group", f"That agent is not in the {group} support group.")
        return self._change(
            ticket,
            expected_version,
            lambda t: t.assign(agent_id=agent_id, group=group, stamp=stamp),
        )

    def change_type(
        self,
        ticket: str | UUID,
        *,
        to_type: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket, expected_version, lambda t: t.change_type(to_type=to_type, stamp=stamp)
        )

    def change_product(
        self,
        ticket: str | UUID,
        *,
        to_product: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket,
            expected_version,
            lambda t: t.change_product(to_product=to_product, stamp=stamp),
        )

    def reopen(
        self, ticket: str | UUID, *, stamp: Stamp, expected_version: int | None = None
    ) -> Receipt:
        def command(t: Ticket) -> None:
            terms = self._terms(self._account(UUID(t.account_id)))
            t.reopen(stamp=stamp, window=self.reopen_window, sla_terms=terms)

        return self._change(ticket, expected_version, command)

    def rate_satisfaction(
        self,
        ticket: str | UUID,
        *,
        score: int,
        comment: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket,
            expected_version,
            lambda t: t.rate_satisfaction(score=score, comment=comment, stamp=stamp),
        )

    # --- help articles ---------------------------------------------------------------------

    def publish_article(
        self,
        *,
        title: str,
        body: str,
        language: str,
        products: list[str],
        topics: list[str],
        stamp: Stamp,
        slug: str | None = None,
    ) -> ArticleReceipt:
        """A new article; its slug (from the title unless given) must not be taken."""
        article = HelpArticle.publish(
            title=title, body=body, language=language, products=products, topics=topics,
            slug=slug, stamp=stamp,
        )  # fmt: skip
        try:
            recordings = self.save(article)
        except IntegrityError:
            raise AlreadyExists(
                f"An article with slug {article.slug} exists already; revise it instead."
            ) from None
        return _article_receipt(article, recordings)

    def revise_article(
        self,
        article_id: UUID,
        *,
        title: str,
        body: str,
        language: str,
        products: list[str],
        topics: list[str],
        stamp: Stamp,
    ) -> ArticleReceipt:
        """New content for an article; the same content again raises NothingChanged."""
        return self._change_article(
            article_id,
            lambda a: a.revise(
                title=title, body=body, language=language, products=products, topics=topics,
                stamp=stamp,
            ),
        )  # fmt: skip

    def article_receipt(self, article_id: UUID) -> ArticleReceipt:
        """The article as it stands (position 0: nothing new to wait for)."""
        article = self._article(article_id)
        return ArticleReceipt(article.id, article.slug, article.version, 0)

    def withdraw_article(self, article_id: UUID, *, stamp: Stamp) -> ArticleReceipt:
        return self._change_article(article_id, lambda a: a.withdraw(stamp=stamp))

    def sync_article(
        self,
        *,
        slug: str,
        title: str,
        body: str,
        language: str,
        products: list[str],
        topics: list[str],
        stamp: Stamp,
    ) -> str:
        """Make the article ``slug`` read as given: ``published``, ``revised``,
        ``unchanged`` (nothing recorded) or ``withdrawn`` (left alone)."""
        try:
            article = self._article(article_id_for(checked_slug(slug)))
        except UnknownArticle:
            self.publish_article(
                title=title, body=body, language=language, products=products, topics=topics,
                slug=slug, stamp=stamp,
            )  # fmt: skip
            return "published"
        if article.withdrawn:
            return "withdrawn"
        try:
            self.revise_article(
                article.id, title=title, body=body, language=language, products=products,
                topics=topics, stamp=stamp,
            )  # fmt: skip
        except NothingChanged:
            return "unchanged"
        return "revised"

    def open_article(
        self,
        help_session: UUID,
        *,
        article_id: UUID,
        person_id: str,
        account_id: str,
        stamp: Stamp,
    ) -> int:
        """Record that the person opened a suggested article in their help session."""
        article = self._article(article_id)
        for _ in range(5):
            session = self._help_session(help_session, person_id, account_id, stamp)
            session.open_article(article=article, person_id=person_id, stamp=stamp)
            try:
                return _position(self.save(session))
            except IntegrityError:  # another opening of the same session won: again
                continue
        raise TicketBusy("the help session")

    def _change_article(
        self, article_id: UUID, command: Callable[[HelpArticle], object]
    ) -> ArticleReceipt:
        for _ in range(5):
            article = self._article(article_id)
            command(article)
            try:
                return _article_receipt(article, self.save(article))
            except IntegrityError:  # changed meanwhile: decide again on the new version
                continue
        raise TicketBusy(f"article {article_id}")

    def _article(self, article_id: UUID) -> HelpArticle:
        return self._get(HelpArticle, article_id, UnknownArticle(f"No article {article_id}."))

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

    def record_callback_made(
        self,
        ticket: str | UUID,
        *,
        outcome: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        return self._change(
            ticket,
            expected_version,
            lambda t: t.record_callback_made(outcome=outcome, stamp=stamp),
        )

    # --- finding things --------------------------------------------------------------------

    def find_ticket(self, ref: str | UUID) -> UUID:
        """The id of a ticket given its id or its human number (``T-000123``)."""
        if isinstance(ref, UUID):
            return ref
        n = parse_number(ref)
        if n is None:
            return _uuid(ref, UnknownTicket)
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

    # --- internals ------------------------------------------------------------------------

    def _change(
        self, ref: str | UUID, expected_version: int | None, command: Callable[[Ticket], object]
    ) -> Receipt:
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
            return Receipt(ticket.id, ticket.number, ticket.version, _position(recordings))
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


def _position(recordings: list[Recording[Any]]) -> int:
    return max((r.notification.id for r in recordings), default=0)


def _article_receipt(article: HelpArticle, recordings: list[Recording[Any]]) -> ArticleReceipt:
    return ArticleReceipt(article.id, article.slug, article.version, _position(recordings))


def _uuid(text: str, error: Callable[[str], Exception]) -> UUID:
    try:
        return UUID(text)
    except (ValueError, TypeError, AttributeError):
        raise error(f"No such id {text!r}.") from None
