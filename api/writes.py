"""The shape every write shares: the caller, the ticket, idempotency, and domain refusals
as stored answers.

A write route takes a :data:`TicketWrite` (the caller, the runtime and the write's
headers in one dependency), authorises with :meth:`Write.ticket` or
:meth:`Write.member_account`, and hands one desk call to :meth:`Write.run` (a filing to
:meth:`Write.filing`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.answers import read_problems
from api.deps import (
    allowed,
    get_correlation_id,
    get_expected_version,
    get_idempotency_key,
    get_runtime,
    principal_of,
    stamp_for,
)
from api.problems import PROBLEM_TYPE, Problem, Responses, domain_problem, language_of
from api.runtime import Runtime
from desk.access import Principal, may_see_ticket, sees_as_cc
from desk.answers import AccountReceipt, AttachmentRef, MergeReceipt, Receipt
from desk.service import SupportDesk
from domain.errors import DocketError, UnknownTicket
from domain.messages import Msg
from domain.stamp import Stamp
from domain.ticket import TicketOwner
from store.idempotency import KeyInFlight, KeyReused, StoredAnswer, canonical_request

Decided = TypeVar("Decided")
"""What one of the desk's use cases answers (a receipt of some kind)."""


@dataclass(frozen=True)
class Write:
    """One write request: who asks, through which runtime, with which write headers."""

    who: Principal
    runtime: Runtime
    request: Request
    key: str | None
    expected: int | None
    correlation: str

    @property
    def desk(self) -> SupportDesk:
        return self.runtime.desk

    def stamp(self, kind: str | None = None) -> Stamp:
        """The write's stamp: the caller (as ``kind`` if given), now, via the API."""
        return stamp_for(self.who, self.correlation, self.key, kind)

    def ticket(self, endpoint: str, ref: str) -> TicketOwner:
        """The ticket, if the caller's role reaches ``endpoint`` and they may see it."""
        allowed(self.who, endpoint)
        return visible_ticket(self.runtime, self.who, ref)

    def member_account(self, endpoint: str, refusal: Msg) -> UUID:
        """The caller's customer account, for writes only its members make (``refusal``
        tells anyone else so)."""
        allowed(self.who, endpoint)
        if self.who.account_id is None:
            raise Problem(
                403,
                "not-a-member",
                refusal,
            )
        return self.who.account_id

    def filing(
        self,
        endpoint: str,
        refusal: Msg,
        payload: BaseModel,
        use_case: Callable[..., Receipt],
        fields: Callable[[], dict[str, Any]],
    ) -> JSONResponse:
        """One of the desk's filings (a ticket, a callback request) for the caller's
        customer account (:meth:`member_account`), the caller its requester, with this
        write's stamp and ``fields`` (read as the write runs); answered 201, its number."""
        account_id = self.member_account(endpoint, refusal)
        return self.run(
            payload,
            lambda: use_case(
                account_id=account_id, requester_id=self.who.id, stamp=self.stamp(), **fields()
            ),
            status=201,
        )

    def attachments(self, ids: list[str]) -> list[AttachmentRef]:
        """The caller's uploads, by id, as the desk attaches them."""
        return attachment_refs(self.runtime, self.who, ids)

    def change(
        self,
        owner: TicketOwner,
        payload: BaseModel | None,
        use_case: Callable[..., Receipt],
        **fields: object,
    ) -> JSONResponse:
        """Run one of the desk's ticket changes (``desk.change_status`` …) on the ticket,
        with this write's stamp and ``If-Match`` version."""
        return self.run(
            payload,
            lambda: use_case(
                owner.ticket_id, stamp=self.stamp(), expected_version=self.expected, **fields
            ),
        )

    def versioned_change(
        self,
        body: object,
        answer: Callable[[Decided], StoredAnswer],
        use_case: Callable[..., Decided],
        ref: object,
        /,
        **fields: object,
    ) -> JSONResponse:
        """Run one of the desk's changes of a thing with a version (a macro, a saved view, a
        staff member, a contact request) with this write's stamp and ``If-Match`` version,
        once per idempotency key (``body``: the request, as compared on a retry), answered
        as ``answer`` says."""
        return self.answer(
            body,
            lambda: answer(
                use_case(ref, stamp=self.stamp(), expected_version=self.expected, **fields)
            ),
        )

    def account_change(
        self,
        account_id: UUID,
        payload: BaseModel | None,
        use_case: Callable[..., AccountReceipt],
        **fields: object,
    ) -> JSONResponse:
        """Run one of the desk's account changes with this write's stamp and ``If-Match``."""
        return self.run_account(
            payload,
            lambda: use_case(
                account_id, stamp=self.stamp(), expected_version=self.expected, **fields
            ),
        )

    def answer(
        self,
        body: object,
        decide: Callable[[], StoredAnswer],
        recover: Callable[[dict[str, Any]], StoredAnswer] | None = None,
        recover_written: Recovery | None = None,
        key_in: str = "causation_id",
    ) -> JSONResponse:
        """Decide once per idempotency key (``body``: the request, as compared on a retry;
        ``key_in``: the stamp's field that carries the key on the events written); domain
        refusals are answers too.

        A write whose process died after it committed is answered from what it wrote: by
        ``recover`` from the one ticket it wrote to, or by ``recover_written`` from every
        ticket it wrote to (a merge writes two)."""
        key = self.key

        def ticket_recovered(w: dict[str, Any]) -> StoredAnswer:
            receipt = Receipt(
                w["stream_id"], w["ticket_number"] or "", w["version"], w["position"]
            )
            return receipt_answer(receipt, 201 if w["opened"] else 200)

        recover = recover or ticket_recovered

        def decided() -> StoredAnswer:
            try:
                return decide()
            except DocketError as error:
                return stored_refusal(error, language_of(self.request))

        def recovered() -> StoredAnswer | None:
            """The answer of a write that committed before its process died, if it did."""
            assert key is not None
            with read_problems():
                written = self.runtime.primary_reads.written_for(self.who.id, key, column=key_in)
            if recover_written is not None:
                return recover_written(written)
            if len(written) != 1:
                return None
            return recover(written[0])

        if key is None:
            answer = decided()
        else:
            try:
                answer = self.runtime.idempotency.run(
                    self.who.id,
                    key,
                    canonical_request(self.request.method, self.request.url.path, body),
                    decided,
                    recovered,
                )
            except KeyReused:
                raise Problem(
                    422,
                    "idempotency-key-reused",
                    Msg(
                        "This Idempotency-Key was first used with a different request; "
                        "use a new key."
                    ),
                ) from None
            except KeyInFlight:
                raise Problem(
                    409,
                    "idempotency-key-in-flight",
                    Msg(
                        "The first request with this Idempotency-Key is still running; "
                        "retry shortly."
                    ),
                    {"Retry-After": "1"},
                ) from None
        headers = dict(answer.headers)
        media_type = headers.pop("Content-Type", "application/json")
        return JSONResponse(
            answer.body, status_code=answer.status, headers=headers, media_type=media_type
        )

    def run_account(
        self,
        payload: BaseModel | None,
        decide: Callable[[], AccountReceipt],
        status: int = 200,
    ) -> JSONResponse:
        """Decide an account write once per idempotency key; answer its receipt."""
        return self.answer(
            {} if payload is None else payload.model_dump(mode="json"),
            lambda: account_answer(decide(), status),
            recover=lambda w: account_answer(
                AccountReceipt(w["stream_id"], w["version"], w["position"]),
                201 if w["opened"] else 200,
            ),
        )

    def run(
        self, payload: BaseModel | None, decide: Callable[[], Receipt], status: int = 200
    ) -> JSONResponse:
        """Decide once per idempotency key and answer the receipt (or the refusal)."""
        # the request as a retry is compared with it: only a write with a key keeps one
        kept = payload is not None and self.key is not None
        return self.answer(
            payload.model_dump() if kept and payload is not None else {},
            lambda: receipt_answer(decide(), status),
        )


async def get_write(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_request_id: Annotated[str | None, Header()] = None,
) -> Write:
    # the headers CurrentPrincipal, IdempotencyKey, ExpectedVersion and CorrelationId read,
    # read here in their order by one dependency: FastAPI's resolving of five more costs
    # more than the write headers' own checks, on every write
    runtime = await get_runtime(request)
    who = await principal_of(request, runtime, authorization)
    key = await get_idempotency_key(idempotency_key)
    expected = await get_expected_version(if_match)
    return Write(who, runtime, request, key, expected, await get_correlation_id(x_request_id))


TicketWrite = Annotated[Write, Depends(get_write)]
AccountWrite = Annotated[Write, Depends(get_write)]


def written(status: int, body: dict[str, Any], version: int, location: str) -> StoredAnswer:
    """A write's answer: its body, the version it made as the ETag (the If-Match of the next
    change) and where to read what it wrote."""
    return StoredAnswer(status, body, {"ETag": f'"{version}"', "Location": location})


def receipt_answer(receipt: Receipt, status: int = 200) -> StoredAnswer:
    body = {
        "id": str(receipt.ticket_id),
        "number": receipt.number,
        "version": receipt.version,
        "position": receipt.position,
    }
    return written(status, body, receipt.version, f"/v1/tickets/{receipt.number}")


Recovery = Callable[[list[dict[str, Any]]], StoredAnswer | None]
"""The answer of a write that committed, from what it wrote per ticket (or ``None``)."""


def merge_recovery(source_id: UUID, target_id: UUID) -> Recovery:
    """A merge's answer from the two tickets it wrote to (``None`` unless it wrote both)."""

    def recovered(written: list[dict[str, Any]]) -> StoredAnswer | None:
        by_ticket = {str(w["stream_id"]): w for w in written}
        source, target = by_ticket.get(str(source_id)), by_ticket.get(str(target_id))
        if source is None or target is None or len(by_ticket) != 2:
            return None
        at = max(int(source["position"]), int(target["position"]))
        return merge_answer(
            MergeReceipt(
                Receipt(source_id, source["ticket_number"] or "", source["version"], at),
                Receipt(target_id, target["ticket_number"] or "", target["version"], at),
            )
        )

    return recovered


def merge_answer(merge: MergeReceipt) -> StoredAnswer:
    """A merge's answer: the merged ticket's receipt, and where it went (same save)."""
    answer, target = receipt_answer(merge.source), merge.target
    assert isinstance(answer.body, dict)
    into = {"id": str(target.ticket_id), "number": target.number, "version": target.version}
    return StoredAnswer(answer.status, {**answer.body, "merged_into": into}, answer.headers)


def account_answer(receipt: AccountReceipt, status: int = 200) -> StoredAnswer:
    body = {
        "id": str(receipt.account_id),
        "version": receipt.version,
        "position": receipt.position,
        **({"member_id": receipt.member_id} if receipt.member_id else {}),
    }
    return written(status, body, receipt.version, f"/v1/accounts/{receipt.account_id}")


def stored_refusal(error: DocketError, language: str) -> StoredAnswer:
    """A domain refusal as a write's answer, kept like any other: a retry with the same key
    is refused alike, in the language it was first said in."""
    response = domain_problem(error, language)
    headers = {
        "Content-Type": PROBLEM_TYPE,
        "Content-Language": response.headers["content-language"],
    }
    if "retry-after" in response.headers:
        headers["Retry-After"] = response.headers["retry-after"]
    return StoredAnswer(response.status_code, json.loads(bytes(response.body)), headers)


def visible_ticket(runtime: Runtime, principal: Principal, ref: str) -> TicketOwner:
    """The ticket, if the caller may see it; otherwise 404, so existence does not leak.

    Account and requester never change once a ticket is filed, so the detail view
    answers when it has the ticket (one indexed row, no fold of the ticket's events:
    the desk folds it once, to decide the write); a ticket too new for the view is
    asked of the desk. Who it copies does change: a requester who may write to it only
    as a CC, or whom the view does not show copied, is checked against the desk. The
    view is the primary's, as everything a write reads is.
    """
    owner = runtime.primary_reads.owner_of(ref)
    if owner is None:
        try:
            owner = runtime.desk.ticket_facts(ref).owner
        except UnknownTicket:
            raise Problem(
                404, "unknown-ticket", Msg("No ticket {ref} that you can see.", ref=ref)
            ) from None
    elif sees_as_cc(principal, owner) or (
        not may_see_ticket(principal, owner) and principal.role == "requester"
    ):
        # who a ticket copies changes after filing: a member it copies writes only if the
        # ticket copies them now, not as the view last read it
        try:
            owner = runtime.desk.ticket_facts(owner.ticket_id).owner
        except DocketError:
            raise Problem(
                404, "unknown-ticket", Msg("No ticket {ref} that you can see.", ref=ref)
            ) from None
    if not may_see_ticket(principal, owner):
        raise Problem(404, "unknown-ticket", Msg("No ticket {ref} that you can see.", ref=ref))
    return owner


def attachment_refs(runtime: Runtime, who: Principal, ids: list[str]) -> list[AttachmentRef]:
    """The caller's own uploads, by id (``UnknownAttachment`` for any other)."""
    return runtime.uploads.attachable(ids, who.id)


@dataclass(frozen=True)
class FieldChange:
    """A change whose body only names the new value(s), decided by the desk's use case of
    the route's own name: many routes alike (a ticket's priority, an account's plan …),
    so a table of these makes them (:func:`add_field_change`)."""

    name: str
    """The operation's name, and the desk's use case."""
    path: str
    body: type[BaseModel]
    fields: Mapping[str, str]
    """The use case's keywords, each with the body's field it takes."""
    about: str
    """The operation's description."""
    method: str = "POST"
    access: str | None = None
    """The access rule, where it is not named as the operation."""

    @property
    def rule(self) -> str:
        return self.access or self.name

    def values(self, body: BaseModel) -> dict[str, object]:
        return {keyword: getattr(body, field) for keyword, field in self.fields.items()}


def add_field_change(
    router: APIRouter,
    change: FieldChange,
    endpoint: Callable[..., JSONResponse],
    response_model: type[BaseModel],
    responses: Responses,
) -> None:
    """Route ``endpoint`` (whose ``body`` parameter takes any model) as ``change``: its
    name, description and body model, as a route written out for it would have."""
    endpoint.__name__ = endpoint.__qualname__ = change.name
    endpoint.__doc__ = change.about
    endpoint.__annotations__["body"] = change.body  # what FastAPI validates and documents
    router.add_api_route(
        change.path,
        endpoint,
        methods=[change.method],
        response_model=response_model,
        responses=responses,
    )
