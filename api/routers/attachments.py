"""Attachments: upload a file (its own id, name and type), download it if you uploaded it
or may see a ticket that carries it. The rules a file obeys are :mod:`desk.uploads`'."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from api.answers import read_problems
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem, responses
from api.runtime import Runtime
from api.schemas.attachments import AttachmentOut
from desk.access import Principal
from domain.messages import Msg

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])


@router.post(
    "",
    status_code=201,
    response_model=AttachmentOut,
    responses=responses(
        {
            413: "File too large",
            415: "Type not accepted, or the bytes are not of the type sent",
            422: "Empty file",
        }
    ),
)
def upload_attachment(
    file: Annotated[UploadFile, File(description="The file to attach")],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    filename: Annotated[str | None, Form(max_length=1000)] = None,
) -> AttachmentOut:
    """Upload a file; attach it by ``id`` when filing or replying. Its name is kept as a
    clean base name; its bytes must be of the type sent."""
    allowed(who, "upload_attachment")
    uploads = runtime.uploads
    content = file.file.read(uploads.max_bytes + 1)  # over the limit is refused, unread
    stored = uploads.upload(
        data=content,
        filename=filename or file.filename or "",
        content_type=file.content_type or "",
        uploaded_by=who.id,
    )
    return AttachmentOut(
        id=stored.attachment_id,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
    )


@router.get(
    "/{attachment_id}",
    response_class=Response,
    responses=responses({404: "No such file visible to the caller"}, waits_for="ticket detail"),
)
def download_attachment(
    attachment_id: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    """The file, for its uploader and for whoever may see a ticket that carries it (as the
    ticket detail view knows it: pass ``min_position`` to wait for a write you made).
    Always a download (``attachment``), under the file's name, never sniffed."""
    allowed(who, "download_attachment")
    return download_answer(runtime, who, attachment_id, min_position)


def download_answer(
    runtime: Runtime, who: Principal, attachment_id: str, min_position: int | None = None
) -> Response:
    """The file as a download for ``who`` (its uploader, or one who may see a ticket that
    carries it); any other file is refused as one that does not exist. The API's route and
    the portal's both answer with it."""
    with read_problems():
        found = runtime.uploads.download(
            attachment_id,
            who,
            lambda: runtime.reads.attachment_listings(attachment_id, min_position),
        )
    if found is None:
        raise Problem(
            404,
            "unknown-attachment",
            Msg("No attachment {attachment_id} that you can see.", attachment_id=attachment_id),
        )
    return Response(
        found.content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=0",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` under the file's name: an ASCII stand-in for old clients, and the
    name itself in UTF-8 (RFC 6266, RFC 8187)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    return (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='!#$&+^`|')}"
    )
