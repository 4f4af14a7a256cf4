"""The agents' console: the inbox, live, and a ticket worked from one page.

``/console`` is ``GET /v1/inbox`` as a page: the same query model and filter
(:mod:`api.inbox_filters`), the same read and the same rows (:func:`api.answers.ticket_page`),
for the same roles (the ``inbox`` key). ``?fragment=1`` answers the list alone, which
``console.js`` fetches again when ``/console/events`` tells it something happened.

``/console/events`` is a server-sent event stream of the ticket events after a log
position, read from the change feed's view as ``GET /v1/feed`` reads it: each event's
``id`` is its position, so a browser that reconnects (sending ``Last-Event-ID``) gets
exactly what came after the last one it saw. It tells only the event's kind and the
ticket's number, never a text: the page reads the rest through the inbox. It polls
the view from an async generator (a thread of the pool only for each short read),
sends a comment line as a heartbeat when quiet, and ends after :data:`STREAM_LIFETIME`
(the browser reconnects where it was).

``/console/tickets/{number}`` is the detail staff read (``GET /v1/tickets/{t}``, through
:func:`api.ticket_reads.visible_detail`) with one small form per change, each the desk call
its API route makes, carrying the version the page was rendered at.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api.answers import paging, read_problems, ticket_page
from api.deps import RuntimeDep
from api.inbox_filters import inbox_filter, query_of
from api.pages.templating import page
from api.pages.visitors import (
    IDLE,
    Asked,
    AskedPage,
    MessageForm,
    SignedIn,
    Visitor,
    may,
    page_reply,
    permitted,
    stamp_of,
    uploaded,
)
from api.problems import STATUS_OF, Problem, invalid_input
from api.routers.views import counted_views
from api.runtime import Runtime
from api.schemas.lists import TicketPage
from api.schemas.ticket_detail import TicketDetail
from api.ticket_reads import visible_detail
from api.writes import visible_ticket
from desk.answers import Receipt
from desk.service import SupportDesk
from domain import errors
from domain.messages import Msg, Text
from domain.ticket import TicketOwner
from domain.vocabulary import PRIORITIES, STATUSES, TICKET_TYPES

router = APIRouter(include_in_schema=False)

STREAM_LIFETIME = 600.0
"""Seconds one event stream lives; the browser then reconnects with ``Last-Event-ID``."""
HEARTBEAT = 15.0
"""Seconds of quiet after which the stream sends a comment line, so proxies keep it open."""
POLL = 0.5
"""Seconds between two looks at the feed's view while nothing is new."""
RETRY_MS = 2000
"""How long a browser waits before it reconnects a stream that ended."""
FEED_BATCH = 200
BREACHING_CHOICES = (60, 240, 1440)
"""The "due within" choices of the inbox's filters, in minutes."""


# --- the inbox -------------------------------------------------------------------------


def inbox_parameters(request: Request) -> dict[str, list[str]]:
    """The query string as the inbox reads it, without the page's own ``fragment`` and
    without the empty values a filter form sends for "any"."""
    return given(request.query_params.multi_items(), leaving=("fragment",))


def given(items: Iterable[tuple[str, str]], leaving: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """A query's parameters by name, each with every value it was given, without the
    empty values a filter form sends for "any" and the names ``leaving``."""
    kept: dict[str, list[str]] = {}
    for name, value in items:
        if name not in leaving and value != "":
            kept.setdefault(name, []).append(value)
    return kept


@dataclass
class InboxRead:
    found: TicketPage | None = None
    error: Text | None = None
    error_field: str = ""
    status: int = 200


def read_inbox(runtime: Runtime, visitor: Visitor, parameters: dict[str, list[str]]) -> InboxRead:
    """The inbox for these parameters, as ``GET /v1/inbox`` answers it; a refused filter or
    cursor is told back with the field it names."""
    who = visitor.signed_in
    try:
        query = query_of(parameters)
        with read_problems():
            where = inbox_filter(query, who, runtime.desk.ticket_fields)
            return InboxRead(ticket_page(runtime.reads.inbox(where, paging(query)), staff=True))
    except ValidationError as invalid:
        first = invalid.errors()[0]
        named = ".".join(str(p) for p in first["loc"][:1])
        return InboxRead(error=invalid_input(first), error_field=named, status=422)
    except Problem as refused:
        if refused.status not in (400, 422):
            raise
        fields = refused.extra.get("errors") or [{"field": ""}]
        return InboxRead(
            error=refused.detail, error_field=str(fields[0]["field"]), status=refused.status
        )


def page_link(parameters: dict[str, list[str]], **changes: str | None) -> str:
    """``/console`` with these parameters, some changed (``None`` drops one)."""
    merged = {k: list(v) for k, v in parameters.items() if k not in ("cursor", "min_position")}
    for name, value in changes.items():
        merged.pop(name, None)
        if value is not None:
            merged[name] = [value]
    query = urlencode([(k, v) for k, values in merged.items() for v in values])
    return "/console" + (f"?{query}" if query else "")


def agents_of(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The active agents of the support groups, once each, by name."""
    agents = {a["id"]: a for g in groups for a in g["agents"] if a["active"]}
    return sorted(agents.values(), key=lambda a: (a["name"], a["id"]))


@router.get("/console")
def inbox_page(request: Request, runtime: RuntimeDep, visitor: SignedIn) -> Response:
    permitted(visitor, "inbox")
    return inbox_response(request, runtime, visitor, inbox_parameters(request))


def inbox_response(
    request: Request,
    runtime: Runtime,
    visitor: Visitor,
    parameters: dict[str, list[str]],
    extra: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> Response:
    """The inbox page for these parameters, with ``extra`` (the saved views' form said
    back) and ``status_code`` over what the read says."""
    read = read_inbox(runtime, visitor, parameters)
    listed = {
        "inbox": read.found,
        "chosen": parameters,
        "link": lambda **changes: page_link(parameters, **changes),
    }
    if request.query_params.get("fragment") == "1":  # fetched again on each live event
        return page(request, visitor, "console_inbox_list.html", listed, status_code=read.status)
    groups = runtime.reads.groups()
    kept = filters_of(parameters)
    context = {
        **listed,
        "error": read.error,
        "error_field": read.error_field,
        "groups": groups,
        "agents": agents_of(groups),
        "breaching_choices": BREACHING_CHOICES,
        "views": saved_views_of(runtime, visitor, parameters),
        "view_query": urlencode([(k, v) for k, values in kept.items() for v in values]),
        "may_save_views": may(visitor, "saved_views"),
        "may_share_views": may(visitor, "share_view"),
        "view_name": "",
        "view_refusal": None,
        "view_refusal_form": "",
        **(extra or {}),
    }
    status = status_code or read.status
    return page(request, visitor, "console_inbox.html", context, status_code=status)


def saved_views_of(
    runtime: Runtime, visitor: Visitor, parameters: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The visitor's saved views and the shared ones, each with its count and its link
    (``GET /v1/inbox/views``'s read); the one whose filters are the page's is current."""
    if not may(visitor, "inbox_views"):
        return []
    chosen = filters_of(parameters)
    waited = (parameters.get("min_position") or [""])[-1]
    at = int(waited) if waited.isdigit() and len(waited) < 18 else None  # a view just saved
    counted, _ = counted_views(runtime, visitor.signed_in, at, visitor.language)
    return [
        {
            "view": count,
            "version": row["version"],
            "href": page_link(row["filters"]),
            "current": dict(row["filters"]) == chosen,
            "mine": row["owner_id"] is not None,
        }
        for row, count in counted
    ]


def filters_of(parameters: dict[str, list[str]]) -> dict[str, list[str]]:
    """The page's parameters a saved view keeps: its filters and order, not its place."""
    return {k: v for k, v in parameters.items() if k not in PAGE_PLACE}


PAGE_PLACE = ("cursor", "min_position", "fragment", "limit")


# --- the live stream -------------------------------------------------------------------

FeedRead = Callable[[int], Awaitable[tuple[list[dict[str, Any]], int]]]
"""Ticket events after a position, and the position read up to."""


def event_message(row: dict[str, Any]) -> str:
    """One event as the stream tells it: its position, its kind, its ticket's number."""
    data = json.dumps({"kind": row["kind"], "number": row["ticket_number"]})
    return f"id: {row['position']}\ndata: {data}\n\n"


async def console_events(
    read: FeedRead,
    after: int,
    first: tuple[list[dict[str, Any]], int] | None = None,
    *,
    lifetime: float = STREAM_LIFETIME,
    heartbeat: float = HEARTBEAT,
    poll: float = POLL,
    signed_in: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[str]:
    """The stream's text: every ticket event after ``after`` as it arrives, a heartbeat
    when quiet, for ``lifetime`` seconds (``first``: the first read, made already). Every
    ``heartbeat`` seconds, busy or quiet, it asks ``signed_in`` whether the session still
    holds, and ends when it does not: signing out, or being deactivated, stops the stream
    within a heartbeat's time."""
    yield f"retry: {RETRY_MS}\n\n"
    started = quiet_since = asked_at = time.monotonic()
    while True:
        if signed_in is not None and time.monotonic() - asked_at >= heartbeat:
            if not await signed_in():
                return
            asked_at = time.monotonic()
        rows, after = first if first is not None else await read(after)
        first = None
        for row in rows:
            yield event_message(row)
        now = time.monotonic()
        if rows:
            quiet_since = now
        elif now - quiet_since >= heartbeat:
            yield ": heartbeat\n\n"
            quiet_since = now
        if now - started >= lifetime:
            return
        if not rows:
            await asyncio.sleep(poll)


def ticket_events_after(runtime: Runtime, after: int) -> tuple[list[dict[str, Any]], int]:
    """The ticket events of the change feed after ``after`` (as an agent reads the feed),
    and the position read up to."""
    with read_problems():
        found, _ = runtime.reads.feed(
            after=after, limit=FEED_BATCH, with_staff_only=True, min_position=None
        )
    rows = [e for e in found.events if e["ticket_number"] and e["kind"].startswith("Ticket.")]
    return rows, found.next_after


def position_of(text: str | None, field: str) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 18:
        raise Problem(
            422,
            "invalid-field",
            Msg("{field} is a log position: a whole number from 0.", field=field),
            errors=[{"field": field, "message": Msg("a whole number from 0")}],
        )
    return int(text)


@router.get("/console/events")
async def console_stream(
    request: Request, runtime: RuntimeDep, visitor: SignedIn, after: str | None = None
) -> Response:
    permitted(visitor, "inbox")
    resumed = position_of(request.headers.get("last-event-id"), "Last-Event-ID")
    start = resumed if resumed is not None else position_of(after, "after") or 0

    async def read(position: int) -> tuple[list[dict[str, Any]], int]:
        return await run_in_threadpool(ticket_events_after, runtime, position)

    async def signed_in() -> bool:
        session = visitor.session or ""
        held = await run_in_threadpool(
            runtime.tokens.principal, session, kind="session", idle=IDLE
        )
        return held is not None

    first = await read(start)  # a position past the log is refused now, not mid-stream
    return StreamingResponse(
        console_events(read, start, first, signed_in=signed_in),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# --- a ticket --------------------------------------------------------------------------


@dataclass
class Refusal:
    """A form refused: which form, the field, what to say, what was typed, and the page's
    status (see :func:`refused_status`)."""

    form: str
    field: str
    message: Text
    typed: dict[str, str] = dataclasses.field(default_factory=dict)
    status: int = 422


def timeline(detail: TicketDetail) -> list[dict[str, Any]]:
    """Replies and internal notes in the order they were written."""
    entries = [{"note": False, "item": m} for m in detail.conversation]
    entries += [{"note": True, "item": n} for n in detail.internal_notes or []]
    return sorted(entries, key=lambda e: e["item"].position)


def ticket_page_for(
    asked: Asked,
    number: str,
    *,
    refusal: Refusal | None = None,
    min_position: int | None = None,
) -> Response:
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    detail = visible_detail(
        runtime,
        visitor.signed_in,
        number,
        lambda a: f"/support/files/{a}",  # the pages' download: a session, not a token
        min_position=min_position,
    )
    groups = runtime.reads.groups()
    context = {
        "ticket": detail,
        "timeline": timeline(detail),
        "files": {f.id: f for f in detail.attachments},
        "account": runtime.reads.account(detail.account.id),
        "requester": runtime.reads.person(detail.requester.id),
        "groups": groups,
        "agents": agents_of(groups),
        "statuses": STATUSES,
        "priorities": PRIORITIES,
        "types": TICKET_TYPES,
        "refusal": refusal,
        "done": request.query_params.get("done"),
    }
    status = refusal.status if refusal else 200
    return page(request, visitor, "console_ticket.html", context, status_code=status)


def staff_visitor(visitor: Visitor, number: str) -> Response | None:
    """Customers read their tickets in the portal: sent there whatever the number (so the
    answer says nothing of whether it exists); other roles need the inbox's."""
    principal = visitor.signed_in
    if principal.role in ("requester", "team_admin"):
        return RedirectResponse(f"/support/tickets/{number}", status_code=303)
    permitted(visitor, "inbox")
    return None


@router.get("/console/tickets/{number}")
def ticket(
    asked: AskedPage,
    number: str,
    min_position: int | None = None,
) -> Response:
    visitor = asked.visitor
    permitted(visitor, "ticket_detail")
    elsewhere = staff_visitor(visitor, number)
    if elsewhere is not None:
        return elsewhere
    return ticket_page_for(asked, number, min_position=min_position)


def version_of(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 18 else None


def refused_status(error: errors.DocketError) -> int:
    """A conflict (another change got there first, or the ticket's state refuses it) is
    409; anything else about what was typed, 422."""
    status = next((s for cls, s in STATUS_OF.items() if isinstance(error, cls)), 409)
    return 409 if status in (409, 412) else 422


def refusal_of(form: str, error: errors.DocketError, typed: dict[str, str]) -> Refusal:
    message: Text = error.message
    if isinstance(error, errors.VersionMismatch):  # names no field
        message = Msg(
            "Someone changed this ticket meanwhile: read it again below, then send your "
            "change again if it still holds."
        )
    return Refusal(form, getattr(error, "field", ""), message, typed, refused_status(error))


VersionField = Annotated[str, Form()]


@dataclass(frozen=True)
class Posted(Asked):
    """A console form that changes a record, as posted (by a signed-in visitor, its CSRF
    token checked), with the version of the record the page was rendered at (``None`` if
    not sent)."""

    version: int | None


def posted_form(asked: AskedPage, version: VersionField = "") -> Posted:
    return Posted(asked.request, asked.runtime, asked.visitor, version_of(version))


PostedForm = Annotated[Posted, Depends(posted_form)]


def work(
    posted: Posted,
    number: str,
    endpoint: str,
    form: str,
    typed: dict[str, str],
    change: Callable[[TicketOwner], Receipt],
) -> Response:
    """One change from a form of the ticket page: authorised by the API's key for it, on a
    ticket the visitor may see, by the desk; Post/Redirect/Get on success, the page again
    with the refusal by its form otherwise."""
    runtime, visitor = posted.runtime, posted.visitor
    permitted(visitor, endpoint)
    elsewhere = staff_visitor(visitor, number)
    if elsewhere is not None:
        return elsewhere
    owner = visible_ticket(runtime, visitor.signed_in, number)
    try:
        receipt = change(owner)
    except errors.Busy:
        raise
    except errors.DocketError as error:
        refusal = refusal_of(form, error, typed)
        return ticket_page_for(posted, number, refusal=refusal)
    target = f"/console/tickets/{receipt.number}?min_position={receipt.position}&done={form}"
    return RedirectResponse(target, status_code=303)


Files = list[UploadFile] | None
Written = Callable[[Runtime, Visitor, TicketOwner, str, Files, int | None], Receipt]
"""A text with its files written on a ticket: the runtime, the writer, the ticket, the
text, the files and the version the page was rendered at."""


def internal_note(
    runtime: Runtime,
    visitor: Visitor,
    owner: TicketOwner,
    body: str,
    files: Files,
    expected_version: int | None,
) -> Receipt:
    """An internal note with its files (staff only, as the note is), as the reply's form
    takes them."""
    return runtime.desk.add_internal_note(
        owner.ticket_id,
        author_id=visitor.signed_in.id,
        body=body,
        attachments=uploaded(runtime, visitor, files or []),
        stamp=stamp_of(visitor),
        expected_version=expected_version,
    )


WRITTEN_FORMS: dict[str, tuple[str, Written]] = {
    "reply": ("add_message", page_reply),
    "note": ("add_internal_note", internal_note),
}
"""The ticket page's forms of a text and its files: the form, the API's key for the
write, and the write."""


def written_form(form: str, endpoint: str, write: Written) -> None:
    """``POST /console/tickets/{number}/<form>``: the form's text and files written on the
    ticket, at the version the page was rendered at."""

    def post(posted: PostedForm, number: str, sent: MessageForm) -> Response:
        def change(owner: TicketOwner) -> Receipt:
            return write(
                posted.runtime, posted.visitor, owner, sent.body, sent.files, posted.version
            )

        return work(posted, number, endpoint, form, {"body": sent.body}, change)

    post.__name__ = form
    router.post(f"/console/tickets/{{number}}/{form}")(post)


for _form, (_endpoint, _write) in WRITTEN_FORMS.items():
    written_form(_form, _endpoint, _write)


class Assignment(BaseModel):
    """The assignment form: the agent (``me``: the visitor; empty: no one) and the group
    (empty: none)."""

    agent: str = ""
    group: str = ""


@router.post("/console/tickets/{number}/assignment")
def assignment(posted: PostedForm, number: str, sent: Annotated[Assignment, Form()]) -> Response:
    agent_id = posted.visitor.signed_in.id if sent.agent == "me" else sent.agent or None
    return work(
        posted,
        number,
        "assign",
        "assignment",
        sent.model_dump(),
        lambda owner: posted.runtime.desk.assign(
            owner.ticket_id,
            agent_id=agent_id,
            group=sent.group or None,
            stamp=stamp_of(posted.visitor),
            expected_version=posted.version,
        ),
    )


ONE_VALUE_CHANGES: dict[str, tuple[str, Callable[..., Receipt]]] = {
    "status": ("change_status", SupportDesk.change_status),
    "priority": ("change_priority", SupportDesk.change_priority),
    "type": ("change_type", SupportDesk.change_type),
    "product": ("change_product", SupportDesk.change_product),
}
"""The ticket page's forms of one value: the form (its field, and the desk's keyword
``to_<form>``), the API's key for the change, and the desk's use case that makes it."""


def one_value_change(form: str, endpoint: str, use_case: Callable[..., Receipt]) -> None:
    """``POST /console/tickets/{number}/<form>``: the desk's change with the form's one
    value, at the version the page was rendered at."""

    def change(posted: PostedForm, number: str, value: Annotated[str, Form()] = "") -> Response:
        return work(
            posted,
            number,
            endpoint,
            form,
            {form: value},
            lambda owner: use_case(
                posted.runtime.desk,
                owner.ticket_id,
                stamp=stamp_of(posted.visitor),
                expected_version=posted.version,
                **{f"to_{form}": value},
            ),
        )

    change.__name__ = f"change_{form}"
    router.post(f"/console/tickets/{{number}}/{form}")(change)


for _form, (_endpoint, _call) in ONE_VALUE_CHANGES.items():
    one_value_change(_form, _endpoint, _call)
