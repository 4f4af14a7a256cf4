"""Callback requests: a customer asks to be phoned back; it becomes an urgent phone ticket.

The rules for the number and the window are in :mod:`domain.channels`; staff record
the call with ``POST /v1/tickets/{ticket}/callback``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import (
    CorrelationId,
    CurrentPrincipal,
    IdempotencyKey,
    RuntimeDep,
    allowed,
    stamp_for,
)
from api.problems import Problem
from api.routers.tickets import PROBLEMS
from api.schemas import CallbackIn, Receipt
from api.writes import receipt_answer, run_write
from store.idempotency import StoredAnswer

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


@router.post("", status_code=201, response_model=Receipt, responses=PROBLEMS)
def request_callback(
    callback: CallbackIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    key: IdempotencyKey,
    correlation: CorrelationId,
) -> JSONResponse:
    """Ask to be phoned back within a window: files an urgent ticket (channel phone) with
    the request on record; answers its number at once."""
    allowed(who, "request_callback")
    account_id = who.account_id
    if account_id is None:
        raise Problem(403, "not-a-member", "Only members of a customer account ask for callbacks.")

    def write() -> StoredAnswer:
        receipt = runtime.desk.request_callback(
            account_id=account_id,
            requester_id=who.id,
            subject=callback.subject,
            description=callback.description,
            type=callback.type,
            product=callback.product,
            phone=callback.phone,
            window_start=callback.window_start,
            window_end=callback.window_end,
            time_zone=callback.time_zone,
            stamp=stamp_for(who, correlation, key),
        )
        return receipt_answer(receipt, 201)

    return run_write(runtime, who, request, key, callback.model_dump(), write)
