"""The auditor's answers: a ticket's history, the ticket as of, the backlog, verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import EventOut, Strict
from api.schemas.ticket_detail import TicketDetail


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


class TicketDetailAsOf(TicketDetail):
    """The ticket detail (``GET /v1/tickets/{ticket}``) as it stood then, folded from its
    events up to then by the detail's own fold; ``version`` is the last version folded."""

    as_of: datetime = Field(
        description="The instant the answer stands at: as_of, the instant version N was "
        "written, or now. The SLA clocks are read at it."
    )
    write_model: dict[str, Any] = Field(
        description="The ticket aggregate's own fields then, as the write model folded them."
    )


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
    label: str = Field(description="The ticket by number (``ticket T-000123``), or the stream.")
    version: int
    reason: str = Field(description="What the evidence shows, with versions and positions.")
    kind: str = Field(description="edited, reordered, removed, inserted or replaced.")
    position: int | None = Field(default=None, description="Where in the log, when known.")


class Verification(BaseModel):
    ok: bool
    streams: int
    events: int
    damages: list[DamageOut]
    seal_failures: list[str]
    head_hash: str = Field(description="Running hash of the whole log; keep it to compare later.")
    head_position: int = Field(description="The position the running hash covers.")
