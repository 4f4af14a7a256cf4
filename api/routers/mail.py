"""Email: what goes out (the outbox), what comes in (a gateway's posts), what was refused."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.answers import read_problems
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem, responses
from api.schemas.mail import (
    InboundAnswer,
    OutboxPage,
    OutboxQuery,
    OutgoingMail,
    RejectedMail,
    RejectedMailPage,
    RejectedMailQuery,
)
from domain.messages import Msg

router = APIRouter(tags=["email"])

PROBLEMS = responses({422: "Invalid parameter"}, waits_for="outbox")


@router.get("/v1/admin/outbox", response_model=OutboxPage, responses=PROBLEMS)
def outbox(
    query: Annotated[OutboxQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> OutboxPage:
    """Notification emails, newest first, with their delivery state: ``queued`` (no mail
    server set, or not yet picked up), ``sent``, ``retry`` (the server refused for now),
    ``failed`` (refused for good), ``expired`` (too old when first picked up) or
    ``withheld`` (each of its recipients was a CC removed before it was sent)."""
    allowed(who, "outbox")
    with read_problems():
        rows = runtime.reads.outbox(
            runtime.mail,
            state=query.state,
            ticket=query.ticket,
            limit=query.limit + 1,
            before=query.before,
            min_position=query.min_position,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return OutboxPage(
        emails=[OutgoingMail(**{k: row[k] for k in OutgoingMail.model_fields}) for row in rows],
        next_before=rows[-1]["position"] if more else None,
        sending=runtime.settings.smtp_url is not None,
    )


MAIL_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")


@router.post(
    "/v1/inbound/email",
    response_model=InboundAnswer,
    status_code=200,
    responses={
        201: {"model": InboundAnswer, "description": "A new ticket was filed from the email"},
        401: {"description": "No or bad token"},
        403: {"description": "Not a mail gateway's token"},
        413: {
            "description": "The email is larger than the upload limit; its first bytes are "
            "kept in the rejected list"
        },
        415: {"description": "Not a raw email"},
        422: {"description": "Refused (reason given); the email is kept in the rejected list"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def inbound_email(
    request: Request, who: CurrentPrincipal, runtime: RuntimeDep, response: Response
) -> InboundAnswer:
    """A raw RFC 5322 email, as a mail gateway received it for the support address. A
    reply goes into its ticket (200), a new email from a member of a paid account files a
    ticket (201); anything else is refused with a reason and kept in the rejected list.
    The same message posted again answers the same, with ``duplicate`` true."""
    allowed(who, "inbound_email")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in MAIL_TYPES:
        raise Problem(
            415,
            "unsupported-media-type",
            Msg(
                "Post the raw email as message/rfc822 (or {names}).",
                names=", ".join(MAIL_TYPES[1:]),
            ),
        )
    limit = runtime.settings.max_upload_bytes
    raw, size = await bounded_body(request, limit)
    if size > limit:
        await run_in_threadpool(runtime.intake.keep_too_large, raw, size)
        raise Problem(
            413,
            "body-too-large",
            Msg(
                "The email is larger than {limit} bytes; its first {limit} bytes are "
                "kept among the rejected mail. Ask the sender to send large files as a "
                "link.",
                limit=limit,
            ),
        )
    taken = await run_in_threadpool(runtime.intake.take, raw)
    if taken.action == "filed" and not taken.duplicate:
        response.status_code = 201
    return InboundAnswer.model_validate({**dataclasses.asdict(taken), "id": taken.ticket_id})


async def bounded_body(request: Request, limit: int) -> tuple[bytes, int]:
    """At most ``limit`` bytes of the body, and how large it is (or says it is) at least:
    reading stops one chunk past the limit."""
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else 0
    chunks: list[bytes] = []
    seen = 0
    if size <= limit:
        async for chunk in request.stream():
            chunks.append(chunk)
            seen += len(chunk)
            if seen > limit:
                break
    else:  # said too large: keep what fits, read no further
        async for chunk in request.stream():
            chunks.append(chunk[: limit - seen])
            seen += len(chunk)
            if seen >= limit:
                break
    return b"".join(chunks)[:limit], max(size, seen)


@router.get("/v1/admin/rejected-mail", response_model=RejectedMailPage, responses=PROBLEMS)
def rejected_mail(
    query: Annotated[RejectedMailQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> RejectedMailPage:
    """Inbound email that went into no ticket, newest first, with the reason."""
    allowed(who, "rejected_mail")
    rows = runtime.intake.rejected(limit=query.limit + 1, before=query.before)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return RejectedMailPage(
        emails=[RejectedMail(**row) for row in rows],
        next_before=rows[-1]["rejected_id"] if more else None,
    )


@router.get(
    "/v1/admin/rejected-mail/{rejected_id}/raw",
    response_class=Response,
    responses={**PROBLEMS, 200: {"content": {"message/rfc822": {}}}, 404: {}},
)
def rejected_mail_raw(
    rejected_id: Annotated[int, Path(ge=1, le=2**62)], who: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The rejected email exactly as the gateway posted it."""
    allowed(who, "rejected_mail")
    raw = runtime.intake.rejected_raw(rejected_id)
    if raw is None:
        raise Problem(
            404, "not-found", Msg("No rejected email {rejected_id}.", rejected_id=rejected_id)
        )
    return Response(
        raw,
        media_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="rejected-{rejected_id}.eml"',
            "X-Content-Type-Options": "nosniff",
        },
    )
