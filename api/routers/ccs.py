"""CCs: copying people on a ticket by email address, and no longer copying them.

The rules (address, bound, who is a member) are in :mod:`domain.ticket` and
:mod:`desk.ccs`; who may copy people is :func:`desk.access.may_manage_ccs`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from api.problems import Problem
from api.routers.tickets import PROBLEMS
from api.schemas.ccs import CcAddress, CcIn
from api.schemas.tickets import ReceiptOut
from api.writes import TicketWrite
from desk.access import may_manage_ccs
from domain.messages import Msg
from domain.ticket import TicketOwner

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])


@router.post("/{ticket}/ccs", response_model=ReceiptOut, responses=PROBLEMS)
def add_cc(ticket: str, cc: CcIn, write: TicketWrite) -> JSONResponse:
    """Copy someone on the ticket: a member of its account sees it and gets its public
    replies; anyone else gets the public replies by email, and may answer them."""
    owner = managed_ticket(write, "add_cc", ticket)
    return write.change(owner, cc, write.desk.add_cc, email=cc.email)


@router.delete("/{ticket}/ccs/{email}", response_model=ReceiptOut, responses=PROBLEMS)
def remove_cc(
    ticket: str, email: Annotated[CcAddress, Path()], write: TicketWrite
) -> JSONResponse:
    """Stop copying someone: from now on no email of the ticket goes to them, not even one
    owed before, and a member no longer sees it."""
    owner = managed_ticket(write, "remove_cc", ticket)
    return write.change(owner, None, write.desk.remove_cc, email=email)


def managed_ticket(write: TicketWrite, endpoint: str, ticket: str) -> TicketOwner:
    owner = write.ticket(endpoint, ticket)
    if not may_manage_ccs(write.who, owner):
        raise Problem(
            403,
            "requester-or-staff-only",
            Msg(
                "Only the ticket's requester, a team admin of its account or an agent changes "
                "who it copies; ask one of them."
            ),
        )
    return owner
