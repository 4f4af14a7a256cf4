"""Ticket writes: file, reply, note, and every change of a ticket's state."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api.answers import list_filter, paging, read_problems, ticket_page
from api.answers import ticket_detail as ticket_detail_answer
from api.auth import Principal, may_read_notes, may_see_ticket
from api.deps import (
    CorrelationId,
    CurrentPrincipal,
    ExpectedVersion,
    IdempotencyKey,
    RuntimeDep,
    allowed,
    stamp_for,
)
from api.problems import Problem
from api.runtime import Runtime
from api.schemas import (
    AssignmentIn,
    CallbackMadeIn,
    ChatLineIn,
    MessageIn,
    NoteIn,
    PriorityIn,
    ProductIn,
    RatingIn,
    Receipt,
    StatusIn,
    TicketDetail,
    TicketFiling,
    TicketPage,
    TicketQuery,
    TypeIn,
)
from api.writes import TicketScope, receipt_answer, run_write, visible_ticket
from desk.answers import AttachmentRef
from domain.channels import ChatLine
from store.idempotency import StoredAnswer

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed header"},
    401: {"description": "No or bad token"},
    403: {"description": "Role or plan not allowed"},
    404: {"description": "No such ticket visible to the caller"},
    409: {"description": "The ticket's state refuses this change"},
    412: {"description": "If-Match names a stale version"},
    413: {"description": "Body too large"},
    422: {"description": "Invalid field, or Idempotency-Key reused with another body"},
}


def attachment_refs(runtime: Runtime, who: Principal, ids: list[str]) -> list[AttachmentRef]:
    refs = []
    for attachment_id in ids:
        stored = runtime.attachments.describe(attachment_id, who.id)
        if stored is None:
            raise Problem(
                422,
                "unknown-attachment",
                f"Upload {attachment_id} with POST /v1/attachments before attaching it.",
                errors=[{"field": "attachments", "message": "unknown attachment"}],
            )
        refs.append(
            AttachmentRef(stored.attachment_id, stored.filename, stored.content_type, stored.size)
        )
    return refs


def chat_lines(lines: list[ChatLineIn] | None) -> list[ChatLine] | None:
    return None if lines is None else [ChatLine(x.who, x.text, x.at) for x in lines]


def author_role(
    who: Principal, facts: TicketScope
) -> Literal["requester", "agent", "collaborator"]:
    if who.is_staff:
        return "agent"
    return "requester" if who.id == facts.requester_id else "collaborator"


@router.post("", status_code=201, response_model=Receipt, responses=PROBLEMS)
def file_ticket(
    filing: TicketFiling,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    correlation: CorrelationId,
) -> JSONResponse:
    """File a ticket for the caller's team account; answers its number at once."""
    allowed(who, "file_ticket")
    account_id = who.account_id
    if account_id is None:
        raise Problem(403, "not-a-member", "Only members of a customer account file tickets.")

    def write() -> StoredAnswer:
        refs = attachment_refs(runtime, who, filing.attachments)
        receipt = runtime.desk.file_ticket(
            account_id=account_id,
            requester_id=who.id,
            subject=filing.subject,
            description=filing.description,
            type=filing.type,
            priority=filing.priority,
            product=filing.product,
            topic=filing.topic,
            channel=filing.channel,
            transcript=chat_lines(filing.transcript),
            follow_up_of=filing.follow_up_of,
            help_session=filing.help_session,
            stamp=stamp_for(who, correlation, key),
        )
        if refs:
            stamp = stamp_for(who, correlation, key)
            for ref in refs:
                receipt = runtime.desk.add_attachment(
                    receipt.ticket_id, attachment=ref, stamp=stamp
                )
                runtime.attachments.link_to_ticket(
                    ref.attachment_id, ref.filename, who.id, receipt.ticket_id
                )
        return receipt_answer(receipt, 201)

    return run_write(runtime, who, request, key, filing.model_dump(), write)


@router.post("/{ticket}/messages", response_model=Receipt, responses=PROBLEMS)
def add_message(
    ticket: str,
    message: MessageIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """A public reply: by the requester, an agent, or a team admin as collaborator."""
    allowed(who, "add_message")
    facts = visible_ticket(runtime, who, ticket)
    role = author_role(who, facts)

    def write() -> StoredAnswer:
        refs = attachment_refs(runtime, who, message.attachments)
        receipt = runtime.desk.add_message(
            facts.ticket_id,
            author_id=who.id,
            author_role=role,
            body=message.body,
            attachments=refs,
            stamp=stamp_for(
                who, correlation, key, "collaborator" if role == "collaborator" else None
            ),
            expected_version=expected,
        )
        for ref in refs:
            runtime.attachments.link_to_ticket(
                ref.attachment_id, ref.filename, who.id, facts.ticket_id
            )
        return receipt_answer(receipt)

    return run_write(runtime, who, request, key, message.model_dump(), write)


@router.post("/{ticket}/notes", response_model=Receipt, responses=PROBLEMS)
def add_internal_note(
    ticket: str,
    note: NoteIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """An internal note: staff only, never shown to requesters or team admins."""
    allowed(who, "add_internal_note")
    facts = visible_ticket(runtime, who, ticket)
    return run_write(
        runtime, who, request, key, note.model_dump(),
        lambda: receipt_answer(
            runtime.desk.add_internal_note(
                facts.ticket_id, author_id=who.id, body=note.body,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/status", response_model=Receipt, responses=PROBLEMS)
def change_status(
    ticket: str,
    change: StatusIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Open, pending or closed. Customers may only close ("mark as solved")."""
    allowed(who, "change_status")
    facts = visible_ticket(runtime, who, ticket)
    if not who.is_staff and change.status != "closed":
        raise Problem(
            403, "staff-only", "Customers can close a ticket; only agents set other statuses."
        )
    return run_write(
        runtime, who, request, key, change.model_dump(),
        lambda: receipt_answer(
            runtime.desk.change_status(
                facts.ticket_id, to_status=change.status,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/priority", response_model=Receipt, responses=PROBLEMS)
def change_priority(
    ticket: str,
    change: PriorityIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Raise or lower the priority (it must change)."""
    allowed(who, "change_priority")
    facts = visible_ticket(runtime, who, ticket)
    return run_write(
        runtime, who, request, key, change.model_dump(),
        lambda: receipt_answer(
            runtime.desk.change_priority(
                facts.ticket_id, to_priority=change.priority,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/assignment", response_model=Receipt, responses=PROBLEMS)
def assign(
    ticket: str,
    change: AssignmentIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Assign to an agent ("me" for the caller) and a support group, or unassign with nulls."""
    allowed(who, "assign")
    facts = visible_ticket(runtime, who, ticket)
    agent_id = who.id if change.agent_id == "me" else change.agent_id
    return run_write(
        runtime, who, request, key, change.model_dump(),
        lambda: receipt_answer(
            runtime.desk.assign(
                facts.ticket_id, agent_id=agent_id, group=change.group,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/type", response_model=Receipt, responses=PROBLEMS)
def change_type(
    ticket: str,
    change: TypeIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Correct the ticket's type."""
    allowed(who, "change_type")
    facts = visible_ticket(runtime, who, ticket)
    return run_write(
        runtime, who, request, key, change.model_dump(),
        lambda: receipt_answer(
            runtime.desk.change_type(
                facts.ticket_id, to_type=change.type,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/product", response_model=Receipt, responses=PROBLEMS)
def change_product(
    ticket: str,
    change: ProductIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Correct the ticket's product."""
    allowed(who, "change_product")
    facts = visible_ticket(runtime, who, ticket)
    return run_write(
        runtime, who, request, key, change.model_dump(),
        lambda: receipt_answer(
            runtime.desk.change_product(
                facts.ticket_id, to_product=change.product,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/reopen", response_model=Receipt, responses=PROBLEMS)
def reopen(
    ticket: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Reopen a closed ticket within the reopen window (30 days)."""
    allowed(who, "reopen")
    facts = visible_ticket(runtime, who, ticket)
    return run_write(
        runtime, who, request, key, {},
        lambda: receipt_answer(
            runtime.desk.reopen(
                facts.ticket_id, stamp=stamp_for(who, correlation, key), expected_version=expected
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/rating", response_model=Receipt, responses=PROBLEMS)
def rate_satisfaction(
    ticket: str,
    rating: RatingIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """The requester rates a closed ticket from 1 to 5."""
    allowed(who, "rate_satisfaction")
    facts = visible_ticket(runtime, who, ticket)
    if who.id != facts.requester_id:
        raise Problem(403, "requester-only", "Only the person who filed the ticket rates it.")
    return run_write(
        runtime, who, request, key, rating.model_dump(),
        lambda: receipt_answer(
            runtime.desk.rate_satisfaction(
                facts.ticket_id, score=rating.score, comment=rating.comment,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


@router.post("/{ticket}/callback", response_model=Receipt, responses=PROBLEMS)
def record_callback_made(
    ticket: str,
    made: CallbackMadeIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    expected: ExpectedVersion,
    correlation: CorrelationId,
) -> JSONResponse:
    """Staff record that they phoned the requester back: reached them, or no answer."""
    allowed(who, "record_callback")
    facts = visible_ticket(runtime, who, ticket)
    return run_write(
        runtime, who, request, key, made.model_dump(),
        lambda: receipt_answer(
            runtime.desk.record_callback_made(
                facts.ticket_id, outcome=made.outcome,
                stamp=stamp_for(who, correlation, key), expected_version=expected,
            )
        ),
    )  # fmt: skip


READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A cursor from another list"},
    401: {"description": "No or bad token"},
    403: {"description": "Role not allowed, or a scope the role does not have"},
    404: {"description": "No such ticket visible to the caller"},
    422: {"description": "Invalid filter"},
    503: {"description": "The view has not reached min_position yet; retry"},
}


@router.get(
    "", response_model=TicketPage, response_model_exclude_unset=True, responses=READ_PROBLEMS
)
def list_tickets(
    query: Annotated[TicketQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> TicketPage:
    """The caller's tickets: requesters their own, team admins theirs or (scope=team) their
    account's, staff every ticket (scope=mine: assigned to them)."""
    allowed(who, "list_tickets")
    staff = who.is_staff or who.role == "auditor"
    scope = query.scope or ("all" if staff else "mine")
    page = paging(query)
    with read_problems():
        if staff:
            if scope == "team":
                raise Problem(403, "scope-not-allowed", "scope=team is for team admins.")
            where = list_filter(query, who)
            if scope == "mine":
                where = dataclasses.replace(where, assignees=(who.id,))
            return ticket_page(runtime.reads.inbox(where, page), staff=True)
        if scope == "all" or (scope == "team" and who.role != "team_admin"):
            raise Problem(
                403, "scope-not-allowed", f"scope={scope} is not open to the {who.role} role."
            )
        if scope == "team":
            where = list_filter(query, who, account_ids=(str(who.account_id),))
        else:
            where = list_filter(
                query, who, requester_id=who.id, account_ids=(str(who.account_id),)
            )
        return ticket_page(runtime.reads.customer_tickets(where, page), staff=False)


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
    unseen = Problem(404, "unknown-ticket", f"No ticket {ticket} that you can see.")
    with read_problems():
        scope = runtime.reads.scope_of(ticket, min_position)
    if scope is None or not may_see_ticket(who, *scope):
        raise unseen
    found = runtime.reads.ticket(ticket, with_internal_notes=may_read_notes(who))
    if found is None:
        raise unseen
    detail = ticket_detail_answer(
        *found,
        lambda a: str(request.url_for("download_attachment", attachment_id=a).path),
        with_callback=who.is_staff or who.role == "auditor" or who.id == scope[1],
    )
    etag = f'"{detail.version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return JSONResponse(detail.model_dump(mode="json", exclude_unset=True), headers={"ETag": etag})
