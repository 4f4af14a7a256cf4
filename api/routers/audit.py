"""The auditor's endpoints: history, state as of, backlog as of, verification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.answers import bad_query, ticket_as_of
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem, responses
from api.schemas.audit import (
    Backlog,
    DamageOut,
    HistoryEvent,
    StateQuery,
    TicketDetailAsOf,
    TicketHistory,
    Verification,
)
from desk.access import may_read_notes, may_see_callback, may_see_ticket, reads_every_ticket
from domain.messages import Msg
from domain.ticket import TicketOwner
from replay.history import Unreadable, UnreadableEvents
from replay.store import StoredAt

router = APIRouter(prefix="/v1/audit", tags=["audit"])

PROBLEMS = responses(
    {
        404: "No such ticket, or none then",
        422: "Invalid parameter, a version not reached or an instant to come",
    }
)


def visible_stream(
    runtime: RuntimeDep, who: CurrentPrincipal, ticket: str
) -> tuple[list[StoredAt], TicketOwner]:
    """The ticket's stored events and whose it is, if the caller may see it."""
    entries = runtime.audit.ticket_stream(ticket)
    if entries:
        stream_id = UUID(str(entries[0].stored.originator_id))
        try:
            opened = runtime.desk.mapper.to_domain_event(entries[0].stored)
            owner: TicketOwner | None = TicketOwner(
                stream_id,
                str(getattr(opened, "account_id", "")),
                str(getattr(opened, "requester_id", "")),
            )
        except Exception:  # undecodable: whose it is cannot be told
            owner = None
        if owner is None and reads_every_ticket(who):  # who reads every ticket needs no owner
            owner = TicketOwner(stream_id, "", "")
        if owner is not None and may_see_ticket(who, owner):
            return entries, owner
    raise Problem(
        404, "unknown-ticket", Msg("No ticket {ticket} that you can see.", ticket=ticket)
    )


def damaged(ticket: str, unreadable: list[Unreadable]) -> Problem:
    versions = ", ".join(f"{u.version} (position {u.position})" for u in unreadable)
    return Problem(
        409,
        "ticket-damaged",
        Msg(
            "Ticket {ticket}'s stored events at versions {versions} do not decode: "
            "they were not written by Docket. See what else was damaged with GET "
            "/v1/audit/verify?ticket={ticket}; the events that do decode are "
            "listed under readable_versions.",
            ticket=ticket,
            versions=versions,
        ),
        damages=[
            {"version": u.version, "position": u.position, "kind": "edited", "reason": u.reason}
            for u in unreadable
        ],
    )


@router.get("/tickets/{ticket}/events", response_model=TicketHistory, responses=PROBLEMS)
def ticket_history(ticket: str, who: CurrentPrincipal, runtime: RuntimeDep) -> TicketHistory:
    """Every event of the ticket in order: version, position, instant, actor, via,
    correlation and causation ids, fields and chain hashes. Internal notes included."""
    allowed(who, "audit_history")
    entries, _ = visible_stream(runtime, who, ticket)
    try:
        events = runtime.audit.history(entries)
    except UnreadableEvents as unreadable:
        problem = damaged(ticket, unreadable.unreadable)
        problem.extra["readable_versions"] = [e["version"] for e in unreadable.readable]
        raise problem from None
    return TicketHistory(
        ticket_id=str(entries[0].stored.originator_id),
        number=events[0]["fields"].get("number"),
        events=[HistoryEvent(**e) for e in events],
    )


@router.get(
    "/tickets/{ticket}/state",
    response_model=TicketDetailAsOf,
    response_model_exclude_unset=True,
    responses=PROBLEMS,
)
def ticket_state(
    ticket: str,
    query: Annotated[StateQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> TicketDetailAsOf:
    """The ticket detail as it stood at ?version=N or ?as_of=INSTANT (now without either),
    folded from its events by the detail's own fold, SLA clocks read at that instant."""
    allowed(who, "audit_state")
    entries, owner = visible_stream(runtime, who, ticket)
    found, names = runtime.audit.ticket_as_of(
        entries,
        version=query.version,
        as_of=query.as_of,
        now=datetime.now(UTC),
        with_internal_notes=may_read_notes(who),
    )
    return ticket_as_of(
        found,
        names,
        lambda a: str(request.url_for("download_attachment", attachment_id=a).path),
        with_callback=may_see_callback(who, owner),
        definitions=runtime.desk.ticket_fields(),
    )


@router.get("/backlog", response_model=Backlog, responses=PROBLEMS)
def backlog_as_of(
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    as_of: Annotated[datetime, Query(description="ISO instant with a time zone.")],
) -> Backlog:
    """Open and pending tickets at an instant, by status, priority and account."""
    allowed(who, "audit_backlog")
    if as_of.tzinfo is None:
        raise bad_query("as_of", Msg("as_of needs a time zone, e.g. 2024-03-01T12:00:00Z."))
    found, position = runtime.audit.backlog(as_of, datetime.now(UTC))
    return Backlog(position=position, **found)


@router.get("/verify", response_model=Verification, responses=PROBLEMS)
def verify(
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    ticket: Annotated[str | None, Query(max_length=64)] = None,
) -> Verification:
    """Recompute every stream's hash chain (or one ticket's), each stream's recorded head
    and the log's seals; name every damaged ticket and version."""
    allowed(who, "audit_verify")
    only = None
    if ticket is not None:
        only = runtime.audit.ticket_id(ticket)  # also one whose events were all removed
        if only is None:
            raise Problem(404, "unknown-ticket", Msg("No ticket {ticket}.", ticket=ticket))
    report = runtime.audit.verify(only)
    return Verification(
        ok=report.ok,
        streams=report.streams,
        events=report.events,
        damages=[DamageOut(**vars(d)) for d in report.damages],
        seal_failures=report.seal_failures,
        head_hash=report.head_hash,
        head_position=report.head_position,
    )
