"""Custom ticket fields: admins define and revise them; everyone reads those in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem, responses
from api.schemas.ticket_fields import (
    KEY_PATTERN,
    TicketFieldChange,
    TicketFieldIn,
    TicketFieldList,
    TicketFieldOut,
)
from api.writes import TicketWrite, written
from desk.access import CUSTOMER_ROLES
from desk.ticket_fields import FieldReceipt
from domain.custom_fields import FieldDefinition
from domain.messages import Msg
from domain.vocabulary import NAME_MAX_CHARS
from store.idempotency import StoredAnswer

router = APIRouter(prefix="/v1/ticket-fields", tags=["ticket fields"])
KeyPath = Annotated[str, Path(min_length=1, max_length=40, pattern=KEY_PATTERN)]

PROBLEMS = responses(
    {
        400: "Malformed header",
        404: "No such ticket field",
        409: "A field with that key exists, or nothing would change",
        412: "If-Match names a stale revision of the field",
        422: "Invalid field, or Idempotency-Key reused",
    }
)


def field_out(
    definition: FieldDefinition, revision: int, position: int | None = None
) -> TicketFieldOut:
    return TicketFieldOut(**definition.as_data(), revision=revision, position=position)


def field_answer(found: FieldReceipt, status: int = 200) -> StoredAnswer:
    body = field_out(found.definition, found.revision, found.position)
    location = f"/v1/ticket-fields/{found.definition.key}"
    return written(status, body.model_dump(mode="json"), found.revision, location)


@router.get("", response_model=TicketFieldList, responses=PROBLEMS)
def list_ticket_fields(
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    product: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=NAME_MAX_CHARS,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Only the fields a ticket about this product is filed with.",
        ),
    ] = None,
) -> TicketFieldList:
    """The custom fields, by key: customers the ones in force for filing, staff every one
    (archived ones too, flagged)."""
    allowed(who, "ticket_fields")
    book = runtime.desk.ticket_field_book()
    shown = [
        field_out(d, book.revisions[key])
        for key, d in sorted(book.fields.items())
        if not (d.archived and who.role in CUSTOMER_ROLES)
        and (product is None or d.applies_to(product))
    ]
    return TicketFieldList(fields=shown)


@router.get("/{key}", response_model=TicketFieldOut, responses=PROBLEMS)
def ticket_field(key: KeyPath, who: CurrentPrincipal, runtime: RuntimeDep) -> JSONResponse:
    """One field; ETag: its revision, which PATCH's If-Match names."""
    allowed(who, "ticket_fields")
    definition, revision = runtime.desk.ticket_field(key)
    if definition.archived and who.role in CUSTOMER_ROLES:
        raise Problem(
            404,
            "unknown-ticket-field",
            Msg("No ticket field {key}: GET /v1/ticket-fields lists them.", key=key),
        )
    body = field_out(definition, revision).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{revision}"'})


@router.post("", status_code=201, response_model=TicketFieldOut, responses=PROBLEMS)
def define_ticket_field(field: TicketFieldIn, write: TicketWrite) -> JSONResponse:
    """Define a custom field (admins); its key is taken for good: archive it to retire it."""
    allowed(write.who, "manage_ticket_fields")
    data = field.model_dump(mode="json")
    return write.answer(
        data,
        lambda: field_answer(write.desk.define_ticket_field(data=data, stamp=write.stamp()), 201),
    )


@router.patch("/{key}", response_model=TicketFieldOut, responses=PROBLEMS)
def revise_ticket_field(
    key: KeyPath, change: TicketFieldChange, write: TicketWrite
) -> JSONResponse:
    """Change a field's labels, options, required or archived flag (admins); tickets keep the
    values they were given."""
    allowed(write.who, "manage_ticket_fields")
    changes = change.model_dump(mode="json", exclude_none=True)
    return write.answer(
        changes,
        lambda: field_answer(
            write.desk.revise_ticket_field(
                key, changes=changes, stamp=write.stamp(), expected_revision=write.expected
            )
        ),
    )
