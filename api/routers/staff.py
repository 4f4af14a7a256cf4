"""Docket's staff and support groups (Docket admins): register, list, deactivate; create
groups and put agents in them or take them out; a staff member's open tickets, listed
for reassignment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.answers import ViewRead, list_filter, paging, read_problems, ticket_page
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem, responses
from api.routers.tickets import READ_PROBLEMS
from api.runtime import Runtime
from api.schemas.lists import TicketPage, TicketQuery
from api.schemas.staff import (
    GROUP_PATTERN,
    GroupIn,
    GroupList,
    GroupReceiptOut,
    RosterQuery,
    StaffIn,
    StaffList,
    StaffOut,
    StaffQuery,
    StaffReceiptOut,
)
from api.schemas.surveys import StaffPreferencesIn
from api.writes import TicketWrite, written
from desk.answers import GroupReceipt, StaffReceipt
from domain.messages import Msg
from domain.vocabulary import NAME_MAX_CHARS
from store.idempotency import StoredAnswer

router = APIRouter(tags=["staff"])
GroupPath = Annotated[str, Path(min_length=1, max_length=NAME_MAX_CHARS, pattern=GROUP_PATTERN)]

PROBLEMS = responses(
    {
        400: "Malformed header",
        404: "No such staff member or support group",
        409: "Already so, already registered, or deactivated",
        412: "If-Match names a stale version of the staff member",
        422: "Invalid field, not an agent, or Idempotency-Key reused",
    }
)
LIST_PROBLEMS = responses({404: "No such staff member", 422: "Invalid filter"}, waits_for="roster")


def staff_answer(found: StaffReceipt, status: int = 200) -> StoredAnswer:
    body = StaffReceiptOut(id=str(found.staff_id), version=found.version, position=found.position)
    return written(status, body.model_dump(), found.version, f"/v1/staff/{found.staff_id}")


def staff_change(
    write: TicketWrite, change: Callable[..., StaffReceipt], staff: str, **fields: str
) -> JSONResponse:
    """A change to one staff member, at the version If-Match names."""
    return write.versioned_change({}, staff_answer, change, staff, **fields)


def group_answer(found: GroupReceipt) -> StoredAnswer:
    body = GroupReceiptOut(name=found.name, position=found.position)
    return StoredAnswer(201, body.model_dump(), {"Location": "/v1/groups"})


def roster_row(runtime: Runtime, staff: str, min_position: int | None) -> dict[str, Any]:
    """The staff member as the roster holds them; one registered too recently for it is
    waited for (up to the read wait), as a ticket too new for its view is asked of the desk."""
    with read_problems():
        rows = runtime.reads.staff(min_position=min_position, staff_id=staff)
        if not rows and runtime.desk.has_staff(staff):
            rows = runtime.reads.staff(min_position=runtime.position(), staff_id=staff)
    if not rows:
        raise Problem(
            404,
            "unknown-staff",
            Msg("No staff member {staff}; see GET /v1/staff.", staff=staff[:100]),
        )
    return rows[0]


# --- staff -------------------------------------------------------------------------------


@router.post("/v1/staff", status_code=201, response_model=StaffReceiptOut, responses=PROBLEMS)
def register_staff(staff: StaffIn, write: TicketWrite) -> JSONResponse:
    """Register an agent (in support groups, created if new), auditor, analyst or admin;
    one registration per email address. Then issue them a token."""
    allowed(write.who, "register_staff")
    return write.answer(
        staff.model_dump(),
        lambda: staff_answer(
            write.desk.register_staff(stamp=write.stamp(), **staff.model_dump()), 201
        ),
    )


@router.get("/v1/staff", response_model=StaffList, responses=LIST_PROBLEMS)
def list_staff(query: Annotated[StaffQuery, Query()], read: ViewRead) -> StaffList:
    """Staff by name: role, active or deactivated, their support groups and version."""
    with read.views("list_staff") as views:
        rows = views.staff(
            min_position=query.min_position,
            role=query.role,
            active=query.active,
            group=query.group,
        )
    return StaffList(staff=[StaffOut(id=r["staff_id"], **r) for r in rows])


@router.get("/v1/staff/{staff}", response_model=StaffOut, responses=LIST_PROBLEMS)
def staff_member(
    staff: str, query: Annotated[RosterQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> StaffOut:
    """One staff member; their version is the If-Match of a change to them."""
    allowed(who, "list_staff")
    row = roster_row(runtime, staff, query.min_position)
    return StaffOut(id=row["staff_id"], **row)


@router.patch("/v1/staff/me/preferences", response_model=StaffReceiptOut, responses=PROBLEMS)
def change_own_preferences(change: StaffPreferencesIn, write: TicketWrite) -> JSONResponse:
    """Your own language and time zone, as a staff member (any staff role): your pages and
    emails are in them. Give those that change."""
    allowed(write.who, "staff_preferences")
    return write.versioned_change(
        change.model_dump(),
        staff_answer,
        write.desk.set_staff_preferences,
        write.who.id,
        **change.model_dump(),
    )


@router.post("/v1/staff/{staff}/deactivation", response_model=StaffReceiptOut, responses=PROBLEMS)
def deactivate_staff(staff: str, write: TicketWrite) -> JSONResponse:
    """Deactivate a staff member: their tokens stop at once and no ticket is newly assigned
    to them; their open tickets stay theirs until reassigned (see their open-tickets)."""
    allowed(write.who, "deactivate_staff")
    return staff_change(write, write.desk.deactivate_staff, staff)


@router.get("/v1/staff/{staff}/open-tickets", response_model=TicketPage, responses=READ_PROBLEMS)
def open_tickets(
    staff: str,
    query: Annotated[TicketQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
) -> TicketPage:
    """The open and pending tickets assigned to a staff member (to reassign those of a
    deactivated one), in the inbox's order; the inbox's filters narrow it."""
    allowed(who, "staff_open_tickets")
    if query.scope is not None or query.assignee:
        raise Problem(
            422, "invalid-field", Msg("This list is the staff member's; drop scope and assignee.")
        )
    if "closed" in query.status:
        raise Problem(422, "invalid-field", Msg("This list holds open and pending tickets only."))
    roster_row(runtime, staff, None)
    with read_problems():
        where = list_filter(
            query,
            who,
            runtime.desk.ticket_fields,
            assignees=(staff,),
            statuses=tuple(query.status) or ("open", "pending"),
        )
        found = runtime.reads.inbox(where, paging(query))
    return ticket_page(found, staff=True)


# --- support groups ----------------------------------------------------------------------


@router.post("/v1/groups", status_code=201, response_model=GroupReceiptOut, responses=PROBLEMS)
def create_group(group: GroupIn, write: TicketWrite) -> JSONResponse:
    """Create a support group; then put agents in it."""
    allowed(write.who, "create_group")
    return write.answer(
        group.model_dump(),
        lambda: group_answer(write.desk.create_group(name=group.name, stamp=write.stamp())),
    )


@router.get("/v1/groups", response_model=GroupList, responses=LIST_PROBLEMS)
def list_groups(query: Annotated[RosterQuery, Query()], read: ViewRead) -> GroupList:
    """Support groups by name, with their agents (deactivated ones marked)."""
    with read.views("list_groups") as views:
        rows = views.groups(min_position=query.min_position)
    return GroupList.model_validate({"groups": rows})


@router.put(
    "/v1/groups/{group}/members/{staff}", response_model=StaffReceiptOut, responses=PROBLEMS
)
def add_to_group(group: GroupPath, staff: str, write: TicketWrite) -> JSONResponse:
    """Put an active agent in a support group that exists (If-Match: the agent's version)."""
    allowed(write.who, "manage_group_members")
    return staff_change(write, write.desk.add_to_group, staff, group=group)


@router.delete(
    "/v1/groups/{group}/members/{staff}", response_model=StaffReceiptOut, responses=PROBLEMS
)
def remove_from_group(group: GroupPath, staff: str, write: TicketWrite) -> JSONResponse:
    """Take an agent out of a support group (If-Match: the agent's version)."""
    allowed(write.who, "manage_group_members")
    return staff_change(write, write.desk.remove_from_group, staff, group=group)
