"""Ticket writes: what filing and each change of a ticket take, and the receipt they answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import AttachmentIds, Strict, example
from api.schemas.ticket_fields import CustomValues
from domain.channels import CHAT_LINE_MAX_CHARS, TRANSCRIPT_MAX_LINES
from domain.tags import TAGS_MAX
from domain.vocabulary import (
    ATTACHMENTS_MAX,
    BODY_MAX_BYTES,
    COMMENT_MAX_CHARS,
    NAME_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    CallbackOutcome,
    ChatSpeaker,
    FilingChannel,
    Priority,
    Status,
    TicketType,
)

Body = Annotated[str, Field(min_length=1, max_length=BODY_MAX_BYTES)]
"""A message or note: characters bounded here, bytes by the domain (the same 64 Ki)."""


class ChatLineIn(Strict):
    who: ChatSpeaker
    text: str = Field(min_length=1, max_length=CHAT_LINE_MAX_CHARS)
    at: datetime | None = Field(default=None, description="ISO instant with a time zone.")


class TicketFiling(Strict):
    model_config = example(
        subject="Files stop syncing",
        description="Since this morning no file syncs on my laptop.",
        type="bug",
        priority="high",
        product="Files",
    )
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX_CHARS)
    description: str = Field(
        default="",
        max_length=BODY_MAX_BYTES,
        description="Required, except for a chat: then an optional summary above the transcript.",
    )
    type: TicketType = "question"
    priority: Priority = "normal"
    product: str = Field(default="", max_length=NAME_MAX_CHARS)
    topic: str = Field(default="", max_length=NAME_MAX_CHARS)
    channel: FilingChannel = "web"
    transcript: list[ChatLineIn] | None = Field(
        default=None,
        max_length=TRANSCRIPT_MAX_LINES,
        description="channel chat only, and required for it: the chat's lines in order.",
    )
    follow_up_of: str | None = Field(default=None, max_length=64)
    help_session: UUID | None = Field(
        default=None,
        description="The help session of GET /v1/articles/suggest: records that this ticket "
        "was filed anyway, in the same write.",
    )
    attachments: AttachmentIds = Field(default_factory=list, max_length=ATTACHMENTS_MAX)
    custom_fields: CustomValues = Field(default_factory=dict)


class CallbackMadeIn(Strict):
    outcome: CallbackOutcome


class MergeIn(Strict):
    model_config = example(into="T-000123")
    into: str = Field(
        min_length=1, max_length=64, description="The ticket it duplicates: number or id."
    )
    reopen_target: bool = Field(
        default=False, description="Reopen that ticket in the same write if it is closed."
    )


class ReceiptOut(BaseModel):
    """What a ticket write answers: pass position as min_position to read it back."""

    id: str
    number: str
    version: int
    position: int


class MessageIn(Strict):
    model_config = example(body="Could you send the logs?")
    body: Body
    attachments: AttachmentIds = Field(default_factory=list, max_length=ATTACHMENTS_MAX)


class NoteIn(Strict):
    model_config = example(body="Reproduced on 4.2; log attached.")
    body: Body
    attachments: AttachmentIds = Field(
        default_factory=list,
        max_length=ATTACHMENTS_MAX,
        description="Files uploaded first (POST /v1/attachments), by id: staff only, as the "
        "note is; customers never see nor download them.",
    )


TagText = Annotated[str, Field(max_length=200)]
"""A tag as typed: the domain normalises it and says what is wrong with it."""


class TagsIn(Strict):
    """Tags to put on and take off (normalised: lower case, inner blanks as ``-``)."""

    add: list[TagText] = Field(default_factory=list, max_length=TAGS_MAX)
    remove: list[TagText] = Field(default_factory=list, max_length=TAGS_MAX)

    model_config = example(add=["billing", "Refund Request"], remove=["triage"])


class StatusIn(Strict):
    status: Status


class PriorityIn(Strict):
    priority: Priority


class AssignmentIn(Strict):
    agent_id: str | None = Field(default=None, max_length=64, description='An agent id or "me"')
    group: str | None = Field(default=None, max_length=NAME_MAX_CHARS)


class TypeIn(Strict):
    type: TicketType


class ProductIn(Strict):
    product: str = Field(min_length=1, max_length=NAME_MAX_CHARS)


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=COMMENT_MAX_CHARS)


class MergedIntoOut(BaseModel):
    """The ticket a merge went into, as the same write left it."""

    id: str
    number: str
    version: int


class MergeOut(ReceiptOut):
    """What a merge answers: the merged ticket's receipt, and the ticket it went into."""

    merged_into: MergedIntoOut
