"""Email: the outbox of notifications, for admins to see what was sent and what waits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.reads import read_problems
from api.schemas import OutboxPage, OutboxQuery, OutgoingMail

router = APIRouter(tags=["email"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or bad token"},
    403: {"description": "Role not allowed"},
    422: {"description": "Invalid parameter"},
    503: {"description": "The outbox has not reached min_position yet; retry"},
}


@router.get("/v1/admin/outbox", response_model=OutboxPage, responses=PROBLEMS)
def outbox(
    query: Annotated[OutboxQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> OutboxPage:
    """Notification emails, newest first, with their delivery state: ``queued`` (no mail
    server set, or not yet picked up), ``sent``, ``retry`` (the server refused for now),
    ``failed`` (refused for good) or ``expired`` (too old when first picked up)."""
    allowed(who, "outbox")
    with read_problems():
        rows = runtime.reads.outbox(
            runtime.mail,
            state=query.state,
            ticket=query.ticket,
            limit=query.limit + 1,
            before=query.before,
            min_position=query.min_position,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return OutboxPage(
        emails=[OutgoingMail(**{k: row[k] for k in OutgoingMail.model_fields}) for row in rows],
        next_before=rows[-1]["position"] if more else None,
        sending=runtime.settings.smtp_url is not None,
    )
