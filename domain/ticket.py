"""The ticket: what a requester files and agents work, as a stream of facts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.domain import event

from domain.attachments import ACCEPTED_TYPES, is_clean_filename
from domain.automation import Rule, RuleFacts
from domain.base import ChainedAggregate
from domain.ccs import checked_cc_address, normalised_address, outside_cc_id
from domain.channels import (
    CallbackRequest,
    ChatLine,
    checked_transcript,
)
from domain.errors import (
    EmptyAttachment,
    InvalidField,
    MergeAcrossAccounts,
    MergeIntoItself,
    MergeTargetClosed,
    NoCallbackToMake,
    NotAMember,
    NotCopied,
    NothingChanged,
    PriorityUnchanged,
    ReopenWindowPassed,
    StaffOnly,
    StatusChangeNotAllowed,
    StatusUnchanged,
    SurveyAlreadyAnswered,
    SurveyNoLongerOpen,
    TicketClosed,
    TicketMerged,
    TicketNotClosed,
    TooManyCcs,
    UnknownCc,
    UnsupportedAttachmentType,
)
from domain.messages import Msg
from domain.sla import SlaState
from domain.stamp import Stamp
from domain.tags import TAGS_MAX, normalised_tags
from domain.vocabulary import (
    AUTHOR_ROLES,
    BODY_MAX_BYTES,
    CALLBACK_OUTCOMES,
    CCS_MAX,
    CHANNELS,
    COMMENT_MAX_CHARS,
    NAME_MAX_CHARS,
    PRIORITIES,
    STATUSES,
    SUBJECT_MAX_CHARS,
    TICKET_TYPES,
    checked_choice,
    checked_text,
)

REOPEN_WINDOW = timedelta(days=30)


def reopen_window_passed(
    closed_at: datetime, at: datetime, window: timedelta = REOPEN_WINDOW
) -> bool:
    """Whether a ticket closed at ``closed_at`` can no longer be reopened at ``at``: then
    its requester files a follow-up that links to it instead."""
    return at - closed_at > window


def checked_body(value: str) -> str:
    return checked_text("body", value, max_bytes=BODY_MAX_BYTES)


class TicketFile(TypedDict):
    """A file as a ticket records it, public or a note's: the fields of
    :class:`Ticket.AttachmentAdded` and of :class:`Ticket.NoteAttachmentAdded`."""

    attachment_id: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class TicketOwner:
    """Whose a ticket is, all that deciding who may see it needs: facts fixed when it is
    filed, the participants a merge adds (only ever added: a view that lags behind a
    merge may refuse a participant for a moment, never let anyone else in), and the
    members of its account it copies (CCs, who see it too; a write by one is checked
    against the ticket itself, see :func:`api.writes.visible_ticket`)."""

    ticket_id: UUID
    account_id: str
    requester_id: str
    participants: tuple[str, ...] = ()
    """Customers besides the requester who follow the ticket (see :class:`Ticket`)."""
    cc_member_ids: frozenset[str] = frozenset()


class Ticket(ChainedAggregate):
    """A support ticket. Commands check a rule, then record one or more facts."""

    class Opened(ChainedAggregate.Created):
        class_version = 4
        number: str
        subject: str
        description: str
        type: str
        priority: str
        product: str
        topic: str
        channel: str
        requester_id: str
        account_id: str
        follow_up_of: str | None
        sla_terms: dict[str, Any] | None
        """What the first cycle is promised (see :mod:`domain.sla`)."""
        support_group: str | None
        """The group the ticket was routed to when filed (see :mod:`domain.routing`)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no link to an earlier ticket."""
            state["follow_up_of"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Version 2 promised nothing: no SLA clocks run for it."""
            state["sla_terms"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            """Version 3 was not routed: it waited for a group in no queue."""
            state["support_group"] = None

    class MessageAdded(ChainedAggregate.Event):
        author_id: str
        author_role: str
        body: str
        attachments: list[str]

    class InternalNoteAdded(ChainedAggregate.Event):
        class_version = 2
        author_id: str
        body: str
        attachments: list[str]
        """The note's files, by id: each put on the ticket by a :class:`NoteAttachmentAdded`
        (staff only, as the note is)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 notes carried no files."""
            state["attachments"] = []

    class StatusChanged(ChainedAggregate.Event):
        from_status: str
        to_status: str

    class PriorityRaised(ChainedAggregate.Event):
        from_priority: str
        to_priority: str

    class PriorityLowered(ChainedAggregate.Event):
        from_priority: str
        to_priority: str

    class Assigned(ChainedAggregate.Event):
        agent_id: str | None
        group: str | None

    class TypeChanged(ChainedAggregate.Event):
        from_type: str
        to_type: str

    class ProductChanged(ChainedAggregate.Event):
        from_product: str
        to_product: str

    class Reopened(ChainedAggregate.Event):
        class_version = 2
        cycle: int
        sla_terms: dict[str, Any] | None
        """What the new cycle is promised."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["sla_terms"] = None

    class AttachmentAdded(ChainedAggregate.Event):
        attachment_id: str
        filename: str
        content_type: str
        size: int

    class NoteAttachmentAdded(ChainedAggregate.Event):
        """A file put on the ticket for its internal notes (a screenshot, a log): staff
        only, as the notes are; no customer ever sees, is mailed or downloads it."""

        attachment_id: str
        filename: str
        content_type: str
        size: int

    class SatisfactionRated(ChainedAggregate.Event):
        score: int
        comment: str

    class SurveyOffered(ChainedAggregate.Event):
        """The requester is asked to rate the closing of ``cycle`` (one email, with signed
        links: see :mod:`domain.surveys`); recorded with the closing, once per cycle."""

        cycle: int

    class SlaBreached(ChainedAggregate.Event):
        """A clock ran past its due instant: recorded once per clock, when noticed."""

        target: str
        cycle: int
        seq: int
        started_at: datetime
        due_at: datetime
        breached_at: datetime

    class ChatTranscriptRecorded(ChainedAggregate.Event):
        """The lines of the chat a chat ticket came from, as said (see :mod:`domain.channels`)."""

        lines: list[dict[str, Any]]

    class CallbackRequested(ChainedAggregate.Event):
        """The requester asked to be phoned back within a window (instants; ``time_zone``
        only says how to show it), or with no window (both ``None``): as soon as possible."""

        phone: str
        window_start: datetime | None
        window_end: datetime | None
        time_zone: str | None

    class CallbackMade(ChainedAggregate.Event):
        """An agent phoned the requester back: ``reached`` them, or ``no_answer``."""

        outcome: str

    class TagsAdded(ChainedAggregate.Event):
        """Staff put tags on the ticket (normalised, see :mod:`domain.tags`; none it had)."""

        tags: list[str]

    class TagsRemoved(ChainedAggregate.Event):
        """Staff took tags off the ticket (only tags it had)."""

        tags: list[str]

    class CcAdded(ChainedAggregate.Event):
        """Someone copied on the ticket, by address (normalised, :mod:`domain.ccs`);
        ``member_id`` when the address was a member's of the ticket's account then."""

        email: str
        member_id: str | None

    class CcRemoved(ChainedAggregate.Event):
        """Someone no longer copied: they get no more email of it, nor see it."""

        email: str

    class AutomationFired(ChainedAggregate.Event):
        """A time-based automation fired for the cycle that began at ``cycle_start`` (once
        per rule and cycle); its actions are the events after this one in the same save.
        ``notify_to``: whom the outbox emails ``notice`` (none: no email)."""

        rule_id: str
        rule_version: int
        rule_name: str
        cycle_start: datetime
        due_at: datetime
        notify_to: list[str]
        notice: str

    tags: tuple[str, ...] = ()
    """The ticket's tags, in the order they were put on. Staff only (see :mod:`domain.tags`)."""

    class MergedInto(ChainedAggregate.Event):
        """The ticket duplicated ``target_number`` and was merged into it: it is worked
        there from now on. This closes it (its clocks stop) without being a close by
        anyone: it owes no closing email, survey or resolution time, and is never reopened."""

        target_id: str
        target_number: str

    class MergeReceived(ChainedAggregate.Event):
        """Ticket ``source_number`` was merged into this one; its requester follows this
        ticket from now on as a participant (they see what customers see of it)."""

        source_id: str
        source_number: str
        source_requester_id: str

    class CustomFieldsSet(ChainedAggregate.Event):
        """The ticket's custom field values (see :mod:`domain.custom_fields`) are now
        ``values``, all of them: when filed, or as staff changed them later."""

        values: dict[str, Any]

    callback_state: str | None = None
    """None, ``to_make`` once a callback is requested, ``made`` once an agent called."""
    has_transcript: bool = False
    customer_version: int = 0
    """The version of the latest event customers see (:data:`PUBLIC_EVENTS`): an internal
    note or a clock running out changes nothing a customer reads, nor this."""
    requester_version: int = 0
    """The same for the ticket's requester, who also sees the callback they asked for."""
    updated_at: datetime | None = None
    """The instant of the latest event but Docket's bookkeeping (:data:`BOOKKEEPING_EVENTS`)."""
    imported: bool = False
    """Filed elsewhere: some of its history came through an import (its filing, since the
    desk files every import so). Its history is not news, and it asks for no rating."""

    def took(self, event: ChainedAggregate.Event) -> None:
        kind = type(event)
        if event.stamp.via == "import":
            self.imported = True
        if kind not in BOOKKEEPING_EVENTS:
            self.updated_at = event.timestamp
            if kind in RULE_INSTANT_EVENTS:
                self._note_rule_instants(event)
        if kind in PUBLIC_EVENTS:
            self.customer_version = self.requester_version = event.originator_version
        elif type(event) in CALLBACK_EVENTS:
            self.requester_version = event.originator_version

    def version_seen_by(self, stamp: Stamp) -> int:
        """The version as the author of ``stamp`` reads the ticket, which their
        ``If-Match`` names: staff every event's; customers the latest they may see."""
        if stamp.is_staff or stamp.actor_kind == "system":
            return self.version
        return (
            self.requester_version
            if stamp.actor_id == self.requester_id
            else (self.customer_version)
        )

    # --- filing -------------------------------------------------------------

    @classmethod
    def file(
        cls,
        *,
        ticket_id: UUID,
        number: str,
        subject: str,
        description: str,
        type: str,
        priority: str,
        product: str,
        topic: str,
        channel: str,
        requester_id: str,
        account_id: str,
        stamp: Stamp,
        follow_up_of: str | None = None,
        sla_terms: dict[str, Any] | None = None,
        support_group: str | None = None,
    ) -> Ticket:
        checked_text("subject", subject, max_chars=SUBJECT_MAX_CHARS)
        checked_text("description", description, max_bytes=BODY_MAX_BYTES)
        checked_choice("type", type, TICKET_TYPES)
        checked_choice("priority", priority, PRIORITIES)
        checked_choice("channel", channel, CHANNELS)
        if product:
            checked_text("product", product, max_chars=NAME_MAX_CHARS)
        if topic:
            checked_text("topic", topic, max_chars=NAME_MAX_CHARS)
        return cls(
            id=ticket_id,
            number=number,
            subject=subject,
            description=description,
            type=type,
            priority=priority,
            product=product,
            topic=topic,
            channel=channel,
            requester_id=requester_id,
            account_id=account_id,
            follow_up_of=follow_up_of,
            sla_terms=sla_terms,
            support_group=support_group,
            stamp=stamp,
        )

    @event(Opened)
    def __init__(
        self,
        id: UUID,
        number: str,
        subject: str,
        description: str,
        type: str,
        priority: str,
        product: str,
        topic: str,
        channel: str,
        requester_id: str,
        account_id: str,
        follow_up_of: str | None,
        sla_terms: dict[str, Any] | None,
        support_group: str | None,
        stamp: Stamp,
    ) -> None:
        self.number = number
        self.subject = subject
        self.type = type
        self.priority = priority
        self.product = product
        self.topic = topic
        self.channel = channel
        self.requester_id = requester_id
        self.account_id = account_id
        self.follow_up_of = follow_up_of
        self.status = "open"
        self.closed_at: datetime | None = None
        self.cycle = 1
        self.assignee_id: str | None = None
        self.group: str | None = support_group
        self.collaborators: set[str] = set()
        self.attachments: list[str] = []
        self.note_attachments: list[str] = []
        """The files of its internal notes (staff only): never a public reply's."""
        self.message_count = 1
        self.note_count = 0
        self.rating: int | None = None
        self.merged_into: str | None = None
        """The number of the ticket this one was merged into, once it was."""
        self.merged_into_id: UUID | None = None
        self.merged_from: list[str] = []
        """The numbers of the tickets merged into this one, in the order they were."""
        self.participants: set[str] = set()
        """Customers besides the requester who follow the ticket: the requesters of the
        tickets merged into it."""
        self.ccs: dict[str, str | None] = {}
        """Who the ticket copies: address -> member id (None: not a member of the account)."""
        self.custom_fields: dict[str, Any] = {}
        self.automations_fired: set[tuple[str, datetime]] = set()
        """(rule id, cycle start) of every automation that fired on the ticket."""
        self.survey_cycle: int | None = None
        """The cycle whose closing the latest survey asks about."""
        self.sla = SlaState().opened(priority)
        if sla_terms is not None:
            self.sla = self.sla.terms_set(sla_terms, stamp.at)

    # --- conversation ---------------------------------------------------------

    def add_message(
        self, *, author_id: str, author_role: str, body: str, attachments: list[str], stamp: Stamp
    ) -> None:
        """A public reply. A requester's or collaborator's reply re-opens a pending ticket."""
        checked_choice("author_role", author_role, AUTHOR_ROLES)
        checked_body(body)
        self.check_not_closed()
        if author_role == "agent" and not acts_for_staff(stamp):
            raise StaffOnly(Msg("Only staff can reply as an agent."))
        if author_role == "requester" and author_id != self.requester_id:
            raise NotAMember(Msg("Only the ticket's requester can reply as its requester."))
        if author_role == "collaborator" and author_id == self.requester_id:
            raise InvalidField("author_role", Msg("The requester replies as requester."))
        if author_role == "cc" and author_id not in self.cc_people:
            raise NotCopied(
                Msg(
                    "{person} is not copied on ticket {number}; ask its requester or an agent "
                    "to add you as a CC.",
                    person=author_id,
                    number=self.number,
                )
            )
        self.check_not_a_note_file(attachments)
        unknown = [a for a in attachments if a not in self.attachments]
        if unknown:
            raise InvalidField(
                "attachments", Msg("Attach {unknown} to the ticket first.", unknown=unknown[0])
            )
        self._message_added(
            author_id=author_id,
            author_role=author_role,
            body=body,
            attachments=list(attachments),
            stamp=stamp,
        )
        if author_role != "agent" and self.status == "pending":
            self._status_changed(from_status="pending", to_status="open", stamp=stamp)

    @event(MessageAdded)
    def _message_added(
        self, author_id: str, author_role: str, body: str, attachments: list[str], stamp: Stamp
    ) -> None:
        self.message_count += 1
        self.sla = self.sla.message(author_role, stamp.at)
        if author_role == "collaborator":
            self.collaborators.add(author_id)

    def add_internal_note(
        self, *, author_id: str, body: str, stamp: Stamp, attachments: Sequence[str] = ()
    ) -> None:
        """A note among staff, with files put on the ticket for notes first
        (:meth:`add_note_attachment`). Allowed on closed tickets: it changes nothing the
        customer sees."""
        if not acts_for_staff(stamp):
            raise StaffOnly(Msg("Only staff can add internal notes."))
        checked_body(body)
        unknown = [a for a in attachments if a not in self.note_attachments]
        if unknown:
            raise InvalidField(
                "attachments",
                Msg(
                    "{unknown} is not a file of ticket {number}'s internal notes; upload it "
                    "and attach it with this note.",
                    unknown=unknown[0],
                    number=self.number,
                ),
            )
        self._internal_note_added(
            author_id=author_id, body=body, attachments=list(attachments), stamp=stamp
        )

    @event(InternalNoteAdded)
    def _internal_note_added(
        self, author_id: str, body: str, attachments: list[str], stamp: Stamp
    ) -> None:
        self.note_count += 1

    def add_note_attachment(
        self, *, attachment_id: str, filename: str, content_type: str, size: int, stamp: Stamp
    ) -> None:
        """Put a file on the ticket for an internal note: staff only, and allowed on a
        closed ticket, as notes are. A file customers already see stays theirs: a note
        does not carry it (its reply does)."""
        if not acts_for_staff(stamp):
            raise StaffOnly(Msg("Only staff attach files to internal notes."))
        checked_file_facts(filename, content_type, size)
        if attachment_id in self.attachments:
            raise InvalidField(
                "attachments",
                Msg(
                    "Attachment {attachment_id} is on ticket {number} for its customers to "
                    "see; an internal note carries files of its own.",
                    attachment_id=attachment_id,
                    number=self.number,
                ),
            )
        file = TicketFile(
            attachment_id=attachment_id, filename=filename, content_type=content_type, size=size
        )
        self._put_file(file, on_notes=True, stamp=stamp)

    def check_not_a_note_file(self, attachments: Sequence[str]) -> None:
        """A public reply never carries a file of the internal notes: that would show
        customers what only staff may see."""
        staff_only = [a for a in attachments if a in self.note_attachments]
        if staff_only:
            raise InvalidField(
                "attachments",
                Msg(
                    "Attachment {attachment_id} is on an internal note of ticket {number}: "
                    "customers never see it, so a public reply cannot carry it. Upload the "
                    "file again to send it to them.",
                    attachment_id=staff_only[0],
                    number=self.number,
                ),
            )

    def add_attachment(
        self, *, attachment_id: str, filename: str, content_type: str, size: int, stamp: Stamp
    ) -> None:
        self.check_not_closed()
        self.check_not_a_note_file([attachment_id])
        checked_file_facts(filename, content_type, size)
        file = TicketFile(
            attachment_id=attachment_id, filename=filename, content_type=content_type, size=size
        )
        self._put_file(file, on_notes=False, stamp=stamp)

    def _put_file(self, file: TicketFile, *, on_notes: bool, stamp: Stamp) -> None:
        """Record a checked file on the ticket once: among its internal notes' files
        (:class:`NoteAttachmentAdded`) or its public ones (:class:`AttachmentAdded`)."""
        attachment_id = file["attachment_id"]
        if attachment_id in (self.note_attachments if on_notes else self.attachments):
            raise NothingChanged(
                Msg(
                    "Attachment {attachment_id} is already on the ticket's internal notes.",
                    attachment_id=attachment_id,
                )
                if on_notes
                else Msg(
                    "Attachment {attachment_id} is already on the ticket.",
                    attachment_id=attachment_id,
                )
            )
        if on_notes:
            self._note_attachment_added(**file, stamp=stamp)
        else:
            self._attachment_added(**file, stamp=stamp)

    @event(AttachmentAdded)
    def _attachment_added(
        self, attachment_id: str, filename: str, content_type: str, size: int, stamp: Stamp
    ) -> None:
        self.attachments.append(attachment_id)

    @event(NoteAttachmentAdded)
    def _note_attachment_added(
        self, attachment_id: str, filename: str, content_type: str, size: int, stamp: Stamp
    ) -> None:
        self.note_attachments.append(attachment_id)

    # --- CCs -------------------------------------------------------------------------

    @property
    def cc_people(self) -> frozenset[str]:
        """The CCs as people: a member's id, or ``cc:<address>`` for anyone else."""
        return frozenset(
            member_id or outside_cc_id(address) for address, member_id in self.ccs.items()
        )

    def add_cc(self, *, email: str, member_id: str | None, stamp: Stamp) -> None:
        """Copy someone on the ticket; ``member_id``: theirs, if the address is a member's
        of the ticket's account (the desk looks it up)."""
        address = checked_cc_address(email)
        self.check_not_closed()
        if member_id == self.requester_id:
            raise InvalidField(
                "email",
                Msg(
                    "{address} is the ticket's requester, who gets every email already.",
                    address=address,
                ),
            )
        if address in self.ccs:
            raise NothingChanged(
                Msg(
                    "{address} is already copied on ticket {number}.",
                    address=address,
                    number=self.number,
                )
            )
        if len(self.ccs) >= CCS_MAX:
            raise TooManyCcs(
                Msg(
                    "Ticket {number} copies {CCS_MAX} people already, the most it may; remove a "
                    "CC first.",
                    number=self.number,
                    CCS_MAX=CCS_MAX,
                )
            )
        self._cc_added(email=address, member_id=member_id, stamp=stamp)

    @event(CcAdded)
    def _cc_added(self, email: str, member_id: str | None, stamp: Stamp) -> None:
        self.ccs[email] = member_id

    def remove_cc(self, *, email: str, stamp: Stamp) -> None:
        """Stop copying someone. Allowed on a closed ticket too: it only stops emails."""
        address = normalised_address(email)
        if address not in self.ccs:
            raise UnknownCc(
                Msg(
                    "{address} is not copied on ticket {number}; GET /v1/tickets/{number} lists "
                    "its CCs.",
                    address=repr(address or email),
                    number=self.number,
                )
            )
        self._cc_removed(email=address, stamp=stamp)

    @event(CcRemoved)
    def _cc_removed(self, email: str, stamp: Stamp) -> None:
        del self.ccs[email]

    # --- lifecycle ----------------------------------------------------------------

    def change_status(self, *, to_status: str, stamp: Stamp) -> None:
        checked_choice("status", to_status, STATUSES)
        if to_status == self.status:
            raise StatusUnchanged(
                Msg(
                    "Ticket {number} is already {to_status}.",
                    number=self.number,
                    to_status=to_status,
                )
            )
        if self.status == "closed":
            raise StatusChangeNotAllowed(
                Msg(
                    "Ticket {number} is closed: reopen it instead of changing its status.",
                    number=self.number,
                )
            )
        self._status_changed(from_status=self.status, to_status=to_status, stamp=stamp)

    @event(StatusChanged)
    def _status_changed(self, from_status: str, to_status: str, stamp: Stamp) -> None:
        self.status = to_status
        self.closed_at = stamp.at if to_status == "closed" else None
        self.sla = self.sla.status_changed(to_status, stamp.at)

    def reopen(
        self,
        *,
        stamp: Stamp,
        window: timedelta = REOPEN_WINDOW,
        sla_terms: dict[str, Any] | None = None,
    ) -> None:
        if self.merged_into is not None:
            raise TicketMerged(
                Msg(
                    "Ticket {number} was merged into {merged_into} and is worked there: "
                    "reopen {merged_into} instead.",
                    number=self.number,
                    merged_into=self.merged_into,
                ),
                into=self.merged_into,
            )
        if self.status != "closed" or self.closed_at is None:
            raise TicketNotClosed(
                Msg(
                    "Ticket {number} is {status}, not closed.",
                    number=self.number,
                    status=self.status,
                )
            )
        if reopen_window_passed(self.closed_at, stamp.at, window):
            raise ReopenWindowPassed(self.number, window.days)
        self._reopened(cycle=self.cycle + 1, sla_terms=sla_terms, stamp=stamp)

    @event(Reopened)
    def _reopened(self, cycle: int, sla_terms: dict[str, Any] | None, stamp: Stamp) -> None:
        self.status = "open"
        self.closed_at = None
        self.cycle = cycle
        self.rating = None
        self.sla = self.sla.reopened(cycle)
        if sla_terms is not None:
            self.sla = self.sla.terms_set(sla_terms, stamp.at)

    def change_priority(self, *, to_priority: str, stamp: Stamp) -> None:
        checked_choice("priority", to_priority, PRIORITIES)
        now, new = PRIORITIES.index(self.priority), PRIORITIES.index(to_priority)
        if new > now:
            self._priority_raised(
                from_priority=self.priority, to_priority=to_priority, stamp=stamp
            )
        elif new < now:
            self._priority_lowered(
                from_priority=self.priority, to_priority=to_priority, stamp=stamp
            )
        else:
            raise PriorityUnchanged(
                Msg(
                    "Ticket {number} is already {to_priority} priority.",
                    number=self.number,
                    to_priority=to_priority,
                )
            )

    @event(PriorityRaised)
    def _priority_raised(self, from_priority: str, to_priority: str, stamp: Stamp) -> None:
        self.priority = to_priority
        self.sla = self.sla.priority_changed(to_priority, stamp.at)

    @event(PriorityLowered)
    def _priority_lowered(self, from_priority: str, to_priority: str, stamp: Stamp) -> None:
        self.priority = to_priority
        self.sla = self.sla.priority_changed(to_priority, stamp.at)

    def assign(self, *, agent_id: str | None, group: str | None, stamp: Stamp) -> None:
        if not acts_for_staff(stamp):
            raise StaffOnly(Msg("Only staff can assign tickets."))
        if (agent_id, group) == (self.assignee_id, self.group):
            raise NothingChanged(
                Msg("Ticket {number} is already assigned that way.", number=self.number)
            )
        self._assigned(agent_id=agent_id, group=group, stamp=stamp)

    @event(Assigned)
    def _assigned(self, agent_id: str | None, group: str | None, stamp: Stamp) -> None:
        self.assignee_id = agent_id
        self.group = group

    def change_type(self, *, to_type: str, stamp: Stamp) -> None:
        checked_choice("type", to_type, TICKET_TYPES)
        if to_type == self.type:
            raise NothingChanged(
                Msg("Ticket {number} is already a {to_type}.", number=self.number, to_type=to_type)
            )
        self._type_changed(from_type=self.type, to_type=to_type, stamp=stamp)

    @event(TypeChanged)
    def _type_changed(self, from_type: str, to_type: str, stamp: Stamp) -> None:
        self.type = to_type

    def change_product(self, *, to_product: str, stamp: Stamp) -> None:
        checked_text("product", to_product, max_chars=NAME_MAX_CHARS)
        if to_product == self.product:
            raise NothingChanged(
                Msg(
                    "Ticket {number} is already about {to_product}.",
                    number=self.number,
                    to_product=to_product,
                )
            )
        self._product_changed(from_product=self.product, to_product=to_product, stamp=stamp)

    @event(ProductChanged)
    def _product_changed(self, from_product: str, to_product: str, stamp: Stamp) -> None:
        self.product = to_product

    def rate_satisfaction(self, *, score: int, comment: str, stamp: Stamp) -> None:
        if self.status != "closed":
            raise TicketNotClosed(Msg("Satisfaction can be rated once the ticket is closed."))
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidField("score", Msg("score must be a whole number from 1 to 5."))
        if len(comment) > COMMENT_MAX_CHARS:
            raise InvalidField(
                "comment",
                Msg(
                    "comment is at most {COMMENT_MAX_CHARS} characters.",
                    COMMENT_MAX_CHARS=COMMENT_MAX_CHARS,
                ),
            )
        self._satisfaction_rated(score=score, comment=comment, stamp=stamp)

    @event(SatisfactionRated)
    def _satisfaction_rated(self, score: int, comment: str, stamp: Stamp) -> None:
        self.rating = score

    def survey_due(self) -> bool:
        """Whether this closing should ask its requester for a rating: a closed ticket,
        filed here (not imported), not merged into another (its request is worked there),
        asked nothing yet this cycle and not rated in it."""
        return (
            self.status == "closed"
            and not self.imported
            and self.merged_into is None
            and self.survey_cycle != self.cycle
            and self.rating is None
        )

    def offer_survey(self, *, stamp: Stamp) -> None:
        if not self.survey_due():
            raise NothingChanged(Msg("Ticket {number} has no survey to send.", number=self.number))
        self._survey_offered(cycle=self.cycle, stamp=stamp)

    @event(SurveyOffered)
    def _survey_offered(self, cycle: int, stamp: Stamp) -> None:
        self.survey_cycle = cycle

    def answer_survey(self, *, cycle: int, score: int, comment: str, stamp: Stamp) -> None:
        """The requester rates the closing of ``cycle`` through its survey link: once."""
        if self.survey_cycle != cycle or self.cycle != cycle or self.status != "closed":
            raise SurveyNoLongerOpen(
                Msg(
                    "Ticket {number} was reopened since this survey was sent: you will be asked "
                    "again when it closes.",
                    number=self.number,
                )
            )
        if self.rating is not None:
            raise SurveyAlreadyAnswered(
                Msg(
                    "Your rating of ticket {number} is already recorded: thank you. A survey "
                    "link records one rating.",
                    number=self.number,
                )
            )
        self.rate_satisfaction(score=score, comment=comment, stamp=stamp)

    # --- service levels -------------------------------------------------------------

    def record_sla_breaches(self, *, stamp: Stamp) -> int:
        """Record every clock that ran past its due instant by ``stamp.at`` and is not yet on
        record; answers how many. Each clock's breach is recorded once, ever."""
        due = self.sla.breaches_due(stamp.at)
        if not due:
            raise NothingChanged(
                Msg("Ticket {number} has no breach left to record.", number=self.number)
            )
        for clock in due:
            assert clock.due_at is not None
            self._sla_breached(
                target=clock.target,
                cycle=clock.cycle,
                seq=clock.seq,
                started_at=clock.started_at,
                due_at=clock.due_at,
                breached_at=stamp.at,
                stamp=stamp,
            )
        return len(due)

    @event(SlaBreached)
    def _sla_breached(
        self,
        target: str,
        cycle: int,
        seq: int,
        started_at: datetime,
        due_at: datetime,
        breached_at: datetime,
        stamp: Stamp,
    ) -> None:
        self.sla = self.sla.breach_recorded(target, cycle, seq)

    # --- time-based automations ---------------------------------------------------------

    def _note_rule_instants(self, event: Any) -> None:
        """The instants automation conditions count from (the same as
        :func:`rule_facts_after`, kept as plain attributes: a fold stays cheap)."""
        at: datetime = event.timestamp
        if isinstance(event, Ticket.Opened):
            self.opened_at = self.customer_message_at = self.status_since = at
            self.priority_since = self.group_since = self.tags_since = at
            self.agent_reply_at: datetime | None = None
            self.rule_tier: str = (event.sla_terms or {}).get("tier") or "standard"
            self.rule_group: str | None = event.support_group
        elif isinstance(event, Ticket.MessageAdded):
            if event.author_role == "agent":
                self.agent_reply_at = at
            else:
                self.customer_message_at = at
        elif isinstance(event, Ticket.StatusChanged | Ticket.MergedInto):
            self.status_since = at
        elif isinstance(event, Ticket.Reopened):
            self.status_since = at
            self.rule_tier = (event.sla_terms or {}).get("tier") or self.rule_tier
        elif isinstance(event, Ticket.PriorityRaised | Ticket.PriorityLowered):
            self.priority_since = at
        elif isinstance(event, Ticket.Assigned):
            if event.group != self.rule_group:
                self.group_since, self.rule_group = at, event.group
        elif isinstance(event, Ticket.TagsAdded | Ticket.TagsRemoved):
            self.tags_since = at

    @property
    def rule_facts(self) -> RuleFacts:
        """What automation conditions read of the ticket now."""
        assert self.updated_at is not None
        return RuleFacts(
            status=self.status, priority=self.priority, tier=self.rule_tier, group=self.group,
            tags=frozenset(self.tags), opened_at=self.opened_at, updated_at=self.updated_at,
            customer_message_at=self.customer_message_at, agent_reply_at=self.agent_reply_at,
            status_since=self.status_since, priority_since=self.priority_since,
            group_since=self.group_since, tags_since=self.tags_since,
        )  # fmt: skip

    def record_automation(self, *, rule: Rule, notify_to: list[str], stamp: Stamp) -> None:
        """Put on record that ``rule`` fires now (its conditions hold at ``stamp.at``), once
        per cycle: a second firing for the same cycle, by any watch, is refused."""
        facts = self.rule_facts
        if not rule.conditions.holds(facts, stamp.at):
            raise NothingChanged(
                Msg(
                    "The automation {id} is not due on ticket {number}.",
                    id=rule.id,
                    number=self.number,
                )
            )
        cycle_start = rule.conditions.cycle_start(facts)
        if (rule.id, cycle_start) in self.automations_fired:
            raise NothingChanged(
                Msg(
                    "The automation {id} already fired on ticket {number} this cycle.",
                    id=rule.id,
                    number=self.number,
                )
            )
        notice = next((a.body or "" for a in rule.actions if a.type == "notify"), "")
        self._automation_fired(
            rule_id=rule.id,
            rule_version=rule.version,
            rule_name=rule.name,
            cycle_start=cycle_start,
            due_at=rule.conditions.due_at(facts),
            notify_to=list(notify_to) if notice else [],
            notice=notice,
            stamp=stamp,
        )

    @event(AutomationFired)
    def _automation_fired(
        self,
        rule_id: str,
        rule_version: int,
        rule_name: str,
        cycle_start: datetime,
        due_at: datetime,
        notify_to: list[str],
        notice: str,
        stamp: Stamp,
    ) -> None:
        self.automations_fired.add((rule_id, cycle_start))

    # --- chat and callback channels ------------------------------------------------

    def record_chat_transcript(self, *, lines: list[ChatLine], stamp: Stamp) -> None:
        """Keep the chat's lines beside the first message that renders them (once)."""
        if self.channel != "chat":
            raise InvalidField(
                "transcript", Msg("Ticket {number} did not come from a chat.", number=self.number)
            )
        if self.has_transcript:
            raise NothingChanged(
                Msg("Ticket {number} already has its transcript.", number=self.number)
            )
        checked_transcript(lines)
        self._chat_transcript_recorded(lines=[line.as_data() for line in lines], stamp=stamp)

    @event(ChatTranscriptRecorded)
    def _chat_transcript_recorded(self, lines: list[dict[str, Any]], stamp: Stamp) -> None:
        self.has_transcript = True

    def request_callback(self, *, callback: CallbackRequest, stamp: Stamp) -> None:
        """The requester asks to be phoned back; one callback waits to be made at a time."""
        callback.check(stamp.at)
        self.check_not_closed()
        if self.callback_state == "to_make":
            raise NothingChanged(
                Msg("Ticket {number} already has a callback to make.", number=self.number)
            )
        self._callback_requested(**asdict(callback), stamp=stamp)

    @event(CallbackRequested)
    def _callback_requested(
        self,
        phone: str,
        window_start: datetime | None,
        window_end: datetime | None,
        time_zone: str | None,
        stamp: Stamp,
    ) -> None:
        self.callback_state = "to_make"

    def record_callback_made(self, *, outcome: str, stamp: Stamp) -> None:
        """An agent called back. Allowed on a closed ticket too: it records what happened."""
        if not stamp.is_staff:
            raise StaffOnly(Msg("Only staff record that a callback was made."))
        checked_choice("outcome", outcome, CALLBACK_OUTCOMES)
        if self.callback_state != "to_make":
            raise NoCallbackToMake(
                Msg("Ticket {number} has no callback to make.", number=self.number)
            )
        self._callback_made(outcome=outcome, stamp=stamp)

    @event(CallbackMade)
    def _callback_made(self, outcome: str, stamp: Stamp) -> None:
        self.callback_state = "made"

    # --- tags ----------------------------------------------------------------------------

    def change_tags(self, *, add: Sequence[str], remove: Sequence[str], stamp: Stamp) -> None:
        """Put tags on and take tags off, each normalised; only what changes is recorded
        (a tag the ticket has is not added again, one it lacks not removed), and nothing at
        all when nothing changes. Allowed on closed tickets: customers never see tags."""
        if not acts_for_staff(stamp):
            raise StaffOnly(Msg("Only staff tag tickets."))
        adding, removing = normalised_tags("add", add), normalised_tags("remove", remove)
        both = [t for t in adding if t in removing]
        if both:
            raise InvalidField(
                "remove",
                Msg("Tag {both} is both added and removed; name it in one of them.", both=both[0]),
            )
        removed = [t for t in removing if t in self.tags]
        added = [t for t in adding if t not in self.tags]
        count = len(self.tags) - len(removed) + len(added)
        if count > TAGS_MAX:
            raise InvalidField(
                "add",
                Msg(
                    "Ticket {number} would carry {count} tags; at most {TAGS_MAX}. Remove "
                    "some of its tags first.",
                    number=self.number,
                    count=count,
                    TAGS_MAX=TAGS_MAX,
                ),
            )
        if removed:
            self._tags_removed(tags=removed, stamp=stamp)
        if added:
            self._tags_added(tags=added, stamp=stamp)

    @event(TagsAdded)
    def _tags_added(self, tags: list[str], stamp: Stamp) -> None:
        self.tags = (*self.tags, *tags)

    @event(TagsRemoved)
    def _tags_removed(self, tags: list[str], stamp: Stamp) -> None:
        self.tags = tuple(t for t in self.tags if t not in tags)

    # --- merging duplicates -------------------------------------------------------------

    def merge_into(
        self,
        target: Ticket,
        *,
        stamp: Stamp,
        reopen_target: Callable[[Ticket], None] | None = None,
    ) -> None:
        """Merge this ticket (a duplicate) into ``target``: this one records where it went,
        which closes it; the target records what it received; the desk saves both at once.

        A closed target is refused unless ``reopen_target`` is given: it reopens the
        target first (the desk's reopen, with the SLA terms of the new cycle)."""
        if not stamp.is_staff:
            raise StaffOnly(Msg("Only staff merge tickets."))
        if target.id == self.id:
            raise MergeIntoItself(
                Msg(
                    "Ticket {number} cannot be merged into itself; name the ticket it "
                    "duplicates in into.",
                    number=self.number,
                )
            )
        if self.merged_into is not None:
            raise TicketMerged(
                Msg(
                    "Ticket {number} was already merged into {merged_into}.",
                    number=self.number,
                    merged_into=self.merged_into,
                ),
                into=self.merged_into,
            )
        if target.merged_into is not None:
            raise TicketMerged(
                Msg(
                    "Ticket {number} was itself merged into {merged_into}: merge {number2} "
                    "into {merged_into} instead.",
                    number=target.number,
                    merged_into=target.merged_into,
                    number2=self.number,
                ),
                into=target.merged_into,
            )
        if target.account_id != self.account_id:
            raise MergeAcrossAccounts(
                Msg(
                    "Ticket {number} belongs to another account than {number2}: a ticket "
                    "is merged only into a ticket of its own account.",
                    number=target.number,
                    number2=self.number,
                )
            )
        if self.status == "closed":
            raise TicketClosed(
                Msg(
                    "Ticket {number} is closed: reopen it before merging it, or leave it.",
                    number=self.number,
                )
            )
        if target.status == "closed":
            if reopen_target is None:
                raise MergeTargetClosed(
                    Msg(
                        "Ticket {number} is closed: send reopen_target: true to reopen it with "
                        "the merge, or merge into a ticket that is open.",
                        number=target.number,
                    )
                )
            reopen_target(target)
        self._merged_into(target_id=str(target.id), target_number=target.number, stamp=stamp)
        target._merge_received(
            source_id=str(self.id),
            source_number=self.number,
            source_requester_id=self.requester_id,
            stamp=stamp,
        )

    @event(MergedInto)
    def _merged_into(self, target_id: str, target_number: str, stamp: Stamp) -> None:
        self.merged_into = target_number
        self.merged_into_id = UUID(target_id)
        self.status = "closed"
        self.closed_at = stamp.at
        self.sla = self.sla.status_changed("closed", stamp.at)

    @event(MergeReceived)
    def _merge_received(
        self, source_id: str, source_number: str, source_requester_id: str, stamp: Stamp
    ) -> None:
        self.merged_from.append(source_number)
        if source_requester_id != self.requester_id:
            self.participants.add(source_requester_id)

    # --- custom fields ----------------------------------------------------------------

    def set_custom_fields(self, *, values: dict[str, Any], stamp: Stamp) -> None:
        """``values`` (checked against the field definitions by the caller, see
        :func:`domain.custom_fields.values_changed`) become the ticket's custom fields."""
        if values == self.custom_fields:
            raise NothingChanged(
                Msg("Ticket {number} already has these custom field values.", number=self.number)
            )
        self._custom_fields_set(values=dict(values), stamp=stamp)

    @event(CustomFieldsSet)
    def _custom_fields_set(self, values: dict[str, Any], stamp: Stamp) -> None:
        self.custom_fields = dict(values)

    def check_not_closed(self) -> None:
        if self.status == "closed":
            raise TicketClosed(
                Msg(
                    "Ticket {number} is closed: reopen it before adding to its conversation.",
                    number=self.number,
                )
            )


def checked_file_facts(filename: str, content_type: str, size: int) -> None:
    """What a file on a ticket, public or a note's, must be: a clean base name, a type
    Docket accepts, some bytes."""
    checked_text("filename", filename, max_chars=NAME_MAX_CHARS)
    if not is_clean_filename(filename):
        raise InvalidField(
            "filename", Msg("{filename!r} is not a clean base name.", filename=filename)
        )
    if content_type not in ACCEPTED_TYPES:
        raise UnsupportedAttachmentType(filename, content_type, tuple(sorted(ACCEPTED_TYPES)))
    if size < 1:
        raise EmptyAttachment(filename)


def acts_for_staff(stamp: Stamp) -> bool:
    """Staff, or Docket itself on their behalf (an automation, a deadline watch)."""
    return stamp.is_staff or stamp.actor_kind == "system"


def sla_after(state: SlaState, event: Any) -> SlaState:
    """``state`` after one stored ticket event: the fold the aggregate does, for the views."""
    at: datetime = event.timestamp
    if isinstance(event, Ticket.Opened):
        opened = state.opened(event.priority)
        return opened.terms_set(event.sla_terms, at) if event.sla_terms else opened
    if isinstance(event, Ticket.MessageAdded):
        return state.message(event.author_role, at)
    if isinstance(event, Ticket.StatusChanged):
        return state.status_changed(event.to_status, at)
    if isinstance(event, Ticket.MergedInto):
        return state.status_changed("closed", at)
    if isinstance(event, Ticket.PriorityRaised | Ticket.PriorityLowered):
        return state.priority_changed(event.to_priority, at)
    if isinstance(event, Ticket.Reopened):
        reopened = state.reopened(event.cycle)
        return reopened.terms_set(event.sla_terms, at) if event.sla_terms else reopened
    if isinstance(event, Ticket.SlaBreached):
        return state.breach_recorded(event.target, event.cycle, event.seq)
    return state


BOOKKEEPING_EVENTS = frozenset({Ticket.SlaBreached, Ticket.AutomationFired})
"""Events Docket records about a ticket that are no update of it (no "last update")."""
RULE_INSTANT_EVENTS = frozenset(
    {
        Ticket.Opened,
        Ticket.MessageAdded,
        Ticket.StatusChanged,
        Ticket.MergedInto,
        Ticket.Reopened,
        Ticket.PriorityRaised,
        Ticket.PriorityLowered,
        Ticket.Assigned,
        Ticket.TagsAdded,
        Ticket.TagsRemoved,
    }
)
"""The events that move an instant an automation condition counts from."""


def rule_facts_after(facts: RuleFacts | None, event: Any) -> RuleFacts | None:
    """What automation conditions read, after one stored ticket event (None until it is
    opened): the fold the ticket keeps and the automations view writes."""
    at: datetime = event.timestamp
    if isinstance(event, Ticket.Opened):
        tier = (event.sla_terms or {}).get("tier") or "standard"
        return RuleFacts(
            status="open", priority=event.priority, tier=tier, group=event.support_group,
            tags=frozenset(), opened_at=at, updated_at=at, customer_message_at=at,
            agent_reply_at=None, status_since=at, priority_since=at, group_since=at,
            tags_since=at,
        )  # fmt: skip
    if facts is None:
        return None
    # one replace per event: the automations view folds every ticket event through here
    changes: dict[str, Any] = {} if type(event) in BOOKKEEPING_EVENTS else {"updated_at": at}
    if isinstance(event, Ticket.MessageAdded):
        changes["agent_reply_at" if event.author_role == "agent" else "customer_message_at"] = at
    elif isinstance(event, Ticket.StatusChanged):
        changes.update(status=event.to_status, status_since=at)
    elif isinstance(event, Ticket.MergedInto):  # closed by the merge
        changes.update(status="closed", status_since=at)
    elif isinstance(event, Ticket.Reopened):
        tier = (event.sla_terms or {}).get("tier") or facts.tier
        changes.update(status="open", status_since=at, tier=tier)
    elif isinstance(event, Ticket.PriorityRaised | Ticket.PriorityLowered):
        changes.update(priority=event.to_priority, priority_since=at)
    elif isinstance(event, Ticket.Assigned) and event.group != facts.group:
        changes.update(group=event.group, group_since=at)
    elif isinstance(event, Ticket.TagsAdded):
        changes.update(tags=facts.tags | set(event.tags), tags_since=at)
    elif isinstance(event, Ticket.TagsRemoved):
        changes.update(tags=facts.tags - set(event.tags), tags_since=at)
    return replace(facts, **changes) if changes else facts


SLA_EVENTS = (
    Ticket.Opened,
    Ticket.MessageAdded,
    Ticket.StatusChanged,
    Ticket.PriorityRaised,
    Ticket.PriorityLowered,
    Ticket.Reopened,
    Ticket.SlaBreached,
    Ticket.MergedInto,
)
"""The events :func:`sla_after` folds; every other leaves the clocks as they are."""

PUBLIC_EVENTS = (
    Ticket.Opened,
    Ticket.MessageAdded,
    Ticket.StatusChanged,
    Ticket.PriorityRaised,
    Ticket.PriorityLowered,
    Ticket.Assigned,
    Ticket.TypeChanged,
    Ticket.ProductChanged,
    Ticket.Reopened,
    Ticket.AttachmentAdded,
    Ticket.SatisfactionRated,
    Ticket.SurveyOffered,  # the requester was asked for a rating: they have the email
    Ticket.ChatTranscriptRecorded,
    Ticket.MergedInto,
    Ticket.MergeReceived,
    Ticket.CcAdded,
    Ticket.CcRemoved,
    Ticket.CustomFieldsSet,
)
"""What customers may see of a ticket: the only events their views fold."""
STAFF_ONLY_EVENTS = (
    Ticket.InternalNoteAdded,
    Ticket.NoteAttachmentAdded,  # a note's file: customers never see nor download it
    Ticket.SlaBreached,
    Ticket.CallbackRequested,  # carries the phone: customers' lists never see it
    Ticket.CallbackMade,
    Ticket.TagsAdded,
    Ticket.TagsRemoved,
    Ticket.AutomationFired,  # staff see why a ticket changed; customers see the changes
)
"""What only staff may see of a ticket. Every ticket event is in one of the two."""
CALLBACK_EVENTS = (Ticket.CallbackRequested, Ticket.CallbackMade)
"""Staff-only events the ticket's requester sees too: the callback they asked for (its
phone number is theirs)."""
