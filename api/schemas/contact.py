"""The contact form, and the agents' queue of what it received."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import MinPosition, PersonRef, Strict, example
from domain.vocabulary import (
    BODY_MAX_BYTES,
    NAME_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    Plan,
    Priority,
    TicketType,
)

ContactState = Literal["waiting", "answered", "ticket"]
"""Received and not answered yet; answered by email; turned into a ticket."""


class ContactIn(Strict):
    model_config = example(
        name="Ada Lovelace",
        email="ada@example.com",
        subject="I cannot sign in any more",
        description="My password reset email never arrives.",
        product="Files",
    )
    name: str = Field(min_length=1, max_length=NAME_MAX_CHARS)
    email: str = Field(min_length=3, max_length=NAME_MAX_CHARS, description="Where we answer.")
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX_CHARS)
    description: str = Field(min_length=1, max_length=BODY_MAX_BYTES)
    product: str = Field(default="", max_length=NAME_MAX_CHARS)


class ContactAccepted(BaseModel):
    """The same answer for every address: the reference to quote, and what happens next."""

    reference: str = Field(examples=["C-7KQ2M9XD"])
    detail: str


def waiting_only() -> list[ContactState]:
    return ["waiting"]


class ContactQuery(BaseModel):
    state: list[ContactState] = Field(
        default_factory=waiting_only,
        description="Which requests; repeat for several. The queue is what waits (default).",
    )
    after: Annotated[int | None, Field(ge=0, le=2**62)] = Field(
        default=None, description="The next_after of the previous page."
    )
    limit: int = Field(default=25, ge=1, le=100)
    min_position: MinPosition = None


class ContactRow(BaseModel):
    id: str
    reference: str
    version: int
    state: ContactState
    name: str
    email: str
    subject: str
    product: str
    received_at: datetime
    answered_at: datetime | None
    ticket_number: str | None


class ContactPage(BaseModel):
    requests: list[ContactRow]
    next_after: int | None = Field(description="Pass as after for the next page; null at the end.")


class ContactAnswerOut(BaseModel):
    author: PersonRef
    body: str
    at: datetime


class KnownAccount(BaseModel):
    """An account one of whose members has the request's address."""

    account_id: str
    name: str
    plan: Plan
    member_id: str


class ContactDetail(ContactRow):
    description: str
    answers: list[ContactAnswerOut]
    accounts: list[KnownAccount] = Field(
        description="Accounts whose members have this address: a request becomes a ticket "
        "only in one whose plan includes support."
    )


class ContactAnswerIn(Strict):
    model_config = example(body="We have sent a new reset link; check your spam folder too.")
    body: str = Field(min_length=1, max_length=BODY_MAX_BYTES)


class ContactTicketIn(Strict):
    model_config = example(account_id="6f1c0d3e-4a8b-4f57-9c6e-2f0a1b3c4d5e", type="question")
    account_id: str = Field(max_length=64, description="The member's account (see accounts).")
    type: TicketType = "question"
    priority: Priority = "normal"


class ContactReceiptOut(BaseModel):
    """What an answer records: pass position as min_position to read it back."""

    id: str
    reference: str
    version: int
    position: int
