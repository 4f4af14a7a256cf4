"""Tickets: filing, replying, internal notes, every change of a ticket's state; the
ticket lists and a ticket's detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import CurrentPrincipal, RuntimeDep, allowed, not_modified
from api.problems import Problem, responses
from api.schemas.lists import TicketPage, TicketQuery
from api.schemas.ticket_detail import TicketDetail
from api.schemas.ticket_fields import CustomFieldsIn
from api.schemas.tickets import (
    AssignmentIn,
    CallbackMadeIn,
    ChatLineIn,
    MergeIn,
    MergeOut,
    MessageIn,
    NoteIn,
    PriorityIn,
    ProductIn,
    RatingIn,
    ReceiptOut,
    StatusIn,
    TagsIn,
    TicketFiling,
    TypeIn,
)
from api.ticket_reads import ticket_list, visible_detail
from api.writes import (
    FieldChange,
    TicketWrite,
    add_field_change,
    merge_answer,
    merge_recovery,
    visible_ticket,
)
from desk.access import (
    author_role,
    may_rate,
)
from domain.channels import ChatLine
from domain.messages import Msg

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])

PROBLEMS = responses(
    {
        400: "Malformed header",
        403: "Role or plan not allowed",
        404: "No such ticket visible to the caller",
        409: "The ticket's state refuses this change",
        412: "If-Match names a stale version",
        413: "Body too large",
        422: "Invalid field, or Idempotency-Key reused with another body",
    }
)


@router.post("", status_code=201, response_model=ReceiptOut, responses=PROBLEMS)
def file_ticket(filing: TicketFiling, write: TicketWrite) -> JSONResponse:
    """File a ticket for the caller's team account; answers its number at once."""
    return write.filing(
        "file_ticket",
        Msg("Only members of a customer account file tickets."),
        filing,
        write.desk.file_ticket,
        lambda: {
            "transcript": chat_lines(filing.transcript),
            "attachments": write.attachments(filing.attachments),
            **filing.model_dump(exclude={"transcript", "attachments"}),
        },
    )


@router.post("/{ticket}/messages", response_model=ReceiptOut, responses=PROBLEMS)
def add_message(ticket: str, message: MessageIn, write: TicketWrite) -> JSONResponse:
    """A public reply: by the requester, an agent, a team admin as collaborator, or a
    member the ticket copies (as a CC). To a merged ticket, it lands in the ticket it went
    into: the answer names that one."""
    owner = write.ticket("add_message", ticket)
    role = author_role(write.who, owner)
    return write.run(
        message,
        lambda: write.desk.add_message(
            owner.ticket_id,
            author_id=write.who.id,
            author_role=role,
            body=message.body,
            attachments=write.attachments(message.attachments),
            stamp=write.stamp(role if role in ("collaborator", "cc") else None),
            expected_version=write.expected,
        ),
    )


@router.post("/{ticket}/notes", response_model=ReceiptOut, responses=PROBLEMS)
def add_internal_note(ticket: str, note: NoteIn, write: TicketWrite) -> JSONResponse:
    """An internal note, with files uploaded first (cited by id, as a reply's are): staff
    only, never shown to requesters or team admins, nor its files downloadable by them."""
    owner = write.ticket("add_internal_note", ticket)
    return write.run(
        note,
        lambda: write.desk.add_internal_note(
            owner.ticket_id,
            author_id=write.who.id,
            body=note.body,
            attachments=write.attachments(note.attachments),
            stamp=write.stamp(),
            expected_version=write.expected,
        ),
    )


@router.post("/{ticket}/status", response_model=ReceiptOut, responses=PROBLEMS)
def change_status(ticket: str, change: StatusIn, write: TicketWrite) -> JSONResponse:
    """Open, pending or closed. Customers may only close ("mark as solved")."""
    owner = write.ticket("change_status", ticket)
    if not write.who.is_staff and change.status != "closed":
        raise Problem(
            403, "staff-only", Msg("Customers can close a ticket; only agents set other statuses.")
        )
    return write.change(owner, change, write.desk.change_status, to_status=change.status)


@router.post("/{ticket}/assignment", response_model=ReceiptOut, responses=PROBLEMS)
def assign(ticket: str, change: AssignmentIn, write: TicketWrite) -> JSONResponse:
    """Assign to an agent ("me" for the caller) and a support group, or unassign with nulls."""
    owner = write.ticket("assign", ticket)
    agent_id = write.who.id if change.agent_id == "me" else change.agent_id
    return write.change(owner, change, write.desk.assign, agent_id=agent_id, group=change.group)


@router.post("/{ticket}/reopen", response_model=ReceiptOut, responses=PROBLEMS)
def reopen(ticket: str, write: TicketWrite) -> JSONResponse:
    """Reopen a closed ticket within the reopen window (30 days)."""
    owner = write.ticket("reopen", ticket)
    return write.change(owner, None, write.desk.reopen)


@router.post("/{ticket}/rating", response_model=ReceiptOut, responses=PROBLEMS)
def rate_satisfaction(ticket: str, rating: RatingIn, write: TicketWrite) -> JSONResponse:
    """The requester rates a closed ticket from 1 to 5."""
    owner = write.ticket("rate_satisfaction", ticket)
    if not may_rate(write.who, owner):
        raise Problem(403, "requester-only", Msg("Only the person who filed the ticket rates it."))
    return write.change(
        owner, rating, write.desk.rate_satisfaction, score=rating.score, comment=rating.comment
    )


@router.post("/{ticket}/merge", response_model=MergeOut, responses=PROBLEMS)
def merge_ticket(ticket: str, merge: MergeIn, write: TicketWrite) -> JSONResponse:
    """Merge a duplicate into another ticket of its account (staff): it is closed with a
    link to that one, its requester follows that one, and its replies land there."""
    owner = write.ticket("merge_ticket", ticket)
    into = visible_ticket(write.runtime, write.who, merge.into)
    return write.answer(
        merge.model_dump(),
        lambda: merge_answer(
            write.desk.merge_ticket(
                owner.ticket_id,
                into=into.ticket_id,
                stamp=write.stamp(),
                expected_version=write.expected,
                reopen_target=merge.reopen_target,
            )
        ),
        recover_written=merge_recovery(owner.ticket_id, into.ticket_id),
    )


FIELD_CHANGES = (
    FieldChange(
        "change_priority",
        "/{ticket}/priority",
        PriorityIn,
        {"to_priority": "priority"},
        "Raise or lower the priority (it must change).",
    ),
    FieldChange(
        "change_type", "/{ticket}/type", TypeIn, {"to_type": "type"}, "Correct the ticket's type."
    ),
    FieldChange(
        "change_product",
        "/{ticket}/product",
        ProductIn,
        {"to_product": "product"},
        "Correct the ticket's product.",
    ),
    FieldChange(
        "record_callback_made",
        "/{ticket}/callback",
        CallbackMadeIn,
        {"outcome": "outcome"},
        "Staff record that they phoned the requester back: reached them, or no answer.",
        access="record_callback",
    ),
    FieldChange(
        "change_tags",
        "/{ticket}/tags",
        TagsIn,
        {"add": "add", "remove": "remove"},
        "Staff put tags on and take tags off (normalised; only real changes are recorded).",
    ),
    FieldChange(
        "set_custom_fields",
        "/{ticket}/custom-fields",
        CustomFieldsIn,
        {"changes": "custom_fields"},
        "Staff change some custom field values (null clears one); the others stay as stored.",
        method="PATCH",
    ),
)


def add_ticket_change(change: FieldChange) -> None:
    """Route one of the changes of a ticket's fields: the caller must see the ticket."""

    def endpoint(ticket: str, body: BaseModel, write: TicketWrite) -> JSONResponse:
        owner = write.ticket(change.rule, ticket)
        return write.change(owner, body, getattr(write.desk, change.name), **change.values(body))

    add_field_change(router, change, endpoint, ReceiptOut, PROBLEMS)


for field_change in FIELD_CHANGES:
    add_ticket_change(field_change)


def chat_lines(lines: list[ChatLineIn] | None) -> list[ChatLine] | None:
    return None if lines is None else [ChatLine(x.who, x.text, x.at) for x in lines]


READ_PROBLEMS = responses(
    {
        400: "A cursor from another list",
        403: "Role not allowed, or a scope the role does not have",
        404: "No such ticket visible to the caller",
        422: "Invalid filter",
    },
    waits_for="view",
)


@router.get(
    "", response_model=TicketPage, response_model_exclude_unset=True, responses=READ_PROBLEMS
)
def list_tickets(
    query: Annotated[TicketQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> TicketPage:
    """The caller's tickets: requesters their own, team admins theirs or (scope=team) their
    account's, staff every ticket (scope=mine: assigned to them)."""
    allowed(who, "list_tickets")
    return ticket_list(runtime, who, query)


@router.get(
    "/{ticket}",
    response_model=TicketDetail,
    response_model_exclude_unset=True,
    responses={**READ_PROBLEMS, 304: {"description": "Not modified since the ETag"}},
)
def ticket_detail(
    ticket: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    """The ticket, its conversation and files; internal notes for staff. ETag: its version."""
    allowed(who, "ticket_detail")
    detail = visible_detail(
        runtime,
        who,
        ticket,
        lambda a: str(request.url_for("download_attachment", attachment_id=a).path),
        min_position,
    )
    etag = f'"{detail.version}"'
    if not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return JSONResponse(detail.model_dump(mode="json", exclude_unset=True), headers={"ETag": etag})
