"""The change feed: events in log order, resumable from a position."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import EventOut, MinPosition, Strict


class FeedQuery(Strict):
    after: int = Field(default=0, ge=0, le=2**62, description="Resume after this position.")
    limit: int = Field(default=100, ge=1, le=1000)
    min_position: MinPosition = None


class FeedEvent(EventOut):
    stream_id: str
    ticket_number: str | None
    account_id: str | None


class FeedPageOut(BaseModel):
    events: list[FeedEvent]
    next_after: int = Field(description="Pass as after to resume; every earlier event is read.")
    position: int = Field(description="How far the feed's view has read the log.")
