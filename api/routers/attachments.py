"""Attachments: upload once (content-addressed), download if you may see a ticket with it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from api.answers import read_problems
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem
from api.schemas.attachments import AttachmentOut
from desk.access import may_see_ticket
from store.attachments import ALLOWED_CONTENT_TYPES

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])


@router.post(
    "",
    status_code=201,
    response_model=AttachmentOut,
    responses={413: {"description": "File too large"}, 415: {"description": "Type not accepted"}},
)
def upload_attachment(
    file: Annotated[UploadFile, File(description="The file to attach")],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    filename: Annotated[str | None, Form(max_length=200)] = None,
) -> AttachmentOut:
    """Upload a file; attach it by ``id`` when filing or replying."""
    allowed(who, "upload_attachment")
    content_type = (file.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise Problem(
            415,
            "unsupported-attachment-type",
            f"{content_type} files are not accepted; send one of "
            + ", ".join(sorted(ALLOWED_CONTENT_TYPES)),
        )
    limit = runtime.settings.max_attachment_bytes
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise Problem(413, "attachment-too-large", f"Attachments are at most {limit} bytes.")
    raw_name = filename or file.filename or "attachment"
    name = "".join(ch for ch in raw_name if ch.isprintable()).strip()[:200] or "attachment"
    stored = runtime.attachments.put(content, name, content_type, who.id)
    return AttachmentOut(
        id=stored.attachment_id, filename=name, content_type=content_type, size=stored.size
    )


@router.get(
    "/{attachment_id}", response_class=Response, responses={404: {"description": "Not visible"}}
)
def download_attachment(
    attachment_id: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    """The file, for its uploader and for whoever may see a ticket that carries it (as the
    ticket detail view knows it: pass ``min_position`` to wait for a write you made)."""
    allowed(who, "download_attachment")
    visible = runtime.attachments.uploaded_by(attachment_id, who.id)
    if not visible:
        with read_problems():
            owners = runtime.reads.attachment_owners(attachment_id, min_position)
        visible = any(may_see_ticket(who, owner) for owner in owners)
    stored = runtime.attachments.content(attachment_id) if visible else None
    if stored is None:
        raise Problem(
            404, "unknown-attachment", f"No attachment {attachment_id} that you can see."
        )
    content_type, content = stored
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachment_id}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=0",
        },
    )
