"""Every refusal as RFC 9457 ``application/problem+json``, with a stable ``type``.

Each domain error class maps to one status and one type URI (its ``code``);
validation errors name the offending field; nothing a client sends turns into
a 500. The ``title`` and ``detail`` are in the reader's language (:func:`language_of`:
the caller's own, else ``Accept-Language``, else English), said in ``Content-Language``;
the ``type`` is the same in every language.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import MapperDeserialisationError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain import errors
from domain.messages import Msg, Text
from languages import ENGLISH, known, negotiate, render

PROBLEM_BASE = "https://docket.example/problems/"
PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("docket.api")

STATUS_OF: dict[type[errors.DocketError], int] = {
    errors.InvalidField: 422,
    errors.MailRefused: 422,
    errors.MailUnreadable: 422,
    errors.PlanNotEntitled: 403,
    errors.NotAMember: 403,
    errors.StaffOnly: 403,
    errors.UnknownAccount: 404,
    errors.UnknownTicket: 404,
    errors.UnknownMacro: 404,
    errors.SharedMacroAdminOnly: 403,
    errors.NotYetFiled: 404,
    errors.UnknownStaff: 404,
    errors.UnknownTicketField: 404,
    errors.UnknownGroup: 404,
    errors.NotAnAgent: 422,
    errors.StaffDeactivated: 409,
    errors.TicketClosed: 409,
    errors.TicketDamaged: 409,
    errors.TicketNotClosed: 409,
    errors.ReopenWindowPassed: 409,
    errors.StatusUnchanged: 409,
    errors.StatusChangeNotAllowed: 409,
    errors.PriorityUnchanged: 409,
    errors.NothingChanged: 409,
    errors.AlreadyExists: 409,
    errors.SeatsExhausted: 409,
    errors.PremiumNotAvailable: 409,
    errors.NoCallbackToMake: 409,
    errors.TicketMerged: 409,
    errors.MergeIntoItself: 422,
    errors.MergeAcrossAccounts: 422,
    errors.MergeTargetClosed: 409,
    errors.VersionMismatch: 412,
    errors.Busy: 503,
    errors.UnknownArticle: 404,
    errors.ArticleWithdrawn: 409,
    errors.UnknownHelpSession: 404,
    errors.UnknownContactRequest: 404,
    errors.ContactAlreadyATicket: 409,
    errors.ContactNotFileable: 409,
    errors.TooManyContactRequests: 429,
    # administration: the first admin and API tokens
    errors.AdminAlreadyExists: 409,
    errors.UnknownPerson: 404,
    errors.UnknownToken: 404,
    # saved views of the inbox
    errors.UnknownSavedView: 404,
    errors.SharedViewsForAdmins: 403,
    # satisfaction surveys
    errors.SurveyLinkInvalid: 404,
    errors.SurveyLinkExpired: 410,
    errors.SurveyAlreadyAnswered: 409,
    errors.SurveyNoLongerOpen: 409,
    # files on tickets
    errors.UnsupportedAttachmentType: 415,
    errors.AttachmentContentMismatch: 415,
    errors.AttachmentTooLarge: 413,
    errors.EmptyAttachment: 422,
    errors.AttachmentRefused: 422,
    # CCs of a ticket
    errors.TooManyCcs: 409,
    errors.UnknownCc: 404,
    errors.NotCopied: 403,
    # time-based automations
    errors.UnknownAutomation: 404,
}

TITLES = {
    400: Msg("Bad request"), 401: Msg("Unauthorized"), 403: Msg("Forbidden"),
    404: Msg("Not found"), 405: Msg("Method not allowed"), 409: Msg("Conflict"),
    410: Msg("Gone"), 412: Msg("Precondition failed"), 413: Msg("Content too large"),
    415: Msg("Unsupported media type"), 422: Msg("Unprocessable content"),
    428: Msg("Precondition required"), 429: Msg("Too many requests"),
    500: Msg("Internal server error"), 503: Msg("Service unavailable"),
}  # fmt: skip


Responses = dict[int | str, dict[str, Any]]
"""A route's ``responses=``: what each status it may answer means, for the OpenAPI document."""


def responses(meanings: dict[int, str], waits_for: str | None = None) -> Responses:
    """The problems a route may answer: ``meanings`` over the two every route shares (401,
    and 403 for a role not allowed); ``waits_for`` names the view a read waits for (503)."""
    table = {401: "No or bad token", 403: "Role not allowed", **meanings}
    if waits_for is not None:
        table[503] = f"The {waits_for} has not reached min_position yet; retry"
    return {status: {"description": table[status]} for status in sorted(table)}


def language_of(request: Request) -> str:
    """The language a request is answered in: the caller's own (their token's person, set on
    ``request.state.language`` once the token is read), else the best of ``Accept-Language``,
    else English."""
    return (
        known(getattr(request.state, "language", None))
        or negotiate(request.headers.get("accept-language"))
        or ENGLISH
    )


def rendered(value: Any, language: str) -> Any:
    """``value`` with every :class:`Msg` in it (in lists and dicts too) said in ``language``."""
    if isinstance(value, Msg):
        return render(value, language)
    if isinstance(value, dict):
        return {key: rendered(item, language) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rendered(item, language) for item in value]
    return value


class Problem(Exception):
    """A refusal raised by the ways in (auth, headers, uploads)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: Text,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(detail))
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(
    status: int, code: str, detail: Text, language: str = ENGLISH, **extra: Any
) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + code,
        "title": render(TITLES.get(status, Msg("Error")), language),
        "status": status,
        "detail": render(detail, language),
        **rendered(extra, language),
    }


def problem(
    status: int,
    code: str,
    detail: Text,
    headers: dict[str, str] | None = None,
    *,
    language: str = ENGLISH,
    **extra: Any,
) -> JSONResponse:
    response = JSONResponse(
        problem_body(status, code, detail, language, **extra),
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=headers,
    )
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return response


def refusal_status(error: errors.DocketError) -> int:
    """The HTTP status a refusal of the desk's is answered with (409 unless listed)."""
    return next((s for cls, s in STATUS_OF.items() if isinstance(error, cls)), 409)


def domain_problem(error: errors.DocketError, language: str = ENGLISH) -> JSONResponse:
    status = refusal_status(error)
    extra: dict[str, Any] = {}
    if isinstance(error, errors.InvalidField):
        extra["errors"] = [{"field": error.field, "message": error.message}]
    if isinstance(error, errors.VersionMismatch):
        extra["current_version"] = error.actual
    if isinstance(error, errors.VersionNotReached):
        extra["last_version"] = error.last
    detail = error.message
    if isinstance(error, errors.MailRefused):
        extra["reason"], detail = error.answered
    if isinstance(error, errors.AttachmentRefused):
        extra["filename"] = error.filename
    if isinstance(error, errors.AttachmentContentMismatch):
        extra["found"] = error.found
    response = problem(status, error.code, detail, language=language, **extra)
    if isinstance(error, errors.Busy):
        response.headers["Retry-After"] = "1"
    if isinstance(error, errors.TooManyContactRequests):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def logged_problem(
    what: str, status: int, code: str, detail: Msg, headers: dict[str, str] | None = None
) -> Callable[[Request, Exception], JSONResponse]:
    """A handler for errors that are no fault of the request: it logs ``what`` happened on
    which request, and answers the one problem they all get."""

    def handler(request: Request, error: Exception) -> JSONResponse:
        log.warning("%s on %s %s: %s", what, request.method, request.url.path, error)
        return problem(status, code, detail, headers, language=language_of(request))

    return handler


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DocketError)
    def on_domain_error(request: Request, error: errors.DocketError) -> JSONResponse:
        return domain_problem(error, language_of(request))

    @app.exception_handler(Problem)
    def on_problem(request: Request, error: Problem) -> JSONResponse:
        return problem(
            error.status,
            error.code,
            error.detail,
            error.headers,
            language=language_of(request),
            **error.extra,
        )

    # stored events that do not read back (bytes edited, a version removed): the
    # database was changed by someone other than Docket; say so, not "internal"
    on_damaged_record = logged_problem(
        "damaged stored events",
        409,
        "record-damaged",
        Msg(
            "The stored events of what this request reads do not read back: they were "
            "changed by someone other than Docket. Nothing was written. An auditor sees "
            "what was damaged with `docket replay verify` or GET /v1/audit/verify."
        ),
    )
    app.add_exception_handler(MapperDeserialisationError, on_damaged_record)
    app.add_exception_handler(OriginatorVersionError, on_damaged_record)

    @app.exception_handler(RequestValidationError)
    def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        fields: list[dict[str, Any]] = []
        for e in error.errors():
            location = [str(p) for p in e.get("loc", ()) if p != "body"]
            if e.get("type") == "json_invalid":
                location = []
            fields.append({"field": ".".join(location) or "body", "message": invalid_input(e)})
        first = fields[0] if fields else {"field": "body", "message": Msg("invalid")}
        return problem(
            422,
            "invalid-request",
            Msg(
                "{field}: {message}. Fix the request and send it again.",
                field=first["field"],
                message=first["message"],
            ),
            language=language_of(request),
            errors=fields,
        )

    @app.exception_handler(StarletteHTTPException)
    def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}
        code = codes.get(error.status_code, "http-error")
        return problem(
            error.status_code,
            code,
            http_detail(error),
            getattr(error, "headers", None),
            language=language_of(request),
        )

    # a database that does not answer (the primary, or the standby reads are answered
    # from), or a query it cancelled to be retried (a standby replaying a change that
    # conflicts with it): worth retrying in a moment, not an error of Docket's
    on_database_away = logged_problem(
        "database unavailable",
        503,
        "database-unavailable",
        Msg(
            "The database did not answer this request; retry in a moment (a write "
            "retried with its Idempotency-Key is made once)."
        ),
        {"Retry-After": "1"},
    )
    app.add_exception_handler(PoolTimeout, on_database_away)
    app.add_exception_handler(psycopg.OperationalError, on_database_away)
    app.add_exception_handler(psycopg.errors.TransactionRollback, on_database_away)

    @app.exception_handler(Exception)
    def on_crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "internal",
            Msg("Docket failed to answer; the request may be retried."),
            language=language_of(request),
        )


def http_detail(error: StarletteHTTPException) -> Text:
    """What Starlette's own refusals say: a route or method that is not there, in words."""
    if isinstance(error, _TooLarge):
        return error.message
    if error.status_code == 404:
        return Msg("There is nothing at this address; see GET /docs for the API's routes.")
    if error.status_code == 405:
        return Msg("This address does not take that method; see the Allow header, or GET /docs.")
    return str(error.detail)


PYDANTIC_MESSAGES: dict[str, Msg] = {
    "missing": Msg("this field is required"),
    "extra_forbidden": Msg("this field is not one the request takes"),
    "json_invalid": Msg("the body is not valid JSON ({error})"),
    "json_type": Msg("the body must be a JSON document"),
    "model_attributes_type": Msg("this must be a JSON object"),
    "dict_type": Msg("this must be a JSON object"),
    "list_type": Msg("this must be a list"),
    "string_type": Msg("this must be a string"),
    "string_too_short": Msg("this must have at least {min_length} characters"),
    "string_too_long": Msg("this must have at most {max_length} characters"),
    "string_pattern_mismatch": Msg("this must match the pattern {pattern}"),
    "too_short": Msg("this must have at least {min_length} items"),
    "too_long": Msg("this must have at most {max_length} items"),
    "int_type": Msg("this must be a whole number"),
    "int_parsing": Msg("this must be a whole number"),
    "int_from_float": Msg("this must be a whole number"),
    "float_type": Msg("this must be a number"),
    "float_parsing": Msg("this must be a number"),
    "bool_type": Msg("this must be true or false"),
    "bool_parsing": Msg("this must be true or false"),
    "greater_than": Msg("this must be greater than {gt}"),
    "greater_than_equal": Msg("this must be at least {ge}"),
    "less_than": Msg("this must be less than {lt}"),
    "less_than_equal": Msg("this must be at most {le}"),
    "literal_error": Msg("this must be one of {expected}"),
    "enum": Msg("this must be one of {expected}"),
    "uuid_type": Msg("this must be a UUID"),
    "uuid_parsing": Msg("this must be a UUID, such as 0b7c5f7e-8f0a-4d51-9a8e-6d1b2a3c4d5e"),
    "datetime_type": Msg("this must be a date and time"),
    "datetime_parsing": Msg(
        "this must be a date and time in ISO 8601, such as 2026-03-01T09:30:00Z"
    ),
    "datetime_from_date_parsing": Msg(
        "this must be a date and time in ISO 8601, such as 2026-03-01T09:30:00Z"
    ),
    "timezone_aware": Msg("this date and time must give its offset, such as Z or +01:00"),
    "date_type": Msg("this must be a date"),
    "date_parsing": Msg("this must be a date in ISO 8601, such as 2026-03-01"),
    "date_from_datetime_parsing": Msg("this must be a date in ISO 8601, such as 2026-03-01"),
    "url_parsing": Msg("this must be a URL"),
    "value_error": Msg("this value is not valid ({error})"),
}
"""The pydantic error types a request meets, as templates over their ``ctx``."""


def invalid_input(error: Any) -> Text:
    """A pydantic error in the reader's words: its type's template over its context, or
    (a type not listed) pydantic's own English message."""
    template = PYDANTIC_MESSAGES.get(str(error.get("type", "")))
    context = error.get("ctx") or {}
    if template is None:
        return str(error.get("msg", ""))
    values = {
        name: context.get(name, "")
        if isinstance(context.get(name), int | float | str)
        else str(context.get(name, ""))
        for name in template_fields(template.template)
    }
    return Msg(template.template, **values)


def template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


UPLOAD_PATHS = frozenset({"/v1/attachments", "/support/new"})
"""Where bodies carry files, up to the attachment limit rather than the body limit."""
UPLOAD_PATH_PATTERN = re.compile(r"/support/tickets/[^/]+/reply")
"""The portal's reply form carries files too."""
SELF_BOUNDED_PATHS = frozenset({"/v1/inbound/email"})
"""Routes that read their body within the upload limit themselves: a raw email refused for
its size is still kept among the rejected mail (:mod:`api.routers.mail`)."""


class BodyLimit:
    """Refuse bodies over the limit with 413 before reading them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in SELF_BOUNDED_PATHS:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        carries_files = path in UPLOAD_PATHS or UPLOAD_PATH_PATTERN.fullmatch(path)
        limit = self.max_upload_bytes if carries_files else self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, receive, send, limit)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    await drain(receive, message, limit)
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:  # raised outside FastAPI's handlers (a body read by a middleware)
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        headers = dict(scope.get("headers", []))
        language = negotiate(headers.get(b"accept-language", b"").decode("latin-1")) or ENGLISH
        await problem(413, "body-too-large", too_large(limit), language=language)(
            scope, receive, send
        )


async def drain(receive: Receive, message: Message, most: int) -> None:
    """Read and drop the rest of a body past the limit, up to ``most`` more bytes, so a
    client that sends its whole body before reading the answer reads the 413 (a
    connection closed under it while it still writes would end in a reset instead)."""
    dropped = 0
    while message.get("more_body", False) and dropped <= most:
        message = await receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))


def too_large(limit: int) -> Msg:
    return Msg("The request body is larger than {limit} bytes; send a smaller one.", limit=limit)


class _TooLarge(StarletteHTTPException):
    """A body past the limit, found while it streams in (chunked, or longer than its
    Content-Length said). An HTTPException, so FastAPI's body parsing passes it on as
    it is (any other exception there becomes a 400) and it is answered 413."""

    def __init__(self, limit: int) -> None:
        self.message = too_large(limit)
        super().__init__(413, str(self.message))
