"""The shape every write shares: idempotency, domain refusals as stored answers, receipts."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse

from api.answers import read_problems
from api.auth import Principal, may_see_ticket
from api.problems import PROBLEM_TYPE, Problem, domain_problem
from api.runtime import Runtime
from desk.answers import Receipt
from domain.errors import DocketError, UnknownTicket
from store.idempotency import KeyInFlight, KeyReused, StoredAnswer, canonical_request


def receipt_answer(receipt: Receipt, status: int = 200) -> StoredAnswer:
    return StoredAnswer(
        status,
        {
            "id": str(receipt.ticket_id),
            "number": receipt.number,
            "version": receipt.version,
            "position": receipt.position,
        },
        {"ETag": f'"{receipt.version}"', "Location": f"/v1/tickets/{receipt.number}"},
    )


def run_write(
    runtime: Runtime,
    principal: Principal,
    request: Request,
    key: str | None,
    payload: object,
    write: Callable[[], StoredAnswer],
) -> JSONResponse:
    """Run ``write`` once per idempotency key; domain refusals are answers too."""

    def decided() -> StoredAnswer:
        try:
            return write()
        except DocketError as error:
            response = domain_problem(error)
            headers = {"Content-Type": PROBLEM_TYPE}
            if "retry-after" in response.headers:
                headers["Retry-After"] = response.headers["retry-after"]
            return StoredAnswer(response.status_code, json.loads(bytes(response.body)), headers)

    def recovered() -> StoredAnswer | None:
        """The answer of a write that committed before its process died, if it did."""
        assert key is not None
        with read_problems():
            written = runtime.reads.written_for(principal.id, key)
        if len(written) != 1:
            return None
        w = written[0]
        receipt = Receipt(w["stream_id"], w["ticket_number"] or "", w["version"], w["position"])
        return receipt_answer(receipt, 201 if w["opened"] else 200)

    if key is None:
        answer = decided()
    else:
        try:
            answer = runtime.idempotency.run(
                principal.id,
                key,
                canonical_request(request.method, request.url.path, payload),
                decided,
                recovered,
            )
        except KeyReused:
            raise Problem(
                422,
                "idempotency-key-reused",
                "This Idempotency-Key was first used with a different request; use a new key.",
            ) from None
        except KeyInFlight:
            raise Problem(
                409,
                "idempotency-key-in-flight",
                "The first request with this Idempotency-Key is still running; retry shortly.",
                {"Retry-After": "1"},
            ) from None
    headers = dict(answer.headers)
    media_type = headers.pop("Content-Type", "application/json")
    return JSONResponse(
        answer.body, status_code=answer.status, headers=headers, media_type=media_type
    )


@dataclass(frozen=True)
class TicketScope:
    """Who a ticket belongs to: what deciding who may write to it needs."""

    ticket_id: UUID
    account_id: str
    requester_id: str


def visible_ticket(runtime: Runtime, principal: Principal, ref: str) -> TicketScope:
    """The ticket, if the caller may see it; otherwise 404, so existence does not leak.

    Account and requester never change once a ticket is filed, so the detail view
    answers when it has the ticket (one indexed row, no fold of the ticket's events:
    the desk folds it once, to decide the write); a ticket too new for the view is
    asked of the desk.
    """
    found = runtime.reads.identity_of(ref)
    if found is None:
        try:
            facts = runtime.desk.ticket_facts(ref)
        except UnknownTicket:
            raise Problem(404, "unknown-ticket", f"No ticket {ref} that you can see.") from None
        found = (facts.ticket_id, facts.account_id, facts.requester_id)
    scope = TicketScope(*found)
    if not may_see_ticket(principal, scope.account_id, scope.requester_id):
        raise Problem(404, "unknown-ticket", f"No ticket {ref} that you can see.")
    return scope
