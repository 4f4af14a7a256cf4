"""Tickets: filing one (from the web, email, chat, a callback request) and every change
an agent, a requester or a collaborator makes to it. Each use case is one save."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from desk.access import may_see_ticket, person_principal
from desk.answers import AttachmentRef, MergeReceipt, Receipt
from desk.core import CONFLICT_PATIENCE_SECONDS, DeskCore, lost_race, position, ticket_change
from domain.account import Account
from domain.channels import (
    CALLBACK_SUBJECT,
    CallbackRequest,
    ChatLine,
    callback_description,
    chat_description,
    check_channel_and_transcript,
)
from domain.custom_fields import values_at_filing, values_changed
from domain.errors import (
    InvalidField,
    SurveyLinkInvalid,
    TicketBusy,
    UnknownTicket,
)
from domain.messages import Msg
from domain.stamp import Stamp
from domain.surveys import SurveyLink
from domain.ticket import Ticket

MERGE_HOPS = 20
"""How far a reply follows merges (a ticket merged into one merged later in turn)."""


class LandsElsewhere(Exception):
    """The ticket a reply was for was merged into ``ticket_id``: the reply goes there."""

    def __init__(self, ticket_id: UUID) -> None:
        super().__init__(str(ticket_id))
        self.ticket_id = ticket_id


class TicketDesk(DeskCore):
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
        attachments: list[AttachmentRef] | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """File a ticket with its ``attachments``, in one save: all on record or none.

        ``custom_fields`` are what the web or API form gave: checked against the fields in
        force (required ones included) and recorded as CustomFieldsSet right after Opened.
        ``None`` (email, imports, callbacks) checks and records nothing: required fields
        are the form's to ask for.

        With ``help_session``, the session records that this ticket was filed anyway, in
        the same save as the ticket.
        A chat ticket comes with its ``transcript``: rendered into the first message, and
        its lines kept right after Opened (see :mod:`domain.channels`)."""
        account = self._account(account_id, to_change=False)  # only read here
        account.check_may_file(requester_id)
        check_channel_and_transcript(channel, transcript)
        if transcript:
            description = chat_description(description, transcript)
        linked = self._follow_up(follow_up_of, account, requester_id) if follow_up_of else None
        values = (
            None
            if custom_fields is None
            else values_at_filing(self.ticket_fields(), product, custom_fields)
        )
        ticket, claim = self._numbered_ticket(
            account,
            requester_id,
            stamp,
            ticket_id=ticket_id or uuid4(),
            type=type,
            product=product,
            follow_up_of=linked,
            subject=subject,
            description=description,
            priority=priority,
            topic=topic,
            channel=channel,
        )
        if values:
            ticket.set_custom_fields(values=values, stamp=stamp)
        if transcript:
            ticket.record_chat_transcript(lines=transcript, stamp=stamp)
        attach(ticket, attachments or [], stamp)
        number = ticket.number
        if help_session is None:
            recordings = self.save(ticket, claim)
            return Receipt(ticket.id, number, ticket.version, position(recordings))
        _, _, at = self._saved_again(  # decided again when the session moved on meanwhile
            lambda: self._help_session(help_session, requester_id, str(account_id), stamp),
            lambda session: session.file_ticket_anyway(
                ticket_id=ticket.id, number=number, person_id=requester_id, stamp=stamp
            ),
            TicketBusy(number),
            with_it=(ticket, claim),
        )
        return Receipt(ticket.id, number, ticket.version, at)

    def _follow_up(self, ref: str, account: Account, requester_id: str) -> str:
        """The number of the earlier ticket a new one follows up: one its requester may see
        (their own; any of the account's for its admins). Any other reference (malformed,
        unknown, another account's, a colleague's) is refused with one and the same answer,
        so the refusal tells nothing of which tickets exist."""
        unseen = InvalidField(
            "follow_up_of",
            Msg(
                "No ticket {ref} that you can see; name one of your own tickets, e.g. T-000123.",
                ref=ref,
            ),
        )
        try:
            earlier = self.ticket_facts(ref)
        except UnknownTicket:
            raise unseen from None
        role = "admin" if account.is_admin(requester_id) else "member"
        filer = person_principal(requester_id, "", role, str(account.id))
        if not may_see_ticket(filer, earlier.owner):
            raise unseen
        return earlier.number

    def request_callback(
        self,
        *,
        account_id: UUID,
        requester_id: str,
        phone: str,
        stamp: Stamp,
        subject: str = "",
        description: str = "",
        product: str = "",
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        time_zone: str | None = None,
        type: str = "question",
        ticket_id: UUID | None = None,
    ) -> Receipt:
        """File an urgent phone ticket and record the callback asked for, in one save;
        without a window, to be called as soon as possible."""
        account = self._account(account_id)
        account.check_may_file(requester_id)
        callback = CallbackRequest(phone, window_start, window_end, time_zone)
        # the request's own rules first: the description below writes the window out
        callback.check(stamp.at)
        ticket, claim = self._numbered_ticket(
            account,
            requester_id,
            stamp,
            ticket_id=ticket_id or uuid4(),
            type=type,
            product=product,
            subject=subject if subject.strip() else CALLBACK_SUBJECT,
            description=callback_description(description, window_start, window_end, time_zone),
            priority="urgent",
            topic="",
            channel="phone",
        )
        ticket.request_callback(callback=callback, stamp=stamp)
        recordings = self.save(ticket, claim)
        return Receipt(ticket.id, ticket.number, ticket.version, position(recordings))

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
        reopen: bool = False,
    ) -> Receipt:
        """A public reply with its files, in one save; with ``reopen``, a closed ticket is
        reopened in the same save (an email reply does that, within the reopen window).

        A reply to a ticket merged into another lands in that one (``expected_version``
        then names the merged ticket's version, as the author read it), and the receipt
        says where it went. There the author writes as what they are on that ticket:
        its requester, an agent, or a collaborator (a participant, a team admin)."""
        files = list(attachments or [])

        def command(t: Ticket, landed: bool) -> None:
            if t.merged_into_id is not None:
                raise LandsElsewhere(t.merged_into_id)
            role, by = author_role, stamp
            if landed and role != "agent":
                role = "requester" if author_id == t.requester_id else "collaborator"
                by = dataclasses.replace(stamp, actor_kind=role)
            if reopen and t.status == "closed":
                self._reopen(t, by)
            attach(t, files, by)
            t.add_message(
                author_id=author_id,
                author_role=role,
                body=body,
                attachments=[f.attachment_id for f in files],
                stamp=by,
            )

        try:  # If-Match names the version of the ticket replied to, as its author read it
            return self._change(ticket, expected_version, lambda t: command(t, False), stamp)
        except LandsElsewhere as merged:
            target = merged.ticket_id
        for _ in range(MERGE_HOPS):
            try:
                return self._change(target, None, lambda t: command(t, True), stamp)
            except LandsElsewhere as merged:
                target = merged.ticket_id
        raise TicketBusy(str(ticket))  # a chain no merge makes: each refuses a merged target

    def merge_ticket(
        self,
        ticket: str | UUID,
        *,
        into: str | UUID,
        stamp: Stamp,
        expected_version: int | None = None,
        reopen_target: bool = False,
    ) -> MergeReceipt:
        """Merge ``ticket`` (a duplicate) into ``into`` of the same account: what each
        records, in one save (a closed target reopened in it too, with ``reopen_target``).
        Another write to either ticket meanwhile makes the save fail whole, and the merge
        is decided again on both as they now are; ``expected_version`` is the merged
        ticket's (If-Match)."""
        source_id, target_id = self.find_ticket(ticket), self.find_ticket(into)
        deadline = time.monotonic() + CONFLICT_PATIENCE_SECONDS
        for attempt in itertools.count():
            source = self._ticket_as_read(source_id, expected_version, stamp)
            target = source if target_id == source_id else self._ticket(target_id)
            source.merge_into(
                target,
                stamp=stamp,
                reopen_target=(lambda t: self._reopen(t, stamp)) if reopen_target else None,
            )
            try:
                recordings = self.save(source, target)
            except IntegrityError:
                lost_race(attempt, deadline, source.number)
                continue
            at = position(recordings)
            return MergeReceipt(
                Receipt(source.id, source.number, source.version_seen_by(stamp), at),
                Receipt(target.id, target.number, target.version_seen_by(stamp), at),
            )
        raise AssertionError("unreachable")

    @ticket_change
    def add_internal_note(
        self,
        t: Ticket,
        *,
        author_id: str,
        body: str,
        stamp: Stamp,
        attachments: list[AttachmentRef] | None = None,
        expected_version: int | None = None,
    ) -> None:
        """An internal note with its files, in one save: each file put on the ticket for
        the notes (staff only) and the note citing them, all on record or none."""
        files = attachments or []
        attach(t, files, stamp, to_notes=True)
        t.add_internal_note(
            author_id=author_id,
            body=body,
            attachments=[f.attachment_id for f in files],
            stamp=stamp,
        )

    @ticket_change
    def change_status(
        self, t: Ticket, *, to_status: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        t.change_status(to_status=to_status, stamp=stamp)

    @ticket_change
    def change_priority(
        self, t: Ticket, *, to_priority: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        t.change_priority(to_priority=to_priority, stamp=stamp)

    def assign(
        self,
        ticket: str | UUID,
        *,
        agent_id: str | None,
        group: str | None,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        self.check_assignment(agent_id, group)
        return self._change(
            ticket,
            expected_version,
            lambda t: t.assign(agent_id=agent_id, group=group, stamp=stamp),
            stamp,
        )

    @ticket_change
    def change_type(
        self, t: Ticket, *, to_type: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        t.change_type(to_type=to_type, stamp=stamp)

    @ticket_change
    def change_product(
        self, t: Ticket, *, to_product: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        t.change_product(to_product=to_product, stamp=stamp)

    @ticket_change
    def reopen(self, t: Ticket, *, stamp: Stamp, expected_version: int | None = None) -> None:
        """A new cycle, promised what the requester's support is now."""
        self._reopen(t, stamp)

    def _reopen(self, t: Ticket, stamp: Stamp) -> None:
        account = self._account(UUID(t.account_id))
        terms = self._terms(account, t.requester_id, t.product, stamp.at)
        t.reopen(stamp=stamp, window=self.reopen_window, sla_terms=terms)

    @ticket_change
    def rate_satisfaction(
        self,
        t: Ticket,
        *,
        score: int,
        comment: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> None:
        t.rate_satisfaction(score=score, comment=comment, stamp=stamp)

    @ticket_change
    def change_tags(
        self,
        t: Ticket,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> None:
        """Put tags on and take tags off the ticket, in one save (nothing saved when the
        ticket already stands so). Staff, or Docket itself (an automation's system stamp)."""
        t.change_tags(add=add, remove=remove, stamp=stamp)

    def answer_survey(
        self, link: SurveyLink, *, score: int, comment: str, at: datetime, correlation_id: str
    ) -> Receipt:
        """The requester rates a closing through the survey link they were emailed (read
        and checked by :func:`domain.surveys.read_survey_link`): recorded as their rating,
        through the web, caused by the survey."""
        stamp = self._survey_stamp(link, at, correlation_id)
        return self._change(
            link.ticket_id,
            None,
            lambda t: t.answer_survey(cycle=link.cycle, score=score, comment=comment, stamp=stamp),
            stamp,
        )

    def check_survey(self, link: SurveyLink, *, at: datetime) -> str:
        """The number of the ticket the survey asks about, if it still takes a rating
        (refused as :meth:`answer_survey` would be; nothing is written)."""
        ticket = self._surveyed_ticket(link)
        stamp = Stamp(ticket.requester_id, "requester", "web", at, "", link.causation_id)
        ticket.answer_survey(cycle=link.cycle, score=5, comment="", stamp=stamp)
        return ticket.number

    def _surveyed_ticket(self, link: SurveyLink) -> Ticket:
        try:
            return self._ticket(link.ticket_id)
        except UnknownTicket:  # signed, for a ticket that is not there: no survey of ours
            raise SurveyLinkInvalid(Msg("This survey link names no ticket.")) from None

    def _survey_stamp(self, link: SurveyLink, at: datetime, correlation_id: str) -> Stamp:
        requester = self._surveyed_ticket(link).requester_id
        return Stamp(requester, "requester", "web", at, correlation_id, link.causation_id)

    @ticket_change
    def record_sla_breaches(self, t: Ticket, *, stamp: Stamp) -> None:
        """Put on record every clock of the ticket past due at ``stamp.at`` (once each)."""
        t.record_sla_breaches(stamp=stamp)

    @ticket_change
    def set_custom_fields(
        self,
        t: Ticket,
        *,
        changes: Mapping[str, Any],
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> None:
        """Change some of the ticket's custom field values (``None`` clears one), each
        checked against its field as defined now; the others stay as stored."""
        values = values_changed(self.ticket_fields(), t.product, t.custom_fields, changes)
        t.set_custom_fields(values=values, stamp=stamp)

    @ticket_change
    def record_callback_made(
        self, t: Ticket, *, outcome: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        t.record_callback_made(outcome=outcome, stamp=stamp)


def attach(
    ticket: Ticket, files: list[AttachmentRef], stamp: Stamp, *, to_notes: bool = False
) -> None:
    """Add to ``ticket`` the files it does not carry yet (a file is carried once): for its
    customers to see, or ``to_notes``, for its internal notes (staff only)."""
    carried, add = (
        (ticket.note_attachments, ticket.add_note_attachment)
        if to_notes
        else (ticket.attachments, ticket.add_attachment)
    )
    for f in files:
        if f.attachment_id not in carried:
            add(
                attachment_id=f.attachment_id,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                stamp=stamp,
            )
