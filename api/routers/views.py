"""Saved views of the inbox: an agent's own, or shared with all staff by an admin; each
view's tickets, and the inbox's list of views with their counts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.answers import ViewRead, read_problems, ticket_page
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.inbox_filters import saved_selection
from api.problems import Problem, language_of, responses
from api.runtime import Runtime
from api.schemas.lists import TicketPage
from api.schemas.views import (
    ViewChange,
    ViewCount,
    ViewCounts,
    ViewIn,
    ViewList,
    ViewOut,
    ViewPageQuery,
    ViewQuery,
    ViewReceiptOut,
    as_parameters,
)
from api.writes import TicketWrite, written
from desk.access import Principal, may_call
from desk.answers import SavedViewReceipt
from domain.messages import Msg
from languages import render
from projections.reads import Paging
from store.idempotency import StoredAnswer

router = APIRouter(tags=["views"])

WRITE_PROBLEMS = responses(
    {
        400: "Malformed header",
        403: "Role not allowed, or a shared view and the caller is no admin",
        404: "No such saved view visible to the caller",
        409: "Nothing changed",
        412: "If-Match names a stale version of the view",
        422: "A filter the inbox does not take (named), or Idempotency-Key reused",
    }
)
READ_PROBLEMS = responses(
    {404: "No such saved view visible to the caller", 422: "Invalid parameter"},
    waits_for="view",
)
PAGE_PROBLEMS = responses(
    {
        400: "A cursor from another list",
        404: "No such saved view visible to the caller",
        422: "Invalid parameter, or filters the inbox no longer takes",
    },
    waits_for="view",
)


def unknown_view(ref: str) -> Problem:
    return Problem(
        404, "unknown-saved-view", Msg("No saved view {ref}; see GET /v1/views.", ref=ref[:100])
    )


def view_out(row: dict[str, Any]) -> ViewOut:
    return ViewOut(
        id=str(row["view_id"]),
        name=row["name"],
        shared=row["owner_id"] is None,
        owner_id=row["owner_id"],
        filters=row["filters"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def visible_view(
    runtime: Runtime, who: Principal, ref: str, min_position: int | None
) -> dict[str, Any]:
    """The view as the saved views' view holds it, if the caller sees it; one saved too
    recently for it is waited for (up to the read wait), as a new staff member is."""
    try:
        view_id = UUID(ref)
    except ValueError:
        raise unknown_view(ref) from None
    with read_problems():
        rows = runtime.reads.saved_views(who.id, view_id=view_id, min_position=min_position)
        if not rows and runtime.desk.has_saved_view(view_id, who.id):
            rows = runtime.reads.saved_views(
                who.id, view_id=view_id, min_position=runtime.position()
            )
    if not rows:
        raise unknown_view(ref)
    return rows[0]


def view_answer(found: SavedViewReceipt, status: int = 200) -> StoredAnswer:
    body = ViewReceiptOut(id=str(found.view_id), version=found.version, position=found.position)
    return written(status, body.model_dump(), found.version, f"/v1/views/{found.view_id}")


@router.post("/v1/views", status_code=201, response_model=ViewReceiptOut, responses=WRITE_PROBLEMS)
def save_view(view: ViewIn, write: TicketWrite) -> JSONResponse:
    """Save a filter and sort of the inbox under a name: your own, or (admins, shared: true)
    every agent's. The filters are the inbox's query parameters, checked as the inbox
    checks them."""
    allowed(write.who, "saved_views")
    filters = as_parameters(view.filters)
    saved_selection(filters, write.who, write.runtime.desk.ticket_fields)
    return write.answer(
        view.model_dump(),
        lambda: view_answer(
            write.desk.save_view(
                name=view.name,
                filters=filters,
                shared=view.shared,
                may_share=may_call(write.who, "share_view"),
                stamp=write.stamp(),
            ),
            201,
        ),
    )


@router.get("/v1/views", response_model=ViewList, responses=READ_PROBLEMS)
def list_views(query: Annotated[ViewQuery, Query()], read: ViewRead) -> ViewList:
    """Your own views by name, then the views shared with all staff by name."""
    with read.views("saved_views") as views:
        rows = views.saved_views(read.who.id, min_position=query.min_position)
    return ViewList(views=[view_out(r) for r in rows])


@router.get("/v1/views/{view}", response_model=ViewOut, responses=READ_PROBLEMS)
def saved_view(
    view: str, query: Annotated[ViewQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> ViewOut:
    """One view: its name, filters and version (the If-Match of a change to it)."""
    allowed(who, "saved_views")
    return view_out(visible_view(runtime, who, view, query.min_position))


@router.patch("/v1/views/{view}", response_model=ViewReceiptOut, responses=WRITE_PROBLEMS)
def change_view(view: str, change: ViewChange, write: TicketWrite) -> JSONResponse:
    """Rename a view or replace its filters (If-Match: its version); a shared view is
    changed by admins only."""
    allowed(write.who, "saved_views")
    filters = None if change.filters is None else as_parameters(change.filters)
    if filters is not None:
        saved_selection(filters, write.who, write.runtime.desk.ticket_fields)
    return write.versioned_change(
        {"view": view, **change.model_dump()},
        view_answer,
        write.desk.change_view,
        view,
        name=change.name,
        filters=filters,
        may_share=may_call(write.who, "share_view"),
    )


@router.delete("/v1/views/{view}", response_model=ViewReceiptOut, responses=WRITE_PROBLEMS)
def remove_view(view: str, write: TicketWrite) -> JSONResponse:
    """Delete a view (If-Match: its version); a shared view is deleted by admins only."""
    allowed(write.who, "saved_views")
    return write.versioned_change(
        {"view": view},
        view_answer,
        write.desk.remove_view,
        view,
        may_share=may_call(write.who, "share_view"),
    )


@router.get("/v1/views/{view}/tickets", response_model=TicketPage, responses=PAGE_PROBLEMS)
def view_tickets(
    view: str, query: Annotated[ViewPageQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> TicketPage:
    """The inbox as the view filters and sorts it, in the inbox's cursor pages."""
    allowed(who, "saved_views")
    row = visible_view(runtime, who, view, query.min_position)
    selection = saved_selection(row["filters"], who, runtime.desk.ticket_fields)
    paging = Paging(
        sort=selection.sort,
        reverse=selection.reverse,
        limit=query.limit,
        cursor=query.cursor,
        min_position=query.min_position,
    )
    with read_problems():
        found = runtime.reads.inbox(selection.where, paging)
    return ticket_page(found, staff=True)


@router.get("/v1/inbox/views", response_model=ViewCounts, responses=READ_PROBLEMS)
def inbox_views(
    query: Annotated[ViewQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
) -> ViewCounts:
    """Your views and the shared ones, each with how many tickets of the inbox it holds
    (exact up to 1000, then "more"), all counted as of one position."""
    allowed(who, "inbox_views")
    counted, position = counted_views(runtime, who, query.min_position, language_of(request))
    return ViewCounts(views=[count for _, count in counted], position=position)


def counted_views(
    runtime: Runtime, who: Principal, min_position: int | None, language: str
) -> tuple[list[tuple[dict[str, Any], ViewCount]], int]:
    """Each view the caller sees (the saved views' row) with its count, and the position
    they are all counted as of (``GET /v1/inbox/views`` and the console's inbox)."""
    with read_problems():
        rows = runtime.reads.saved_views(who.id, min_position=min_position)
    selections: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for row in rows:
        try:
            selection = saved_selection(row["filters"], who, runtime.desk.ticket_fields)
            selections[str(row["view_id"])] = (selection.where, selection.sort)
        except Problem as refusal:  # the inbox no longer takes what the view kept
            problems[str(row["view_id"])] = render(refusal.detail, language)
    with read_problems():
        counts, position = runtime.reads.inbox_counts(
            list(selections.values()), min_position=min_position
        )
    counted = dict(zip(selections, counts, strict=True))
    answers = []
    for row in rows:
        view_id = str(row["view_id"])
        found = counted.get(view_id)
        count = ViewCount(
            id=view_id,
            name=row["name"],
            shared=row["owner_id"] is None,
            count=None if found is None else found.tickets,
            more=found is not None and found.capped,
            problem=problems.get(view_id),
        )
        answers.append((row, count))
    return answers, position
