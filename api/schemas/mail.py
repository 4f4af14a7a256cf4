"""Email: the outbox of notifications, a gateway's inbound post, and refused mail."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import MinPosition, Strict
from mail.intake import Action

OutboxState = Literal["queued", "sent", "retry", "failed", "expired", "withheld"]
"""Where an email of the outbox stands (see :mod:`mail.sender`)."""


class OutboxQuery(Strict):
    state: OutboxState | None = None
    ticket: str | None = Field(
        default=None,
        pattern=r"^(T-\d{6,12}|C-[0-9A-HJKMNP-TV-Z]{8})$",
        description="A ticket number (T-000123), or a contact request's reference (C-7KQ2M9XD).",
    )
    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = Field(
        default=None, ge=0, le=2**62, description="next_before of the last page."
    )
    min_position: MinPosition = None


class OutgoingMail(BaseModel):
    notification_id: str
    position: int
    number: str
    reason: Literal[
        "reply",
        "collaborator_reply",
        "requester_reply",
        "pending",
        "closed",
        "contact_answer",
        "contact_ticket",
        "merged",
        "survey",
        "acknowledgement",
    ]
    recipients: list[str]
    subject: str
    body: str
    message_id: str
    references: list[str]
    reply_to: str
    created_at: datetime
    state: OutboxState
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class OutboxPage(BaseModel):
    emails: list[OutgoingMail]
    next_before: int | None
    sending: bool = Field(description="Whether a mail server is set (DOCKET_SMTP_URL).")


class InboundAnswer(BaseModel):
    action: Action
    id: str = Field(description="The ticket's id.")
    number: str
    version: int
    position: int
    duplicate: bool = Field(description="The same message was taken before; nothing was added.")


class RejectedMailQuery(Strict):
    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = Field(default=None, ge=1, le=2**62)


class RejectedMail(BaseModel):
    rejected_id: int
    received_at: datetime
    sender: str
    subject: str
    message_id: str | None
    reason: str
    detail: str
    size: int


class RejectedMailPage(BaseModel):
    emails: list[RejectedMail]
    next_before: int | None
