"""What every area of the desk stands on: the eventsourcing application, ticket numbers,
finding a ticket, and deciding a change again when another writer got there first.

The areas (:mod:`desk.tickets`, :mod:`desk.accounts`, :mod:`desk.help_centre`,
:mod:`desk.imports`) are subclasses of :class:`DeskCore`; :class:`desk.service.SupportDesk`
is all of them on one event store.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, resolve_topic
from psycopg.sql import SQL, Identifier

from desk.answers import Receipt, TicketFacts
from desk.ticket_cache import DEFAULT_MAXSIZE, Folded, TicketCache
from domain.account import Account
from domain.article import HelpSession
from domain.base import ChainedAggregate
from domain.chain import GENESIS, HASH_FIELD, PREV_FIELD, event_hash
from domain.custom_fields import BOOK_ID as FIELD_BOOK_ID
from domain.custom_fields import FieldDefinition, TicketFieldBook
from domain.errors import (
    Busy,
    DocketError,
    InvalidField,
    TicketBusy,
    TicketDamaged,
    UnknownAccount,
    UnknownGroup,
    UnknownHelpSession,
    UnknownStaff,
    UnknownTicket,
    VersionMismatch,
)
from domain.messages import Msg, Text
from domain.numbers import TicketNumber, format_number, parse_number
from domain.routing import ROUTING
from domain.sla import FOUNDING_POLICY, Targets, terms_for
from domain.sla_policy import BOOK_ID, SlaPolicyBook
from domain.staff import StaffMember, SupportGroup
from domain.stamp import Stamp
from domain.ticket import REOPEN_WINDOW, Ticket
from projections import log_seal
from projections.kit import Tables
from store.aggregate_cache import copy_of, copying_repository
from store.eventstore import GroupCommitRecorder, register_docket_transcodings
from store.stream_tail import read_tail

NUMBERS_REMEMBERED = 50_000
"""At most this many ticket numbers cached (a few MB); past it the cache starts over."""
PROVEN_REMEMBERED = 20_000
"""At most this many tickets' proved event bytes remembered (32 bytes an event)."""
CONFLICT_PATIENCE_SECONDS = 10.0
"""How long a write without If-Match keeps re-deciding after losing a race for its ticket."""

A = TypeVar("A", bound=ChainedAggregate)
D = TypeVar("D", bound="DeskCore")
P = ParamSpec("P")
K = TypeVar("K")
"""How a use case names the record it changes (a ticket's id or number, an account's id…)."""
R = TypeVar("R")
"""The record a use case changes (a ticket, an account, a staff member, a saved view)."""
Answer = TypeVar("Answer")
"""What the use case answers (the record's receipt)."""
W = TypeVar("W", bound=tuple[ChainedAggregate, ...])
"""The other records a change to a record writes in the same save."""
TICKET_TOPIC = get_topic(Ticket) + "."
"""How the topics of a ticket's events begin (``domain.ticket:Ticket.``)."""


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
        self._groups_named_at_registration: frozenset[str] | None = None
        self._proven: dict[UUID, tuple[bytes, ...]] = {}
        """Per ticket, the SHA-256 of each event's stored bytes once proved to hash right."""
        maxsize = self.env.get("TICKET_CACHE_MAXSIZE")
        self.ticket_cache = TicketCache(DEFAULT_MAXSIZE if maxsize is None else int(maxsize))
        """Tickets kept folded, so a write folds only the events since (see
        :mod:`desk.ticket_cache`)."""

    def construct_repository(self) -> Repository[UUID]:
        """eventsourcing's repository, with a cache (when ``AGGREGATE_CACHE_MAXSIZE`` asks
        for one) that the API's threads may share: see :mod:`store.aggregate_cache`."""
        return copying_repository(self.events, self.snapshots, self.env)

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
                if isinstance(recorder, GroupCommitRecorder):  # desks started side by side
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (recorder.create_lock_key,))
                cursor.execute(SQL("CREATE SEQUENCE IF NOT EXISTS {0}").format(sequence))
                # composed once, here: a Composed statement quotes its identifiers again
                # on every execute, which cost more than the nextval itself
                statement = (
                    SQL("SELECT nextval('{0}') AS n").format(sequence).as_bytes(cursor.connection)
                )

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
            ticket_id = UUID(claim.ticket_id)
        except AggregateNotFoundError:
            raise UnknownTicket(Msg("No ticket {ref}.", ref=ref)) from None
        except Exception:  # a claim Docket cannot read back was not written by it
            raise TicketDamaged(number, "the claim of its number is unreadable") from None
        if len(self._numbers) >= NUMBERS_REMEMBERED:
            self._numbers.clear()
        self._numbers[number] = ticket_id
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
            merged_into=t.merged_into,
            participants=tuple(sorted(t.participants)),
            ccs=tuple(t.ccs.items()),
        )

    def check_assignment(self, agent_id: str | None, group: str | None) -> None:
        """An assignment names an active agent (in ``group``, if one is named) and a
        support group that exists; no one, or no group, is fine too."""
        if agent_id is not None:
            member = self._staff(agent_id)
            member.check_assignable()
            if group is None or group in member.groups:
                return  # a group an agent is in exists
        if group is not None and not self.group_exists(group):
            raise UnknownGroup(
                Msg("No support group {group}; create it with POST /v1/groups.", group=group)
            )
        if agent_id is not None:
            raise InvalidField(
                "group", Msg("That agent is not in the {group} support group.", group=group)
            )

    def group_exists(self, name: str) -> bool:
        """Whether the support group was created, or named when an agent was registered.

        Since groups have streams of their own, registering an agent creates the groups it
        names; only registrations stored before then name groups without a stream, and
        those are read once per process (they never change)."""
        if self._exists(SupportGroup.id_for(name)):
            return True
        if self._groups_named_at_registration is None:
            self._groups_named_at_registration = self._registered_groups()
        return name in self._groups_named_at_registration

    def _registered_groups(self) -> frozenset[str]:
        topic = get_topic(StaffMember.Registered)
        groups: set[str] = set()
        start: int | None = None
        while True:
            page = self.recorder.select_notifications(
                start, 500, topics=[topic], inclusive_of_start=False
            )
            for notification in page:
                registered = self.mapper.to_domain_event(notification)
                assert isinstance(registered, StaffMember.Registered)
                groups.update(registered.groups)
            if len(page) < 500:
                return frozenset(groups)
            start = page[-1].id

    def _staff(self, staff_id: str | UUID) -> StaffMember:
        staff_uuid = staff_id if isinstance(staff_id, UUID) else uuid_of(staff_id, UnknownStaff)
        return self._get(
            StaffMember,
            staff_uuid,
            UnknownStaff(Msg("No staff member {staff_id}.", staff_id=staff_id)),
        )

    def has_ticket(self, ticket_id: UUID) -> bool:
        return self._exists(ticket_id)

    def has_account(self, account_id: UUID) -> bool:
        return self._exists(account_id)

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, desc=True, limit=1))

    # --- the SLA terms a ticket is promised -------------------------------------------

    def sla_policy(self) -> dict[str, Targets]:
        """The targets in force now, per tier and priority (seconds of business time)."""
        book = self._policy_book(to_change=False)
        return dict(book.tiers) if book else dict(FOUNDING_POLICY)

    def _policy_book(self, *, to_change: bool = True) -> SlaPolicyBook | None:
        return self._book(SlaPolicyBook, BOOK_ID, to_change=to_change)

    def _book(self, kind: type[A], book_id: UUID, *, to_change: bool = True) -> A | None:
        """A desk-wide book kept in one stream (the SLA policy, the custom ticket fields,
        the automation rules), or ``None`` before its first change; ``to_change=False``
        for a caller that only reads it (the kept fold itself, not a copy of it)."""
        try:
            book: object = self.repository.get(book_id, deepcopy_from_cache=to_change)
        except AggregateNotFoundError:
            return None
        assert isinstance(book, kind)
        return book

    # --- custom ticket fields --------------------------------------------------------

    def ticket_fields(self) -> dict[str, FieldDefinition]:
        """Every custom ticket field defined, archived ones too, by key."""
        book = self._field_book(to_change=False)
        return dict(book.fields) if book else {}

    def _field_book(self, *, to_change: bool = True) -> TicketFieldBook | None:
        return self._book(TicketFieldBook, FIELD_BOOK_ID, to_change=to_change)

    def _terms(
        self, account: Account, requester_id: str, product: str, at: datetime
    ) -> dict[str, Any]:
        """What a ticket's cycle is promised: the support its requester gets on its product
        at that instant (Premium only for the account's admins, on covered products)."""
        tier = account.tier_for(requester_id, product, at)
        return terms_for(self.sla_policy(), tier, account.calendar)

    def _numbered_ticket(
        self,
        account: Account,
        requester_id: str,
        stamp: Stamp,
        *,
        ticket_id: UUID,
        type: str,
        product: str,
        follow_up_of: str | None = None,
        **filing: str,
    ) -> tuple[Ticket, TicketNumber]:
        """A new ticket of ``requester_id`` in ``account`` (``filing``: its subject,
        description, priority, topic and channel), with the next number and that number's
        claim, to be saved together: promised what the requester's support is on its
        product now, and routed to the support group its type and account call for."""
        number = format_number(self.next_number())
        ticket = Ticket.file(
            ticket_id=ticket_id,
            number=number,
            type=type,
            product=product,
            requester_id=requester_id,
            account_id=str(account.id),
            follow_up_of=follow_up_of,
            stamp=stamp,
            sla_terms=self._terms(account, requester_id, product, stamp.at),
            support_group=ROUTING.group_for(type, account.plan, account.account_team),
            **filing,
        )
        return ticket, TicketNumber.claim(number=number, ticket_id=ticket.id, stamp=stamp)

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
            raise UnknownHelpSession(Msg("No help session {session_id}.", session_id=session_id))
        session.check_belongs_to(person_id)
        return session

    # --- changing a ticket --------------------------------------------------------------

    def _change(
        self,
        ref: str | UUID,
        expected_version: int | None,
        command: Callable[[Ticket], object],
        stamp: Stamp,
    ) -> Receipt:
        """Fold the ticket, run ``command`` on it, save: one save, decided again on a race.

        ``expected_version`` (``If-Match``) is the version as the author of ``stamp``
        reads the ticket (:meth:`Ticket.version_seen_by`): an internal note written since
        a customer read it changes nothing they saw, so it does not refuse their write;
        and a refusal names the version they can read, never one that counts notes."""
        ticket_id = self.find_ticket(ref)
        deadline = time.monotonic() + CONFLICT_PATIENCE_SECONDS
        for attempt in itertools.count():
            ticket = self._ticket_as_read(ticket_id, expected_version, stamp)
            was_closed = ticket.status == "closed"
            command(ticket)
            if not was_closed and ticket.survey_due():
                self._offer_survey(ticket, stamp)
            try:
                recordings = self.save(ticket)
            except IntegrityError:
                # someone wrote first: fold their events in and decide again (with If-Match,
                # refused at the top if what the caller sees has changed)
                lost_race(attempt, deadline, ticket.number)
                continue
            seen = ticket.version_seen_by(stamp)
            return Receipt(ticket.id, ticket.number, seen, position(recordings))
        raise AssertionError("unreachable")

    def _ticket_as_read(
        self, ticket_id: UUID, expected_version: int | None, stamp: Stamp
    ) -> Ticket:
        """The ticket, unless the author of ``stamp`` named a version (If-Match) other
        than the one they read it at now."""
        ticket = self._ticket(ticket_id)
        seen = ticket.version_seen_by(stamp)
        if expected_version is not None and seen != expected_version:
            raise VersionMismatch(expected_version, seen)
        return ticket

    def _saved_again(
        self,
        fold: Callable[[], A],
        change: Callable[[A], R],
        busy: Text | Busy,
        attempts: int = 5,
        *,
        with_it: tuple[ChainedAggregate, ...] = (),
    ) -> tuple[A, R, int]:
        """Fold a record (a book, an article, a help session), ``change`` it and save it,
        after the records saved ``with_it`` in the same save (a ticket filed from a help
        session); decided again on the record as it then stands when another write won,
        and :class:`Busy` (``busy``, or ``busy`` itself when it is one) after
        ``attempts``. Answers the record, what ``change`` answered and the position the
        save reached."""
        for _ in range(attempts):
            record = fold()
            answer = change(record)
            try:
                recordings = self.save(*with_it, record)
            except IntegrityError:
                continue
            return record, answer, position(recordings)
        raise busy if isinstance(busy, Busy) else Busy(busy)

    def _offer_survey(self, ticket: Ticket, stamp: Stamp) -> None:
        """A closing, however it came, asks its requester for a rating in the same save,
        unless they asked for none or are no longer a member of the ticket's account."""
        account = self._account(UUID(ticket.account_id))
        requester = ticket.requester_id
        if requester in account.members and account.wants_surveys(requester):
            ticket.offer_survey(stamp=stamp)

    def _get(
        self, kind: type[A], aggregate_id: UUID, missing: DocketError, *, to_change: bool = True
    ) -> A:
        """The aggregate of that kind, or ``missing`` raised (also for another kind's id);
        ``to_change=False`` for a caller that only reads it (the kept fold itself, not a
        copy of it)."""
        try:
            found: object = self.repository.get(aggregate_id, deepcopy_from_cache=to_change)
        except AggregateNotFoundError:
            raise missing from None
        if not isinstance(found, kind):
            raise missing
        return found

    def _ticket(self, ticket_id: UUID) -> Ticket:
        """The ticket folded from its stored events, once they are proved whole.

        Every change folds the ticket first, so this is where a broken chain is caught
        before it is extended: each event must decode, hash to what it records and follow
        the one before, and the stream must reach the head the log seal recorded for it
        (read before the events, so a write committed meanwhile cannot pass for damage).
        The events are decoded once, for the check and for the fold alike.

        A ticket this process folded before (:mod:`desk.ticket_cache`) is taken from
        there: only the events written since are read, proved and folded, onto a copy,
        while PostgreSQL shows the rows of the versions before to be the very rows proved
        then (one digest of their identities, :func:`store.stream_tail.read_tail`).
        Anything else — a digest that differs, a stream shorter than the entry — drops
        the entry, and the ticket is proved from its first event, which names what was
        damaged.
        """
        head = self._sealed_head(ticket_id)
        cached = self.ticket_cache.get(ticket_id)
        if cached is not None:
            try:
                folded = self._fast_forward(ticket_id, cached, head)
            except TicketDamaged:
                folded = None
            if folded is not None:
                return copy_of(folded.ticket)
            self.ticket_cache.drop(ticket_id)
        tail = read_tail(self.recorder, ticket_id, 0)
        stored = tail.events
        if not stored:
            if head is not None:
                raise TicketDamaged(str(ticket_id), f"all {head[0]} of its events are missing")
            raise UnknownTicket(Msg("No ticket {ticket_id}.", ticket_id=ticket_id))
        if not stored[0].topic.startswith(TICKET_TOPIC):
            raise UnknownTicket(Msg("No ticket {ticket_id}.", ticket_id=ticket_id))
        events, hashes, seen = self._proved(
            str(ticket_id), stored, GENESIS, self._proven.get(ticket_id, ())
        )
        number = events[0].__dict__.get("number", str(ticket_id))
        check_head(str(number), len(hashes), lambda v: hashes[v - 1], head)
        if len(self._proven) >= PROVEN_REMEMBERED:
            self._proven.clear()
        self._proven[ticket_id] = tuple(seen)
        ticket = project_aggregate(None, events)
        if not isinstance(ticket, Ticket):
            raise UnknownTicket(Msg("No ticket {ticket_id}.", ticket_id=ticket_id))
        if self.ticket_cache.maxsize <= 0:
            return ticket
        self.ticket_cache.put(ticket_id, Folded.first(ticket, hashes, tail.identities))
        return copy_of(ticket)

    def _fast_forward(
        self, ticket_id: UUID, cached: Folded, head: tuple[int, str] | None
    ) -> Folded | None:
        """``cached`` with the events written since folded on (a new entry), ``cached``
        itself if there are none, or ``None`` if the versions it holds are not stored as
        they were when it was proved."""
        tail = read_tail(self.recorder, ticket_id, cached.version)
        if (tail.count, tail.first, tail.digest) != (cached.version, 1, cached.rows.hexdigest()):
            return None
        number = cached.ticket.number
        if not tail.events:
            check_head(number, cached.version, cached.hash_at, head)
            return cached
        events, hashes, _ = self._proved(
            number, tail.events, cached.hash_at(cached.version), (), first=cached.version + 1
        )
        ticket = project_aggregate(copy_of(cached.ticket), events)
        assert isinstance(ticket, Ticket)
        folded = cached.then(ticket, hashes, tail.identities)
        check_head(number, folded.version, folded.hash_at, head)
        self.ticket_cache.put(ticket_id, folded)
        return folded

    def _sealed_head(self, stream_id: UUID) -> tuple[int, str] | None:
        recorder = self.recorder
        if not isinstance(recorder, PostgresApplicationRecorder):
            return None
        with recorder.datastore.get_connection() as conn:
            return log_seal.head_of(conn, Tables(recorder.datastore.schema), stream_id)

    def _proved(
        self,
        number: str,
        stored: Sequence[StoredEvent],
        previous: str,
        proven: tuple[bytes, ...],
        *,
        first: int = 1,
    ) -> tuple[list[Any], list[str], list[bytes]]:
        """The domain events of ``stored`` (versions ``first``… of one stream, the one
        before hashing to ``previous``), upcast as the mapper does, with each one's
        ``event_hash`` and the SHA-256 of its stored bytes; or :class:`TicketDamaged`.

        Hashing an event's fields is most of what the check costs, so the bytes of the
        events proved before are remembered (``proven``, by their SHA-256): an event stored
        with the same bytes at the same version hashes as it did, and only new or changed
        ones are hashed again. Every link is checked every time.
        """
        events: list[Any] = []
        digests: list[str] = []
        seen: list[bytes] = []
        for expected, s in enumerate(stored, start=first):
            version = s.originator_version
            if version != expected:
                raise TicketDamaged(number, f"version {expected} is missing")
            seen.append(hashlib.sha256(s.state).digest())
            known = version <= len(proven) and proven[version - 1] == seen[-1]
            try:
                cls = resolve_topic(s.topic)
                state = dict(self.mapper.transcoder.decode(self._plain_bytes(s.state)))
            except Exception:  # any bytes Docket cannot read back were not written by it
                raise TicketDamaged(number, f"version {version} is undecodable") from None
            if version == 1 and isinstance(state.get("number"), str):
                number = state["number"]
            class_version = state.pop("class_version", 1)
            state["originator_id"] = s.originator_id
            state["originator_version"] = version
            digest = state.get(HASH_FIELD)
            if state.get(PREV_FIELD) != previous or (
                not known and digest != event_hash(cls.__qualname__, class_version, state)
            ):
                raise TicketDamaged(number, f"version {version} does not match its hash chain")
            previous = str(digest)
            digests.append(previous)
            while class_version < getattr(cls, "class_version", 1):
                getattr(cls, f"upcast_v{class_version}_v{class_version + 1}")(state)
                class_version += 1
            event = object.__new__(cls)
            object.__setattr__(event, "__dict__", state)
            events.append(event)
        return events, digests, seen

    def _plain_bytes(self, state: bytes) -> bytes:
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        return state

    def _account(self, account_id: UUID, *, to_change: bool = True) -> Account:
        return self._get(
            Account,
            account_id,
            UnknownAccount(Msg("No account {account_id}.", account_id=account_id)),
            to_change=to_change,
        )


def change_through(
    run: Callable[[Any, K, int | None, Stamp, Callable[[R], object]], Answer],
) -> Callable[[Callable[Concatenate[D, R, P], object]], Callable[Concatenate[D, K, P], Answer]]:
    """A decorator for use cases that are one change to one record: the decorated method
    says only what the record (its second parameter) records; the use case takes the
    record's reference first and hands ``run`` the desk, that reference, the
    ``expected_version`` (If-Match) and ``stamp`` its keywords name, and the change.
    ``run`` folds the record, checks, decides again on a race and saves."""

    def decorator(
        decide: Callable[Concatenate[D, R, P], object],
    ) -> Callable[Concatenate[D, K, P], Answer]:
        @functools.wraps(decide)
        def use_case(self: D, ref: K, /, *args: P.args, **kwargs: P.kwargs) -> Answer:
            stamp, expected_version = stamp_and_version(kwargs)
            return run(
                self, ref, expected_version, stamp, lambda r: decide(self, r, *args, **kwargs)
            )

        return use_case

    return decorator


def _run_ticket_change(
    desk: DeskCore,
    ticket: str | UUID,
    expected_version: int | None,
    stamp: Stamp,
    change: Callable[[Ticket], object],
) -> Receipt:
    return desk._change(ticket, expected_version, change, stamp)


ticket_change = change_through(_run_ticket_change)
"""One change to one ticket, run as :meth:`DeskCore._change` runs it."""


@dataclass(frozen=True)
class RecordChange(Generic[K, A, Answer]):
    """One change to one record that is not a ticket (an account, a staff member, a saved
    view, a contact request), as a decorator like :func:`change_through`, or :meth:`run`
    for a use case that checks something first: ``fold`` the record from its reference,
    ``check`` it, run the change, save, and answer its ``receipt`` (from the record as
    saved and the position the save reached). Decided again when another write won,
    unless the caller named the version it expected (``If-Match``: then the refusal names
    the version stored now, as ``what``); :class:`Busy` (``busy``, of the record as last
    folded) after ``attempts`` lost races."""

    fold: Callable[[DeskCore, K], A]
    receipt: Callable[[A, int], Answer]
    _: KW_ONLY
    what: Text | None
    busy: Callable[[A], Text]
    attempts: int
    check: Callable[[A, K, Stamp], object] = lambda *_: None

    def __call__(
        self, decide: Callable[Concatenate[D, A, P], object]
    ) -> Callable[Concatenate[D, K, P], Answer]:
        return change_through(self.run)(decide)

    def run(
        self,
        desk: DeskCore,
        ref: K,
        expected_version: int | None,
        stamp: Stamp,
        change: Callable[[A], object],
    ) -> Answer:
        def alone(record: A) -> tuple[()]:
            change(record)
            return ()

        record, _, at = self.saved(desk, ref, expected_version, stamp, alone)
        return self.receipt(record, at)

    def saved(
        self,
        desk: DeskCore,
        ref: K,
        expected_version: int | None,
        stamp: Stamp,
        change: Callable[[A], W],
    ) -> tuple[A, W, int]:
        """As :meth:`run`, for a change that writes other records too (a contact request
        turned into a ticket: the ticket and its number's claim): ``change`` answers them,
        saved before the record in the same save. Answers the record, those records and
        the position the save reached."""
        for _ in range(self.attempts):
            record = self.fold(desk, ref)
            self.check(record, ref, stamp)
            if expected_version is not None and record.version != expected_version:
                raise VersionMismatch(expected_version, record.version, self.what)
            with_it = change(record)
            try:
                recordings = desk.save(*with_it, record)
            except IntegrityError:
                if expected_version is not None:
                    stored = self.fold(desk, ref).version
                    raise VersionMismatch(expected_version, stored, self.what) from None
                continue
            return record, with_it, position(recordings)
        raise Busy(self.busy(record))


def stamp_and_version(keywords: dict[str, object]) -> tuple[Stamp, int | None]:
    """The ``stamp`` and ``expected_version`` (If-Match) a use case was called with."""
    stamp, expected_version = keywords["stamp"], keywords.get("expected_version")
    assert isinstance(stamp, Stamp)
    assert expected_version is None or isinstance(expected_version, int)
    return stamp, expected_version


def lost_race(attempt: int, deadline: float, number: str) -> None:
    """After a save that lost a race: :class:`TicketBusy` past the ``deadline``, else a
    short random pause (so the losers of one race do not all collide again)."""
    if time.monotonic() > deadline:
        raise TicketBusy(number) from None
    time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.05)))


def check_head(
    number: str, version: int, hash_at: Callable[[int], str], head: tuple[int, str] | None
) -> None:
    """:class:`TicketDamaged` unless a stream at ``version`` (whose events hash to
    ``hash_at(v)``) reaches the head the log seal recorded for it, with the same event
    there."""
    if head is None:
        return
    if version < head[0]:
        missing = f"versions {version + 1}..{head[0]} are missing"
        raise TicketDamaged(number, f"{missing}; the log seal recorded them")
    if hash_at(head[0]) != head[1]:
        raise TicketDamaged(number, f"version {head[0]} is not the event the log seal recorded")


def position(recordings: list[Recording[Any]]) -> int:
    """The global position of the last event a save wrote."""
    return max((r.notification.id for r in recordings), default=0)


def uuid_of(text: str, error: Callable[[Text], Exception]) -> UUID:
    try:
        return UUID(text)
    except (ValueError, TypeError, AttributeError):
        raise error(Msg("No such id {text!r}.", text=text)) from None
