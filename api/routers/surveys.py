"""Satisfaction surveys: the page a survey link opens and the rating it sends (no token:
the signed link is the proof), and a member's preference for receiving them.

``GET /v1/surveys/{token}?score=N`` writes nothing: it checks the link and shows the
rating with ``N`` chosen and a comment box, one click from ``POST /v1/surveys/{token}``,
which records it. Mail scanners that open every link in an email so record nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from api.deps import CorrelationId, RuntimeDep
from api.problems import Problem, domain_problem, responses
from api.schemas.accounts import AccountReceiptOut
from api.schemas.surveys import PreferencesIn, SurveyAnswerIn, SurveyRecordedOut
from api.survey_pages import survey_form, survey_refused, survey_thanks
from api.writes import AccountWrite
from domain.errors import DocketError
from domain.messages import Msg, message_of
from domain.surveys import SurveyLink, read_survey_link
from domain.vocabulary import COMMENT_MAX_CHARS
from languages import render

router = APIRouter(tags=["surveys"])

TOKEN_MAX = 120
HTML = {"text/html": {"schema": {"type": "string"}}}
SURVEY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not a survey link Docket sent (forged, altered, cut short)"},
    409: {"description": "The rating is recorded already, or the ticket was reopened since"},
    410: {"description": "The link expired (14 days after the closing)"},
    422: {"description": "Invalid score or comment"},
}
FORM = "application/x-www-form-urlencoded"


def wants_html(request: Request) -> bool:
    """A browser (it asks for HTML first): refusals as a page, not problem+json."""
    return "text/html" in request.headers.get("accept", "")


def refused(request: Request, error: DocketError, language: str) -> Response:
    """A refusal in the link's language: problem+json, or a page for a browser."""
    problem = domain_problem(error, language)
    if not wants_html(request):
        return problem
    page = survey_refused(language, error.code, render(message_of(error), language))
    return HTMLResponse(page, status_code=problem.status_code)


def language_of(token: str) -> str:
    """The language a token names, for a refusal's page (before it is proved)."""
    parts = token.split(".")
    return parts[2] if len(parts) == 5 and parts[2] in ("en", "fr") else "en"


def survey_link(runtime: RuntimeDep, token: str) -> SurveyLink:
    return read_survey_link(token, runtime.mail.secret, datetime.now(UTC))


@router.get(
    "/v1/surveys/{token}",
    response_class=HTMLResponse,
    responses={200: {"content": HTML, "description": "The rating page"}, **SURVEY_PROBLEMS},
)
def survey_page(
    token: str,
    request: Request,
    runtime: RuntimeDep,
    score: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> Response:
    """The rating page of a survey link, the score chosen already; writes nothing."""
    try:
        link = survey_link(runtime, token[:TOKEN_MAX])
        number = runtime.desk.check_survey(link, at=datetime.now(UTC))
    except DocketError as error:
        return refused(request, error, language_of(token))
    page = survey_form(link.language, token, number, score)
    private = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(page, headers=private)


@router.post(
    "/v1/surveys/{token}",
    response_model=SurveyRecordedOut,
    responses={
        200: {"content": HTML, "description": "Recorded (a page for a form, JSON for JSON)"},
        **SURVEY_PROBLEMS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SurveyAnswerIn.model_json_schema()},
                FORM: {"schema": SurveyAnswerIn.model_json_schema()},
            },
        }
    },
)
async def answer_survey(
    token: str, request: Request, runtime: RuntimeDep, correlation: CorrelationId
) -> Response:
    """Record the survey's rating (and comment) as the requester's: once per link."""
    language = language_of(token)
    as_form = request.headers.get("content-type", "").split(";")[0].strip() == FORM
    try:
        answer = parse_answer(await request.body(), as_form)
    except Problem as problem:
        if not (as_form or wants_html(request)):
            raise
        detail = render(problem.detail, language)
        return HTMLResponse(survey_refused(language, problem.code, detail), 422)
    try:
        link = survey_link(runtime, token[:TOKEN_MAX])
        receipt = runtime.desk.answer_survey(
            link,
            score=answer.score,
            comment=answer.comment,
            at=datetime.now(UTC),
            correlation_id=correlation,
        )
    except DocketError as error:
        return refused(request, error, language)
    if as_form or wants_html(request):
        return HTMLResponse(survey_thanks(link.language, receipt.number, answer.score))
    recorded = SurveyRecordedOut(
        number=receipt.number, score=answer.score, position=receipt.position
    )
    return JSONResponse(recorded.model_dump())


def parse_answer(body: bytes, as_form: bool) -> SurveyAnswerIn:
    """The rating, from a form (what the page sends) or JSON; 422 for anything else."""
    try:
        text = body.decode("utf-8")
        data: Any = dict(parse_qsl(text, keep_blank_values=True)) if as_form else json.loads(text)
        return SurveyAnswerIn.model_validate(data)
    except (UnicodeDecodeError, ValueError, ValidationError) as error:
        field = "body"
        if isinstance(error, ValidationError) and error.errors():
            field = ".".join(str(p) for p in error.errors()[0]["loc"]) or "body"
        raise Problem(
            422,
            "invalid-request",
            Msg(
                "{field}: send a score from 1 to 5, and a comment of at most {most} characters.",
                field=field,
                most=COMMENT_MAX_CHARS,
            ),
            errors=[{"field": field, "message": str(error)[:200]}],
        ) from None


PREFERENCE_PROBLEMS = responses(
    {
        403: "Only members of a customer account have preferences",
        409: "The preference is so already",
        412: "If-Match names a stale version of the account",
        422: "Invalid field",
    }
)


@router.patch(
    "/v1/me/preferences", response_model=AccountReceiptOut, responses=PREFERENCE_PROBLEMS
)
def change_preferences(change: PreferencesIn, write: AccountWrite) -> JSONResponse:
    """Your own choices, those you give: ``surveys`` false and your closed tickets ask no
    rating; ``language`` and ``time_zone``, those your pages and emails are in."""
    account = write.member_account(
        "member_preferences", Msg("Only members of a customer account have preferences.")
    )
    return write.account_change(
        account,
        change,
        write.desk.set_member_preferences,
        member_id=write.who.id,
        **change.model_dump(),
    )
