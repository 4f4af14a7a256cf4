"""Ticket lists (my tickets, team tickets, the inbox): filters, order, a page of summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import AccountId, MinPosition, PersonRef, Strict, TicketHeading
from domain.vocabulary import CallbackState, Priority, Status, TicketType

SortName = Literal["attention", "last_activity", "created", "priority", "due"]


class TicketQuery(Strict):
    """Filters, order and page of a ticket list. Repeat a filter to allow several values."""

    status: list[Status] = Field(default_factory=list, max_length=3)
    type: list[TicketType] = Field(default_factory=list, max_length=6)
    priority: list[Priority] = Field(default_factory=list, max_length=4)
    product: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    topic: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)
    assignee: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=20,
        description='Agent ids; "me" for the caller, "none" for unassigned (staff only).',
    )
    group: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="Support groups (staff only)."
    )
    account: list[AccountId] = Field(
        default_factory=list, max_length=20, description="Account ids (staff only)."
    )
    needs_answer: bool | None = Field(
        default=None, description="Open tickets whose latest customer message has no reply."
    )
    created: str | None = Field(
        default=None,
        max_length=40,
        description="today, this_week, this_month, or FROM..TO in ISO dates (either may be "
        "left out), in the time zone tz.",
        examples=["this_week", "2024-03-01..2024-03-31"],
    )
    tz: str = Field(default="UTC", max_length=64, description="IANA time zone for created.")
    q: str | None = Field(
        default=None,
        max_length=200,
        description="Words in the subject and messages, or a ticket number (T-000042, #42, 42).",
    )
    breaching_within: int | None = Field(
        default=None,
        ge=0,
        le=60 * 24 * 366,
        description="Minutes (staff only): tickets with a running SLA clock due within "
        "them, or already past due.",
    )
    callback: CallbackState | None = Field(
        default=None,
        description="Staff only: to_make, callbacks requested and not made on tickets not "
        "closed; made, callbacks made.",
    )
    tags_all: str | None = Field(
        default=None,
        max_length=1000,
        description="Staff only: tickets carrying every one of these tags, comma-separated.",
        examples=["billing,refund"],
    )
    tags_any: str | None = Field(
        default=None,
        max_length=1000,
        description="Staff only: tickets carrying at least one of these tags, comma-separated.",
        examples=["billing,refund"],
    )
    field: list[Annotated[str, Field(max_length=300, pattern=r"^[a-z][a-z0-9_]{0,39}:.*$")]] = (
        Field(
            default_factory=list,
            max_length=20,
            description="Custom fields, as key:value (e.g. operating_system:linux, "
            "reproducible:true); repeat a key for any of its values, name several keys for "
            "all of them.",
        )
    )
    sort: SortName | None = Field(
        default=None,
        description="attention (unanswered first; the inbox's default), last_activity "
        "(the lists' default), created, priority, or due (staff only: the soonest SLA due "
        "instant first, overdue before due; tickets with no running clock last).",
    )
    order: Literal["desc", "asc"] = Field(
        default="desc",
        description="desc: most recent, most urgent, most in need of an answer first.",
    )
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)
    min_position: MinPosition = Field(
        default=None, description="Wait until the list reflects this position."
    )
    scope: Literal["mine", "team", "all"] | None = Field(
        default=None,
        description="GET /v1/tickets only. mine: your own (requesters, team admins) or "
        "assigned to you (staff); team: your account's (team admins); all: every ticket "
        "(staff, the default for them).",
    )


class TicketSummary(TicketHeading):
    account_id: str
    requester: PersonRef
    assignee: PersonRef | None
    collaborators: list[PersonRef]
    created_at: datetime
    last_activity_at: datetime
    message_count: int
    support_group: str | None = None
    needs_answer: bool | None = None
    waiting_since: datetime | None = None
    note_count: int | None = None
    version: int | None = None
    sla_due_at: datetime | None = Field(
        default=None, description="Staff only: the soonest due instant of a running SLA clock."
    )
    sla_business_seconds_left: float | None = Field(
        default=None, description="Staff only: business time until sla_due_at (negative past it)."
    )
    sla_breached: bool | None = Field(
        default=None, description="Staff only: a clock of the current cycle is breached."
    )
    callback_phone: str | None = Field(default=None, description="Staff only.")
    callback_window_start: datetime | None = Field(default=None, description="Staff only.")
    callback_window_end: datetime | None = Field(default=None, description="Staff only.")
    callback_state: CallbackState | None = Field(
        default=None, description="Staff only: a callback requested (to_make) or made."
    )
    tags: list[str] | None = Field(default=None, description="Staff only: the ticket's tags.")
    merged_into: str | None = Field(
        default=None,
        description="Set once the ticket was merged into another (it is closed, and worked "
        "there): that ticket's number.",
    )
    custom_fields: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Custom field key → value, as stored."
    )


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )
    position: int = Field(description="The log position this walk reads the list as of.")
