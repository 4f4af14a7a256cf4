"""The contact form (no token), and the agents' queue of what it received.

``POST /v1/contact`` answers 202 and a reference whatever the address (see
:mod:`desk.contact`); agents list the queue, read a request, answer it by email,
or turn it into a ticket for the member at its address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.answers import ViewRead, read_problems
from api.deps import CorrelationId, CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem
from api.routers.tickets import PROBLEMS, READ_PROBLEMS
from api.runtime import Runtime
from api.schemas.common import PersonRef
from api.schemas.contact import (
    ContactAccepted,
    ContactAnswerIn,
    ContactAnswerOut,
    ContactDetail,
    ContactIn,
    ContactPage,
    ContactQuery,
    ContactReceiptOut,
    ContactRow,
    ContactTicketIn,
)
from api.schemas.tickets import ReceiptOut
from api.writes import TicketWrite
from desk.answers import ContactReceipt
from desk.core import uuid_of
from domain.errors import UnknownAccount
from domain.messages import Msg
from domain.stamp import Stamp
from store.idempotency import StoredAnswer

router = APIRouter(tags=["contact"])

FORM_PROBLEMS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body too large"},
    422: {"description": "Invalid field"},
    429: {
        "description": "Too many requests from this client or for this address; see Retry-After"
    },
}
WRITE_PROBLEMS = {**PROBLEMS, 404: {"description": "No such contact request"}}
ACCEPTED = (
    "We have your request; quote this reference if you write again. An agent answers by "
    "email at the address you gave."
)


async def form_stamp(correlation: CorrelationId) -> Stamp:
    """Whoever sent the form: known to nobody, so no id of anyone's."""
    return Stamp("contact-form", "requester", "api", datetime.now(UTC), correlation)


FormStamp = Annotated[Stamp, Depends(form_stamp)]


@router.post(
    "/v1/contact", status_code=202, response_model=ContactAccepted, responses=FORM_PROBLEMS
)
def contact(form: ContactIn, request: Request, runtime: RuntimeDep, stamp: FormStamp) -> Any:
    """Write to support without signing in: the same answer, a reference, for any address."""
    received = runtime.desk.receive_contact(
        name=form.name,
        email=form.email,
        subject=form.subject,
        description=form.description,
        product=form.product,
        client_address=request.client.host if request.client else None,
        stamp=stamp,
    )
    return ContactAccepted(reference=received.reference, detail=ACCEPTED)


@router.get("/v1/contact-requests", response_model=ContactPage, responses=READ_PROBLEMS)
def contact_queue(query: Annotated[ContactQuery, Query()], read: ViewRead) -> ContactPage:
    """The contact queue, the longest waiting first; ``state`` picks answered or ticket too."""
    with read.views("contact_requests") as views:
        rows = views.contact_queue(
            states=list(query.state),
            after=query.after,
            limit=query.limit,
            min_position=query.min_position,
        )
    more = len(rows) == query.limit
    return ContactPage(
        requests=[ContactRow(id=str(r["request_id"]), **r) for r in rows],
        next_after=rows[-1]["position"] if rows and more else None,
    )


@router.get(
    "/v1/contact-requests/{request_ref}", response_model=ContactDetail, responses=READ_PROBLEMS
)
def contact_request(
    request_ref: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> ContactDetail:
    """One request (by reference or id): what was sent, the answers, the accounts that know
    its address."""
    allowed(who, "contact_requests")
    return contact_detail(runtime, request_ref, min_position)


def contact_detail(runtime: Runtime, request_ref: str, min_position: int | None) -> ContactDetail:
    """The request as agents read it (the API's answer and the console's page)."""
    with read_problems():
        found = runtime.reads.contact_request(request_ref, min_position)
    if found is None:
        raise Problem(
            404,
            "unknown-contact-request",
            Msg("No contact request {request_ref}.", request_ref=request_ref),
        )
    names = found.pop("names")
    answers = [
        ContactAnswerOut(
            author=PersonRef(id=a["author_id"], name=names.get(a["author_id"])),
            body=a["body"],
            at=a["at"],
        )
        for a in found.pop("answers")
    ]
    return ContactDetail(id=str(found["request_id"]), answers=answers, **found)


@router.post(
    "/v1/contact-requests/{request_ref}/answer",
    response_model=ContactReceiptOut,
    responses=WRITE_PROBLEMS,
)
def answer_contact(request_ref: str, answer: ContactAnswerIn, write: TicketWrite) -> JSONResponse:
    """Answer by email, to the address the request came from (If-Match: its version)."""
    allowed(write.who, "answer_contact")
    return write.versioned_change(
        answer.model_dump(),
        contact_receipt,
        write.desk.answer_contact,
        request_ref,
        author_id=write.who.id,
        body=answer.body,
    )


@router.post(
    "/v1/contact-requests/{request_ref}/ticket",
    status_code=201,
    response_model=ReceiptOut,
    responses=WRITE_PROBLEMS,
)
def contact_to_ticket(
    request_ref: str, filing: ContactTicketIn, write: TicketWrite
) -> JSONResponse:
    """File the request as a ticket for the member at its address, in the account named."""
    allowed(write.who, "contact_to_ticket")
    return write.run(
        filing,
        lambda: write.desk.turn_contact_into_ticket(
            request_ref,
            account_id=uuid_of(filing.account_id, UnknownAccount),
            type=filing.type,
            priority=filing.priority,
            stamp=write.stamp(),
            expected_version=write.expected,
        ),
        status=201,
    )


def contact_receipt(receipt: ContactReceipt) -> StoredAnswer:
    return StoredAnswer(
        200,
        {
            "id": str(receipt.request_id),
            "reference": receipt.reference,
            "version": receipt.version,
            "position": receipt.position,
        },
        {
            "ETag": f'"{receipt.version}"',
            "Location": f"/v1/contact-requests/{receipt.reference}",
        },
    )
