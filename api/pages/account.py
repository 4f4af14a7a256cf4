"""A customer's account pages: the team's tickets (team admins), the subscription (the
account's admins and billing admins), and asking to be phoned back.

Each page asks the role matrix with the API's key and reads or writes through the same
function the API's route calls: ``api.answers.account_tickets`` (``GET
/v1/accounts/{id}/tickets``), ``api.answers.seen_subscription`` (``GET
/v1/accounts/{id}/subscription``) and ``desk.request_callback`` (``POST /v1/callbacks``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.answers import account_tickets, seen_subscription, subscription_out, ticket_page
from api.deps import RuntimeDep
from api.pages.templating import page, zone
from api.pages.visitors import SignedIn, Visitor, permitted, stamp_of
from api.problems import Problem, domain_problem
from api.schemas.lists import TicketQuery
from domain.channels import TIME_ZONE_MAX_CHARS
from domain.errors import DocketError, InvalidField
from domain.messages import Msg
from domain.vocabulary import BODY_MAX_BYTES, SUBJECT_MAX_CHARS

router = APIRouter(include_in_schema=False)

TEAM_TABS = ("open", "pending", "closed", "all")
TEAM_PAGE_SIZE = 25
NUMBER = re.compile(r"T-[0-9]{6,12}")
CURSOR_MAX_CHARS = 2000


def account_of(visitor: Visitor) -> str:
    """The visitor's customer account: staff (who pass some of these keys) have none, and
    are told so as the API tells them."""
    account = visitor.signed_in.account_id
    if account is None:
        raise Problem(
            403, "not-a-member", Msg("Only members of a customer account have a team account.")
        )
    return str(account)


@router.get("/support/team")
def team_tickets(
    request: Request,
    runtime: RuntimeDep,
    visitor: SignedIn,
    status: str = "open",
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_CHARS)] = None,
) -> Response:
    """The account's tickets, a status tab at a time, with who filed each and who answered
    as collaborator."""
    permitted(visitor, "account_tickets")
    account = account_of(visitor)
    tab = status if status in TEAM_TABS else "open"
    query = TicketQuery(
        status=[] if tab == "all" else [tab],  # type: ignore[list-item]
        limit=TEAM_PAGE_SIZE,
        cursor=cursor or None,
    )
    found = ticket_page(account_tickets(runtime, visitor.signed_in, account, query), staff=False)
    context = {
        "tab": tab,
        "tabs": TEAM_TABS,
        "tickets": found.tickets,
        "found": found,
        "request_cursor": cursor,
    }
    return page(request, visitor, "account_team.html", context)


@router.get("/support/subscription")
def subscription(request: Request, runtime: RuntimeDep, visitor: SignedIn) -> Response:
    """Plan, seats, Premium add-ons with their first-answer targets, renewal date."""
    permitted(visitor, "subscription")
    account = str(visitor.signed_in.account_id)  # none: the API's 404, as for any other
    found = subscription_out(seen_subscription(runtime, visitor.signed_in, account))
    policy = runtime.desk.sla_policy()
    add_ons = [
        {
            "product": product,
            "level": add_on.level,
            "until": add_on.until,
            "first_response": policy.get(f"premium_{add_on.level}", {})
            .get("normal", {})
            .get("first_response"),
        }
        for product, add_on in sorted(found.premium.items())
    ]
    context = {"subscription": found, "add_ons": add_ons, "seats_taken": found.seats_taken}
    return page(request, visitor, "account_subscription.html", context)


@router.get("/support/callback")
def callback_form(request: Request, visitor: SignedIn, requested: str | None = None) -> Response:
    """Ask to be phoned back; after asking, the confirmation with the ticket's number."""
    permitted(visitor, "request_callback")
    number = requested if requested and NUMBER.fullmatch(requested) else None
    context: dict[str, Any] = {"requested": number, "form": {}, "error": None, "field": None}
    return page(request, visitor, "account_callback.html", context)


@router.post("/support/callback")
def request_callback(
    request: Request,
    runtime: RuntimeDep,
    visitor: SignedIn,
    phone: Annotated[str, Form(max_length=64)] = "",
    window_start: Annotated[str, Form(max_length=40)] = "",
    window_end: Annotated[str, Form(max_length=40)] = "",
    subject: Annotated[str, Form(max_length=SUBJECT_MAX_CHARS)] = "",
    description: Annotated[str, Form(max_length=BODY_MAX_BYTES)] = "",
) -> Response:
    permitted(visitor, "request_callback")
    form = {
        "phone": phone,
        "window_start": window_start,
        "window_end": window_end,
        "subject": subject,
        "description": description,
    }
    time_zone = (visitor.time_zone or "UTC")[:TIME_ZONE_MAX_CHARS]
    account = account_of(visitor)
    try:
        receipt = runtime.desk.request_callback(
            account_id=UUID(account),
            requester_id=visitor.signed_in.id,
            phone=as_typed_number(phone),
            window_start=local_instant("window_start", window_start, time_zone),
            window_end=local_instant("window_end", window_end, time_zone),
            time_zone=time_zone,
            subject=subject,
            description=description,
            stamp=stamp_of(visitor),
        )
    except DocketError as error:
        status = domain_problem(error, visitor.language).status_code
        field = error.field if isinstance(error, InvalidField) else None
        context: dict[str, Any] = {"requested": None, "form": form, "error": error, "field": field}
        return page(request, visitor, "account_callback.html", context, status_code=status)
    return RedirectResponse(f"/support/callback?requested={receipt.number}", status_code=303)


def local_instant(field: str, text: str, time_zone: str) -> datetime | None:
    """A ``datetime-local`` value (no offset) as the instant it is in the visitor's zone;
    blank: none."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=zone(time_zone))
    except ValueError:
        raise InvalidField(
            field, Msg("Give a date and a time, such as 2030-03-04 09:30.")
        ) from None


def as_typed_number(phone: str) -> str:
    """The number as people type it (``+33 6 12 34 56 78``, ``+1 (415) 555-2671``) without
    the spaces, dots, dashes and brackets that E.164 leaves out; anything else stays, so
    the desk's refusal says what is wrong."""
    return "".join(c for c in phone.strip() if c not in " .-()\u00a0")
