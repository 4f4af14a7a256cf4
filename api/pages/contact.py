"""The contact form's queue in the console: the requests people sent without signing in,
one request's page, its answer by email and its filing as a ticket.

The same reads and desk calls as the API's ``/v1/contact-requests`` routes, under the
same role-matrix keys: ``contact_requests`` to read, ``answer_contact`` to answer,
``contact_to_ticket`` to file it for the member at its address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from api.answers import read_problems
from api.deps import RuntimeDep
from api.pages.console import Posted, PostedForm, Refusal, position_of, refusal_of
from api.pages.templating import page
from api.pages.visitors import Asked, AskedPage, SignedIn, may, permitted, stamp_of
from api.routers.contact import contact_detail
from desk.core import uuid_of
from domain import errors
from domain.messages import Msg
from domain.vocabulary import PRIORITIES, TICKET_TYPES

router = APIRouter(include_in_schema=False)

CONTACT_PAGE = 25


@router.get("/console/contact")
def contact_queue(
    request: Request, runtime: RuntimeDep, visitor: SignedIn, after: str | None = None
) -> Response:
    """The contact form's queue (``GET /v1/contact-requests``): the longest waiting first."""
    permitted(visitor, "contact_requests")
    with read_problems():
        rows = runtime.reads.contact_queue(
            states=["waiting"],
            after=position_of(after, "after"),
            limit=CONTACT_PAGE,
            min_position=None,
        )
    more = rows[-1]["position"] if len(rows) == CONTACT_PAGE else None
    return page(request, visitor, "console_contact.html", {"requests": rows, "more": more})


def request_page(
    asked: Asked,
    ref: str,
    *,
    refusal: Refusal | None = None,
    min_position: int | None = None,
) -> Response:
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    found = contact_detail(runtime, ref, min_position)
    context = {
        "contact": found,
        "refusal": refusal,
        "done": request.query_params.get("done"),
        "types": TICKET_TYPES,
        "priorities": PRIORITIES,
        "may_answer": may(visitor, "answer_contact"),
        "may_file": may(visitor, "contact_to_ticket"),
    }
    status = refusal.status if refusal else 200
    return page(request, visitor, "console_contact_request.html", context, status_code=status)


@router.get("/console/contact/{ref}")
def contact_request(
    asked: AskedPage,
    ref: str,
    min_position: int | None = None,
) -> Response:
    """What was sent, the answers so far, and the accounts that know the address."""
    permitted(asked.visitor, "contact_requests")
    return request_page(asked, ref, min_position=min_position)


def work(
    posted: Posted,
    ref: str,
    form: str,
    typed: dict[str, str],
    change: Callable[[], str],
) -> Response:
    """One change from a form of the request's page: Post/Redirect/Get to where ``change``
    says on success, the page again with the refusal by its form otherwise."""
    try:
        target = change()
    except errors.Busy:
        raise
    except errors.DocketError as error:
        refusal = refusal_of(form, error, typed)
        if isinstance(error, errors.VersionMismatch):
            refusal.message = Msg(
                "Someone answered or filed this request meanwhile: read it again below, then "
                "send yours again if it still holds."
            )
        return request_page(posted, ref, refusal=refusal)
    return RedirectResponse(target, status_code=303)


@router.post("/console/contact/{ref}/answer")
def answer(posted: PostedForm, ref: str, body: Annotated[str, Form()] = "") -> Response:
    """The answer is emailed to the address the request came from."""
    visitor = permitted(posted.visitor, "answer_contact")

    def change() -> str:
        receipt = posted.runtime.desk.answer_contact(
            ref,
            author_id=visitor.signed_in.id,
            body=body,
            stamp=stamp_of(visitor),
            expected_version=posted.version,
        )
        return f"/console/contact/{receipt.reference}?min_position={receipt.position}&done=answer"

    return work(posted, ref, "answer", {"body": body}, change)


class Filing(BaseModel):
    """The form that files a request as a ticket: the account, the ticket's type and its
    priority."""

    account_id: str = ""
    type: str = "question"
    priority: str = "normal"


@router.post("/console/contact/{ref}/ticket")
def file_as_ticket(posted: PostedForm, ref: str, sent: Annotated[Filing, Form()]) -> Response:
    """Filed for the member at the request's address in the account chosen; the ticket's
    page follows."""
    visitor = permitted(posted.visitor, "contact_to_ticket")

    def change() -> str:
        receipt = posted.runtime.desk.turn_contact_into_ticket(
            ref,
            account_id=uuid_of(sent.account_id, errors.UnknownAccount),
            type=sent.type,
            priority=sent.priority,
            stamp=stamp_of(visitor),
            expected_version=posted.version,
        )
        return f"/console/tickets/{receipt.number}?min_position={receipt.position}"

    return work(posted, ref, "ticket", sent.model_dump(), change)
