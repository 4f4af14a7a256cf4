"""Who is looking at a page: a signed-in person's session, their language, and CSRF.

**Sessions.** Signing in (``api/pages/sign_in.py``) issues a token of kind ``session`` in
the same table as API tokens (``api/tokens.py``), sent as the cookie ``docket_session``:
``HttpOnly``, ``SameSite=Lax``, ``Secure`` when Docket is reached over HTTPS. So a session
ends everywhere a token does: signing out revokes it, a deactivated staff member's or a
removed member's stops at once, a demoted team admin is a requester on the next page. It
expires after :data:`IDLE` without use and :data:`LIFETIME` after signing in, whichever
comes first. A session cookie is never an API token and an API token never a session.

**CSRF.** Every form a page sends (and every htmx request, in ``X-CSRF-Token``) carries
an HMAC of the session's secret under the server's sign-in secret (prefixed ``csrf``, so
it is never a sign-in link's HMAC); a POST without the right one is refused (403) and
changes nothing. ``SameSite=Lax`` already keeps the cookie
off other sites' posts; the token holds where that is not enough (an old browser, a
sibling subdomain).

**Language.** A signed-in person reads pages in their own language (their settings);
anyone else in the one they chose on the page (the ``docket_language`` cookie), else the
best of ``Accept-Language``, else English.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep, allowed
from api.runtime import Runtime
from desk.access import Principal, author_role, may_call
from desk.answers import AttachmentRef, Receipt
from domain.attachments import served_type
from domain.stamp import Stamp
from domain.ticket import TicketOwner
from languages import known, negotiate
from projections import directory
from projections.kit import Tables

SESSION_COOKIE = "docket_session"
LANGUAGE_COOKIE = "docket_language"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
IDLE = timedelta(hours=2)
"""A session unused this long is over."""
LIFETIME = timedelta(hours=12)
"""A session is over this long after signing in, however much it is used."""


@dataclass(frozen=True)
class Visitor:
    """A person on a page: who (``None`` when not signed in), in which language and time
    zone, and the CSRF token their forms carry."""

    principal: Principal | None
    language: str
    time_zone: str | None
    csrf: str
    session: str | None = None

    @property
    def signed_in(self) -> Principal:
        assert self.principal is not None
        return self.principal


class SignInNeeded(Exception):
    """The page needs a signed-in person: answered by a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form posted without its CSRF token (or with another session's)."""


def csrf_token(secret: bytes, session: str) -> str:
    return hmac.new(secret, b"csrf\0" + session.encode(), hashlib.sha256).hexdigest()[:40]


def chosen_language(request: Request) -> str:
    return (
        known(request.cookies.get(LANGUAGE_COOKIE))
        or negotiate(request.headers.get("accept-language"))
        or "en"
    )


async def get_visitor(request: Request, runtime: RuntimeDep) -> Visitor:
    """The visitor, signed in or not (a session expired or revoked is not signed in)."""
    session = request.cookies.get(SESSION_COOKIE)
    principal: Principal | None = None
    time_zone: str | None = None
    if session:
        principal = await run_in_threadpool(
            runtime.tokens.principal, session, kind="session", idle=IDLE
        )
        if principal is not None:
            time_zone = await run_in_threadpool(person_time_zone, runtime, principal.id)
    if principal is None:
        session = None
    language = known(principal.language) if principal else None
    language = language or chosen_language(request)
    request.state.language = language  # a refusal on the page is said in it too
    visitor = Visitor(
        principal=principal,
        language=language,
        time_zone=time_zone,
        csrf=csrf_token(runtime.sign_ins.secret, session) if session else "",
        session=session,
    )
    request.state.visitor = visitor  # a refusal page shows the same header
    return visitor


def person_time_zone(runtime: RuntimeDep, person_id: str) -> str | None:
    with runtime.pool.connection() as conn:
        row = conn.execute(
            f"SELECT time_zone FROM {Tables(runtime.settings.schema_name)(directory.PEOPLE)} "
            "WHERE person_id = %s",
            (person_id,),
        ).fetchone()
    return str(row[0]) if row and row[0] else None


async def get_signed_in(
    request: Request, visitor: Annotated[Visitor, Depends(get_visitor)]
) -> Visitor:
    """A signed-in visitor; anyone else is sent to sign in, and back here afterwards. A
    POST must carry the session's CSRF token."""
    if visitor.principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target if request.method == "GET" else "/")
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not sent or not hmac.compare_digest(sent, visitor.csrf):
            raise CsrfRefused()
    return visitor


VisitorDep = Annotated[Visitor, Depends(get_visitor)]
SignedIn = Annotated[Visitor, Depends(get_signed_in)]


@dataclass(frozen=True)
class Asked:
    """A page asked for by a signed-in visitor: the request, the runtime that answers it
    and who asks, handed together to what builds the page."""

    request: Request
    runtime: Runtime
    visitor: Visitor


def asking(request: Request, runtime: RuntimeDep, visitor: SignedIn) -> Asked:
    return Asked(request, runtime, visitor)


AskedPage = Annotated[Asked, Depends(asking)]


class Message(BaseModel):
    """The form of a text and its files: a reply (the portal's, the console's) or an
    internal note."""

    body: str = ""
    files: list[UploadFile] | None = None


MessageForm = Annotated[Message, Form()]


def may(visitor: Visitor, endpoint: str) -> bool:
    """Whether the visitor's role reaches ``endpoint`` in the role matrix (the API's keys)."""
    return visitor.principal is not None and may_call(visitor.principal, endpoint)


def permitted(visitor: Visitor, endpoint: str) -> Visitor:
    """The visitor, if the role matrix lets them reach ``endpoint``; else the API's own
    403 refusal (shown as a page to a browser)."""
    if visitor.principal is None:
        raise SignInNeeded("/")
    allowed(visitor.principal, endpoint)
    return visitor


def stamp_of(visitor: Visitor, kind: str | None = None) -> Stamp:
    """What a page's write is stamped with: the signed-in person, now, via the web; each
    request its own correlation id."""
    principal = visitor.signed_in
    return Stamp(
        actor_id=principal.id,
        actor_kind=kind or principal.actor_kind,
        via="web",
        at=datetime.now(UTC),
        correlation_id=uuid.uuid4().hex,
    )


def uploaded(
    runtime: Runtime, visitor: Visitor, files: list[UploadFile] | None
) -> list[AttachmentRef]:
    """The files a form carries, each checked and kept as the visitor's upload (``POST
    /v1/attachments``'s rules); a file input left empty sends a part with no name, which is
    no file. A browser names a file's type from its extension, and a person cannot choose
    it: a type Docket does not take (``text/x-log``, a Word document) is kept as
    ``application/octet-stream``, which is only ever downloaded."""
    uploads = runtime.uploads
    return [
        uploads.upload(
            data=part.file.read(uploads.max_bytes + 1),
            filename=part.filename,
            content_type=served_type(part.content_type or ""),
            uploaded_by=visitor.signed_in.id,
        )
        for part in files or []
        if part.filename
    ]


def page_reply(
    runtime: Runtime,
    visitor: Visitor,
    owner: TicketOwner,
    body: str,
    files: list[UploadFile] | None,
    expected_version: int | None = None,
) -> Receipt:
    """A public reply from the portal or the console, as ``POST /v1/tickets/{t}/messages``
    makes it: shown as the writer's role on the ticket (requester, collaborator, CC or
    agent), with the files of the form."""
    who = visitor.signed_in
    role = author_role(who, owner)
    return runtime.desk.add_message(
        owner.ticket_id,
        author_id=who.id,
        author_role=role,
        body=body,
        attachments=uploaded(runtime, visitor, files),
        stamp=stamp_of(visitor, role if role in ("collaborator", "cc") else None),
        expected_version=expected_version,
    )


def sign_in_path(next_path: str) -> str:
    return "/sign-in?next=" + quote(next_path, safe="/")
