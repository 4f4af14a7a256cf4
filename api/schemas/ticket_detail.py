"""One ticket as its reader may see it: conversation, files, internal notes, SLA clocks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import PersonRef, TicketHeading
from api.schemas.ticket_fields import CustomFieldOut
from domain.vocabulary import CallbackOutcome, CallbackState, ChatSpeaker, ClockState, SlaTarget


class MessageOut(BaseModel):
    version: int
    position: int
    at: datetime
    author: PersonRef
    author_role: str = Field(
        description="requester, agent, collaborator (a colleague of the requester), or cc "
        "(someone the ticket copies; one from outside is cc:<address>, named by the address)"
    )
    via: str
    body: str
    attachments: list[str]


class FileOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    added_at: datetime
    url: str


class NoteOut(BaseModel):
    version: int
    position: int
    at: datetime
    author: PersonRef
    via: str
    body: str
    attachments: list[FileOut] = Field(
        default_factory=list,
        description="The note's files: staff only, as the note is (a customer asking for "
        "one is answered as for a file that does not exist).",
    )


class CcOut(BaseModel):
    email: str
    member: PersonRef | None = Field(
        description="The member of the ticket's account at that address (they see the "
        "ticket); null for someone copied from outside, who gets the emails only."
    )
    added_at: datetime


class Rating(BaseModel):
    score: int
    comment: str


class SlaClockOut(BaseModel):
    target: SlaTarget
    cycle: int
    priority: str
    state: ClockState
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    business_seconds_left: float | None = Field(
        description="Business time until due_at while running; negative once past it."
    )
    breached: bool
    breach_recorded: bool = Field(description="An SlaBreached event is on the ticket.")


class SlaOut(BaseModel):
    tier: str | None = Field(description="The support tier promised; null if none was.")
    calendar: str | None
    next_due_at: datetime | None
    clocks: list[SlaClockOut]


class ChatLineOut(BaseModel):
    who: ChatSpeaker
    text: str
    at: datetime | None


class CallbackOut(BaseModel):
    phone: str
    window_start: datetime | None = Field(description="None: as soon as possible.")
    window_end: datetime | None
    time_zone: str | None
    state: CallbackState
    requested_at: datetime
    outcome: CallbackOutcome | None
    made_at: datetime | None
    made_by: PersonRef | None


class MergedTicketOut(BaseModel):
    """A ticket merged into this one, and what of its conversation the reader may see."""

    number: str
    conversation: list[MessageOut] | None = Field(
        default=None,
        description="Its public conversation, for those who may see that ticket (staff, "
        "its requester, its account's team admins); absent for anyone else.",
    )
    internal_notes: list[NoteOut] | None = Field(
        default=None, description="Staff only; absent for customers."
    )


class TicketDetail(TicketHeading):
    version: int
    position: int
    cycle: int
    account: PersonRef
    requester: PersonRef
    assignee: PersonRef | None
    support_group: str | None
    collaborators: list[PersonRef]
    ccs: list[CcOut] = Field(description="Who the ticket copies (CCs), in the order added.")
    follow_up_of: str | None
    rating: Rating | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    conversation: list[MessageOut]
    attachments: list[FileOut]
    internal_notes: list[NoteOut] | None = Field(
        default=None, description="Staff only; absent for customers."
    )
    sla: SlaOut | None = Field(default=None, description="Staff only; absent for customers.")
    tags: list[str] | None = Field(
        default=None, description="Staff only; absent for customers. In the order put on."
    )
    transcript: list[ChatLineOut] | None = Field(
        default=None, description="Chat tickets: the chat's lines, as filed."
    )
    callback: CallbackOut | None = Field(
        default=None, description="Staff and the ticket's requester only: the callback asked for."
    )
    merged_into: str | None = Field(
        default=None,
        description="The ticket this one was merged into: it is closed, and replies to it "
        "land there.",
    )
    merged: list[MergedTicketOut] = Field(
        default_factory=list, description="The tickets merged into this one, oldest merge first."
    )
    participants: list[PersonRef] = Field(
        default_factory=list,
        description="Customers besides the requester who follow the ticket: the requesters "
        "of the tickets merged into it.",
    )
    custom_fields: list[CustomFieldOut] = Field(
        default_factory=list,
        description="The ticket's custom field values, by key, with both labels as the fields "
        "are defined now.",
    )
