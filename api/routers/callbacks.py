"""Callback requests: a customer asks to be phoned back; it becomes an urgent phone ticket.

The rules for the number and the window are in :mod:`domain.channels`; staff record
the call with ``POST /v1/tickets/{ticket}/callback``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.routers.tickets import PROBLEMS
from api.schemas.callbacks import CallbackIn
from api.schemas.tickets import ReceiptOut
from api.writes import TicketWrite
from domain.messages import Msg

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


@router.post("", status_code=201, response_model=ReceiptOut, responses=PROBLEMS)
def request_callback(callback: CallbackIn, write: TicketWrite) -> JSONResponse:
    """Ask to be phoned back, within a window or (with none) as soon as possible: files an
    urgent ticket (channel phone) with the request on record; answers its number at once."""
    return write.filing(
        "request_callback",
        Msg("Only members of a customer account ask for callbacks."),
        callback,
        write.desk.request_callback,
        callback.model_dump,
    )
