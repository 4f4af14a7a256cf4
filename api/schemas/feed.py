"""The change feed: events in log order, resumable from a position."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Actor, Strict


class FeedQuery(Strict):
    after: int = Field(default=0, ge=0, le=2**62, description="Resume after this position.")
    limit: int = Field(default=100, ge=1, le=1000)
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class FeedEvent(BaseModel):
    position: int
    stream_id: str
    version: int
    kind: str
    ticket_number: str | None
    account_id: str | None
    at: datetime
    actor: Actor
    via: str
    correlation_id: str
    causation_id: str
    fields: dict[str, Any]


class FeedPageOut(BaseModel):
    events: list[FeedEvent]
    next_after: int = Field(description="Pass as after to resume; every earlier event is read.")
    position: int = Field(description="How far the feed's view has read the log.")
