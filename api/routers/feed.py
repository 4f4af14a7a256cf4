"""The change feed: every event in log order, for staff integrations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.answers import read_problems
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import responses
from api.schemas.common import Actor
from api.schemas.feed import FeedEvent, FeedPageOut, FeedQuery
from desk.access import may_read_notes

router = APIRouter(prefix="/v1/feed", tags=["feed"])


@router.get(
    "",
    response_model=FeedPageOut,
    responses=responses({422: "Invalid parameter"}, waits_for="feed"),
)
def feed(
    query: Annotated[FeedQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> FeedPageOut:
    """Events after a position, in order; resume from next_after. Internal notes only for
    the roles that read them (agents, admins, auditors)."""
    allowed(who, "feed")
    with read_problems():
        found, position = runtime.reads.feed(
            after=query.after,
            limit=query.limit,
            with_staff_only=may_read_notes(who),
            min_position=query.min_position,
        )
    return FeedPageOut(
        events=[feed_event(e) for e in found.events],
        next_after=found.next_after,
        position=position,
    )


def feed_event(row: dict[str, Any]) -> FeedEvent:
    return FeedEvent(
        position=row["position"],
        stream_id=str(row["stream_id"]),
        version=row["version"],
        kind=row["kind"],
        ticket_number=row["ticket_number"],
        account_id=row["account_id"],
        at=row["at"],
        actor=Actor(id=row["actor_id"], kind=row["actor_kind"]),
        via=row["via"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        fields=row["fields"],
    )
