"""The agent inbox: every ticket, what needs an answer first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.answers import paging, read_problems, ticket_page
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.inbox_filters import inbox_filter
from api.routers.tickets import READ_PROBLEMS
from api.schemas.lists import TicketPage, TicketQuery

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


@router.get("", response_model=TicketPage, responses=READ_PROBLEMS)
def inbox(
    query: Annotated[TicketQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> TicketPage:
    """Filter by status, type, priority, product, topic, assignee ("me", "none"), support
    group, account, needs_answer, created and q; sort by attention (default), last activity,
    priority or created."""
    allowed(who, "inbox")
    with read_problems():
        found = runtime.reads.inbox(
            inbox_filter(query, who, runtime.desk.ticket_fields), paging(query)
        )
    return ticket_page(found, staff=True)
