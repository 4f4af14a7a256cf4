"""Macros: agents keep personal ones, admins shared ones; staff preview and apply them.

Every macro write is one desk call (:mod:`desk.macros`); the lists read the macros
view. Applying a macro is a ticket write like any other (``If-Match``,
``Idempotency-Key``); its events name the macro as their cause, so the write's
Idempotency-Key rides on their ``correlation_id``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.answers import ViewRead
from api.deps import allowed, stamp_for
from api.problems import Problem, responses
from api.schemas.macros import (
    FieldChangeOut,
    MacroChange,
    MacroIn,
    MacroList,
    MacroOut,
    MacroPreviewOut,
    MacroQuery,
    MacroReceiptOut,
    MacroTextOut,
)
from api.schemas.tickets import ReceiptOut
from api.writes import TicketWrite, receipt_answer, written
from desk.answers import MacroReceipt, Receipt
from domain.macro import MacroActions
from domain.messages import Msg
from store.idempotency import StoredAnswer

router = APIRouter(tags=["macros"])
MacroPath = Annotated[str, Path(min_length=1, max_length=64)]

PROBLEMS = responses(
    {
        400: "Malformed header",
        403: "Role not allowed, or a shared macro by someone not an admin",
        404: "No such macro (or ticket) that the caller may use",
        409: "The macro or the ticket refuses this change",
        412: "If-Match names a stale version",
        422: "Invalid field, a placeholder unknown or that cannot be filled, or "
        "Idempotency-Key reused",
    }
)
READ_PROBLEMS = responses({404: "No such macro that the caller may use"}, waits_for="macros")


def macro_answer(found: MacroReceipt, status: int = 200) -> StoredAnswer:
    body = MacroReceiptOut(id=str(found.macro_id), version=found.version, position=found.position)
    return written(status, body.model_dump(), found.version, f"/v1/macros/{found.macro_id}")


def macro_out(row: dict[str, Any]) -> MacroOut:
    actions = MacroActions.from_data(row["actions"]).as_data()
    return MacroOut(
        id=str(row["macro_id"]),
        title=row["title"],
        scope="shared" if row["owner_id"] is None else "personal",
        owner_id=row["owner_id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        **actions,
    )


def actions_of(body: MacroIn) -> MacroActions:
    return MacroActions(
        reply=texts(body.reply),
        note=texts(body.note),
        status=body.status,
        priority=body.priority,
        group=body.group,
        assignee=body.assignee,
        tags_add=tuple(body.tags_add),
        tags_remove=tuple(body.tags_remove),
    )


def texts(given: dict[Any, str] | None) -> dict[str, str] | None:
    return None if given is None else {str(k): v for k, v in given.items()}


@router.get("/v1/macros", response_model=MacroList, responses=READ_PROBLEMS)
def list_macros(query: Annotated[MacroQuery, Query()], read: ViewRead) -> MacroList:
    """Your personal macros, then the shared ones, each by title."""
    with read.views("list_macros") as views:
        rows = views.macros(read.who.id, min_position=query.min_position)
    position = max((r["position"] for r in rows), default=0)
    return MacroList(macros=[macro_out(r) for r in rows], position=position)


@router.post("/v1/macros", status_code=201, response_model=MacroReceiptOut, responses=PROBLEMS)
def create_macro(body: MacroIn, write: TicketWrite) -> JSONResponse:
    """Write a macro: personal (yours alone), or shared (admins only)."""
    allowed(write.who, "keep_macros")
    # a retry of the same request names the same macro, so it is never written twice
    macro_id = (
        uuid5(NAMESPACE_URL, f"docket:macro:{write.who.id}:{write.key}") if write.key else None
    )
    return write.answer(
        body.model_dump(mode="json"),
        lambda: macro_answer(
            write.desk.create_macro(
                title=body.title,
                shared=body.shared,
                actions=actions_of(body),
                stamp=write.stamp(),
                macro_id=macro_id,
            ),
            201,
        ),
    )


@router.get("/v1/macros/{macro}", response_model=MacroOut, responses=READ_PROBLEMS)
def macro_detail(
    macro: MacroPath, query: Annotated[MacroQuery, Query()], read: ViewRead
) -> MacroOut:
    """One macro you may use (yours, or shared)."""
    unseen = Problem(404, "unknown-macro", Msg("No macro {macro} that you can use.", macro=macro))
    with read.views("list_macros") as views:
        try:
            macro_id = UUID(macro)
        except ValueError:
            raise unseen from None
        row = views.macro(macro_id, read.who.id, min_position=query.min_position)
    if row is None:
        raise unseen
    return macro_out(row)


@router.patch("/v1/macros/{macro}", response_model=MacroReceiptOut, responses=PROBLEMS)
def change_macro(macro: MacroPath, change: MacroChange, write: TicketWrite) -> JSONResponse:
    """Change a macro: the fields given replace its own (null clears one). Yours, or a
    shared one if you are an admin; If-Match its version."""
    allowed(write.who, "keep_macros")
    given = change.model_dump(mode="json", include=change.model_fields_set)
    title = given.pop("title", None)
    return write.versioned_change(
        change.model_dump(mode="json", exclude_unset=True),
        macro_answer,
        write.desk.change_macro,
        macro,
        title=title,
        changes=given,
    )


@router.delete("/v1/macros/{macro}", response_model=MacroReceiptOut, responses=PROBLEMS)
def archive_macro(macro: MacroPath, write: TicketWrite) -> JSONResponse:
    """Delete (archive) a macro: no longer listed nor applied; its history stays."""
    allowed(write.who, "keep_macros")
    return write.versioned_change({}, macro_answer, write.desk.archive_macro, macro)


@router.post(
    "/v1/tickets/{ticket}/macros/{macro}/preview",
    response_model=MacroPreviewOut,
    responses=PROBLEMS,
)
def preview_macro(ticket: str, macro: MacroPath, write: TicketWrite) -> MacroPreviewOut:
    """What applying the macro to the ticket would write and change, refused as applying
    it would be; writes nothing."""
    owner = write.ticket("apply_macro", ticket)
    found = write.desk.preview_macro(owner.ticket_id, macro_id=macro, stamp=write.stamp())
    return MacroPreviewOut(
        ticket=found.number,
        version=found.version,
        macro_id=str(found.macro_id),
        macro_version=found.macro_version,
        text=MacroTextOut.model_validate(dataclasses.asdict(found.text)) if found.text else None,
        changes=[
            FieldChangeOut(field=c["field"], was=c["from"], becomes=c["to"]) for c in found.changes
        ],
    )


@router.post(
    "/v1/tickets/{ticket}/macros/{macro}/apply", response_model=ReceiptOut, responses=PROBLEMS
)
def apply_macro(ticket: str, macro: MacroPath, write: TicketWrite) -> JSONResponse:
    """Every action of the macro on the ticket, in one save (If-Match, Idempotency-Key)."""
    owner = write.ticket("apply_macro", ticket)
    # the events name the macro as their cause: the key rides on their correlation id
    stamp = stamp_for(write.who, write.key or write.correlation, None)

    def recovered(w: dict[str, Any]) -> StoredAnswer:
        return receipt_answer(Receipt(w["stream_id"], w["ticket_number"] or "", w["version"],
                                      w["position"]))  # fmt: skip

    return write.answer(
        {},
        lambda: receipt_answer(
            write.desk.apply_macro(
                owner.ticket_id, macro_id=macro, stamp=stamp, expected_version=write.expected
            )
        ),
        recover=recovered,
        key_in="correlation_id",
    )
