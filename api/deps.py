"""Dependencies as ``Annotated`` aliases: the runtime, the caller, and write headers."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from api.problems import Problem
from api.runtime import Runtime
from desk.access import Principal, may_call
from domain.messages import Msg
from domain.stamp import Stamp

# Dependencies that never wait are ``async``: FastAPI runs a plain ``def`` dependency
# on the thread pool, a hop that costs more than the work of any of these.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def text_only_url(request: Request) -> None:
    """Refuse a path or query parameter holding a NUL character, on every route (a
    dependency of the app's): no text Docket keeps or looks up can hold one (PostgreSQL
    text cannot), so it is answered 422 naming the parameter before a route could hand it
    to SQL."""
    named = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in named:
        if "\x00" in name or "\x00" in str(value):
            field = name.replace("\x00", "") or "query"
            detail = Msg(
                "{field} holds a NUL character, which no Docket text can; "
                "remove it and send the request again.",
                field=field,
            )
            errors = [{"field": field, "message": detail}]
            raise Problem(422, "invalid-field", detail, errors=errors)


async def get_principal(
    request: Request, runtime: RuntimeDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    return await principal_of(request, runtime, authorization)


async def principal_of(request: Request, runtime: Runtime, authorization: str | None) -> Principal:
    """Whose the request's bearer token is (401 for none, or one unknown or revoked)."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Problem(
            401,
            "unauthenticated",
            Msg("Send your API token as 'Authorization: Bearer <token>'."),
            {"WWW-Authenticate": "Bearer"},
        )
    token = authorization.removeprefix("Bearer ").strip()
    # the token table on every request (no cache, so a revocation holds at once), off the
    # event loop: on asyncio's executor, a cheaper hop than anyio's thread pool (no
    # capacity limiter, no cancel scope), and nothing it runs needs the request's context
    principal = await asyncio.get_running_loop().run_in_executor(
        None, runtime.tokens.principal, token
    )
    if principal is None:
        raise Problem(
            401,
            "bad-token",
            Msg("This token is unknown, revoked or expired; ask a Docket admin for a new one."),
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    # what the request is refused with is said in the person's language from here on
    request.state.language = principal.language
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def allowed(principal: Principal, endpoint: str) -> Principal:
    if not may_call(principal, endpoint):
        raise Problem(
            403,
            "role-not-allowed",
            Msg(
                "The {role} role cannot do this ({endpoint}); see the role matrix.",
                role=principal.role,
                endpoint=endpoint,
            ),
        )
    return principal


ENTITY_TAG = re.compile(r'[\s,]*(?:(W/)?"([\x21\x23-\x7e\x80-\xff]*)"|(\*))\s*(?:,|$)')


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether a GET's ``If-None-Match`` matches the answer's ``etag`` (RFC 9110, 13.1.2):
    ``*``, or a list of tags any of which equals it by weak comparison (``W/"3"`` matches
    ``"3"``). A header that is not a list of tags matches nothing: the full answer."""
    if if_none_match is None:
        return False
    ours = etag.removeprefix("W/")
    position, text = 0, if_none_match.strip(" \t,")
    while position < len(text):
        match = ENTITY_TAG.match(text, position)
        if match is None or match.end() == position:
            return False
        if match.group(3) or f'"{match.group(2)}"' == ours:
            return True
        position = match.end()
    return False


IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')


async def get_expected_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = IF_MATCH.match(if_match)
    if match is None:
        raise Problem(
            400, "bad-if-match", Msg('If-Match takes the ticket version in quotes: "3".')
        )
    return int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(get_expected_version)]


async def get_idempotency_key(
    idempotency_key: Annotated[str | None, Header()] = None,
) -> str | None:
    if idempotency_key is None:
        return None
    if not 1 <= len(idempotency_key) <= 200 or not idempotency_key.isprintable():
        raise Problem(
            400, "bad-idempotency-key", Msg("Idempotency-Key is 1 to 200 printable characters.")
        )
    return idempotency_key


IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]


async def get_correlation_id(x_request_id: Annotated[str | None, Header()] = None) -> str:
    if x_request_id and len(x_request_id) <= 200 and x_request_id.isprintable():
        return x_request_id
    return str(uuid.uuid4())


CorrelationId = Annotated[str, Depends(get_correlation_id)]


def stamp_for(
    principal: Principal, correlation_id: str, causation_id: str | None, kind: str | None = None
) -> Stamp:
    return Stamp(
        actor_id=principal.id,
        actor_kind=kind or principal.actor_kind,
        via="api",
        at=datetime.now(UTC),
        correlation_id=correlation_id,
        causation_id=causation_id or "",
    )
