"""The ticket reads the API and the pages share: a caller's list, and a ticket's detail as
the caller may see it. The routes of ``/v1/tickets`` and the portal's pages both call
these, so who sees which tickets, and which parts of them, is written once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from api.answers import list_filter, merged_ticket, paging, read_problems, ticket_page
from api.answers import ticket_detail as ticket_detail_answer
from api.problems import Problem
from api.runtime import Runtime
from api.schemas.lists import TicketPage, TicketQuery
from api.schemas.ticket_detail import TicketDetail
from desk.access import (
    Principal,
    may_read_notes,
    may_see_callback,
    may_see_ticket,
    reads_every_ticket,
)
from domain.messages import Msg


def ticket_list(runtime: Runtime, who: Principal, query: TicketQuery) -> TicketPage:
    """The caller's tickets: requesters their own, team admins theirs or (scope=team) their
    account's, staff every ticket (scope=mine: assigned to them)."""
    staff = reads_every_ticket(who)
    scope = query.scope or ("all" if staff else "mine")
    page = paging(query)
    with read_problems():
        if staff:
            if scope == "team":
                raise Problem(403, "scope-not-allowed", Msg("scope=team is for team admins."))
            where = list_filter(query, who, runtime.desk.ticket_fields)
            if scope == "mine":
                where = dataclasses.replace(where, assignees=(who.id,))
            return ticket_page(runtime.reads.inbox(where, page), staff=True)
        if scope == "all" or (scope == "team" and who.role != "team_admin"):
            raise Problem(
                403,
                "scope-not-allowed",
                Msg("scope={scope} is not open to the {role} role.", scope=scope, role=who.role),
            )
        if scope == "team":
            where = list_filter(
                query, who, runtime.desk.ticket_fields, account_ids=(str(who.account_id),)
            )
        else:
            where = list_filter(  # their own, and those that copy them (CCs)
                query,
                who,
                runtime.desk.ticket_fields,
                participant_id=who.id,
                account_ids=(str(who.account_id),),
            )
        return ticket_page(runtime.reads.customer_tickets(where, page), staff=False)


def visible_detail(
    runtime: Runtime,
    who: Principal,
    ticket: str,
    download_url: Callable[[str], str],
    min_position: int | None = None,
) -> TicketDetail:
    """The ticket, its conversation and files as ``who`` may see them (internal notes for
    staff only); a ticket they may not see is refused exactly as one that does not exist."""
    unseen = Problem(
        404, "unknown-ticket", Msg("No ticket {ticket} that you can see.", ticket=ticket)
    )
    with read_problems():
        owner = runtime.reads.owner_of(ticket, min_position)
    if owner is None or not may_see_ticket(who, owner):
        raise unseen
    staff, with_callback = may_read_notes(who), may_see_callback(who, owner)
    seen_by = "staff" if staff else "requester" if with_callback else "customer"
    found = runtime.reads.ticket(ticket, with_internal_notes=staff, seen_by=seen_by)
    if found is None:
        raise unseen
    detail = ticket_detail_answer(
        *found,
        download_url,
        with_callback=with_callback,
        definitions=runtime.desk.ticket_fields(),
    )
    detail.merged = [
        merged_ticket(m.number, merged_read(runtime, who, m.number), download_url)
        for m in detail.merged
    ]
    return detail


def merged_read(
    runtime: Runtime, who: Principal, number: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    """A ticket merged into the one read, as ``who`` may see it; ``None`` if they may not."""
    owner = runtime.reads.owner_of(number)
    if owner is None or not may_see_ticket(who, owner):
        return None
    staff = may_read_notes(who)
    seen_by = "staff" if staff else "requester" if who.id == owner.requester_id else "customer"
    return runtime.reads.ticket(number, with_internal_notes=staff, seen_by=seen_by)
