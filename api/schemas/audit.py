"""The auditor's answers: a ticket's history, its state as of, the backlog, verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import EventOut, Strict


class HistoryEvent(EventOut):
    prev_hash: str
    event_hash: str


class TicketHistory(BaseModel):
    ticket_id: str
    number: str | None
    events: list[HistoryEvent]


class StateQuery(Strict):
    version: int | None = Field(default=None, ge=1, le=2**31)
    as_of: datetime | None = Field(default=None, description="ISO instant with a time zone.")


class TicketState(BaseModel):
    ticket_id: str
    version: int = Field(description="The last version folded.")
    state: dict[str, Any]


class AccountBacklog(BaseModel):
    account_id: str | None
    name: str | None
    tickets: int


class Backlog(BaseModel):
    as_of: datetime
    position: int = Field(description="The feed position the backlog was read at.")
    tickets: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_account: list[AccountBacklog]


class DamageOut(BaseModel):
    stream_id: str
    label: str
    version: int
    reason: str


class Verification(BaseModel):
    ok: bool
    streams: int
    events: int
    damages: list[DamageOut]
    seal_failures: list[str]
    head_hash: str = Field(description="Running hash of the whole log; keep it to compare later.")
    head_position: int = Field(description="The position the running hash covers.")
