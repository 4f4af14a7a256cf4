"""An account's team tickets: for its team admins (and staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.answers import list_filter, paging, read_problems, ticket_page
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem
from api.routers.tickets import READ_PROBLEMS
from api.schemas.lists import TicketPage, TicketQuery

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get(
    "/{account}/tickets",
    response_model=TicketPage,
    response_model_exclude_unset=True,
    responses=READ_PROBLEMS,
)
def account_tickets(
    account: str,
    query: Annotated[TicketQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
) -> TicketPage:
    """Every ticket of the account, with who filed it and who replied as collaborator."""
    allowed(who, "account_tickets")
    if who.role == "team_admin" and str(who.account_id) != account:
        raise Problem(404, "unknown-account", f"No account {account} that you administer.")
    if query.scope is not None:
        raise Problem(422, "invalid-field", "This list is the account's; it takes no scope.")
    with read_problems():
        found = runtime.reads.customer_tickets(
            list_filter(query, who, account_ids=(account,)), paging(query)
        )
    return ticket_page(found, staff=False)
