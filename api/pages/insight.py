"""The analysts' dashboard and the auditors' timeline, as pages.

``/console/dashboard`` reads the same dashboards as ``/v1/dashboard/*`` and the same SLA
compliance as ``/v1/sla/summary``, with the same filters parsed by the same model
(``DashboardQuery``) and checked by the same function, and draws them as SVG charts with
their tables; every dashboard downloads as CSV (``/console/dashboard/<name>.csv`` with the
page's filters), as the API's ``Accept: text/csv`` answers it.

``/console/audit`` finds a ticket; ``/console/audit/tickets/<ticket>`` is its timeline
(who, what, via, when, each event's hashes) and the verification of its chain, from the
same replay the API's ``/v1/audit`` answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.answers import read_problems
from api.deps import RuntimeDep
from api.pages.charts import bars, line_chart
from api.pages.templating import page
from api.pages.visitors import SignedIn, may, permitted
from api.problems import Problem
from api.routers.audit import visible_stream
from api.routers.dashboard import dashboard_filter, rows_csv
from api.routers.sla import day_range
from api.schemas.dashboard import DashboardQuery
from domain.messages import Msg
from domain.vocabulary import CHANNELS
from languages import render
from projections import directory
from projections.dashboard import SATISFACTION_GROUPS, TIME_GROUPS, DashboardFilter
from projections.kit import Tables
from replay.history import UnreadableEvents

router = APIRouter(include_in_schema=False)

LISTS = ("account", "product", "topic", "channel")
"""The filters that may be repeated."""
DOWNLOADS = ("summary", "top-issues", "top-products", "volume", "times", "satisfaction", "sla")


def filters_of(request: Request) -> tuple[DashboardQuery, dict[str, Any]]:
    """The page's filters, as the API's model reads them (empty fields dropped), and as
    the form shows them back."""
    params = request.query_params
    given: dict[str, Any] = {}
    for name in LISTS:
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        if values:
            given[name] = values
    for name in ("from", "to", "bucket", "group_by", "min_position"):
        value = params.get(name, "").strip()
        if value:
            given[name] = value
    return DashboardQuery.model_validate(given), given


def sla_range(query: DashboardQuery, time_zone: str) -> tuple[Any, Any]:
    """The SLA summary's days: the dashboard's from/to when they are days."""

    def as_day(text: str | None) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None

    return day_range(as_day(query.since), as_day(query.until), time_zone)


def figures(
    runtime: RuntimeDep, query: DashboardQuery, where: DashboardFilter, time_zone: str
) -> dict[str, Any]:
    """Every dashboard's rows for the filters."""
    reads = runtime.reads
    wait = query.min_position
    topic = query.topic[0] if len(query.topic) == 1 else None
    no_topics = DashboardFilter(**{**vars(where), "topics": ()})
    group_by = query.group_by if query.group_by in TIME_GROUPS else TIME_GROUPS[0]
    start, end = sla_range(query, time_zone)
    sla, _ = reads.sla_summary(
        start=start, end=end, account_ids=tuple(query.account), min_position=wait
    )
    return {
        "summary": reads.dashboard("summary", where, min_position=wait)[0],
        "top-issues": reads.dashboard("top-issues", where, limit=query.limit)[0],
        "top-products": reads.dashboard("top-products", no_topics, topic=topic, limit=query.limit)[
            0
        ],
        "volume": reads.dashboard("volume", where, bucket=query.bucket)[0],
        "times": reads.dashboard("times", where, group_by=group_by)[0],
        "satisfaction": reads.dashboard("satisfaction", where, group_by=SATISFACTION_GROUPS[0])[0],
        "sla": sla,
        "topic": topic,
        "group_by": group_by,
    }


def sla_rows(sla: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The compliance figures as one table: each row names what it groups by."""
    return [{"group": group, **row} for group, rows in sla.items() for row in rows]


VALUE_WORDS: dict[str, Msg] = {
    "open": Msg("Open"), "pending": Msg("Pending"), "closed": Msg("Closed"),
    "low": Msg("Low"), "normal": Msg("Normal"), "high": Msg("High"), "urgent": Msg("Urgent"),
    "question": Msg("Question"), "bug": Msg("Bug"), "feature_request": Msg("Feature request"),
    "billing": Msg("Billing"), "technical": Msg("Technical"), "other": Msg("Other"),
    "web": Msg("Web"), "email": Msg("Email"), "chat": Msg("Chat"), "phone": Msg("Phone"),
    "social": Msg("Social media"), "api": Msg("API"), "import": Msg("Import"),
    "first_response": Msg("First answer"), "next_reply": Msg("Next answer"),
    "resolution": Msg("Resolution"),
    "standard": Msg("Standard"), "premium_essentials": Msg("Premium Essentials"),
    "premium_enhanced": Msg("Premium Enhanced"),
    "priority": Msg("Priority"), "topic": Msg("Issue (topic)"), "product": Msg("Product"),
    "channel": Msg("Channel"), "agent": Msg("Agent"),
}  # fmt: skip
"""What the dashboard's values (statuses, types, priorities, channels, SLA targets and
tiers, groupings) are called on its page; anything else (a topic, a product) is shown as
it is stored."""


def value_namer(language: str) -> Callable[[Any], str]:
    """The name of a dashboard value in ``language``; a missing one is a dash."""

    def named(value: Any) -> str:
        if value is None or value == "":
            return "—"
        word = VALUE_WORDS.get(str(value))
        return render(word, language) if word is not None else str(value)

    return named


def charts(found: dict[str, Any], named: Callable[[Any], str] = str) -> dict[str, Any]:
    volume = found["volume"]
    issues = [r for r in found["top-issues"] if r["dimension"] == "topic"]
    types = [r for r in found["top-issues"] if r["dimension"] == "type"]
    scope = "topic" if found["topic"] else "all"
    products = [r for r in found["top-products"] if r["scope"] == scope]
    return {
        "volume": line_chart(
            [str(r["bucket"]) for r in volume],
            {
                "filed": [float(r["filed"]) for r in volume],
                "closed": [float(r["closed"]) for r in volume],
                "reopened": [float(r["reopened"]) for r in volume],
            },
        ),
        "status": bars([(named(r["status"]), float(r["tickets"])) for r in found["summary"]]),
        "issues": bars([(named(r["name"]), float(r["tickets"])) for r in issues]),
        "types": bars([(named(r["name"]), float(r["tickets"])) for r in types]),
        "products": bars([(str(r["product"]), float(r["tickets"])) for r in products]),
        "compliance": bars(
            [
                (f"{named(r['key'])} · {named(r['target'])}", round(100 * r["compliance"], 1))
                for r in found["sla"]["tier"]
                if r["compliance"] is not None
            ]
        ),
        "satisfaction": bars(
            [
                (str(r["name"]), round(float(r["mean_rating"]), 2))
                for r in found["satisfaction"]
                if r["mean_rating"] is not None
            ]
        ),
    }


def accounts(runtime: RuntimeDep) -> list[dict[str, Any]]:
    with runtime.pool.connection() as conn:
        return directory.accounts(conn, Tables(runtime.settings.schema_name))


def parsed(
    request: Request,
) -> tuple[DashboardQuery | None, DashboardFilter | None, dict[str, Any], Any]:
    """The filters, the dashboard filter they make, what the form shows back, and what is
    wrong with them (the API's words), if anything."""
    try:
        query, given = filters_of(request)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "query"
        wrong = Msg("{field}: {message}", field=field, message=first.get("msg", ""))
        return None, None, dict(request.query_params), wrong
    try:
        return query, dashboard_filter(query), given, None
    except Problem as problem:
        return query, None, given, problem.detail


@router.get("/console/dashboard")
def dashboard_page(request: Request, runtime: RuntimeDep, visitor: SignedIn) -> Response:
    permitted(visitor, "dashboard")
    query, where, given, wrong = parsed(request)
    context: dict[str, Any] = {
        "given": given,
        "wrong": wrong,
        "account_names": {a["account_id"]: a["name"] for a in accounts(runtime)},
        "channels": CHANNELS,
        "time_groups": TIME_GROUPS,
        "value_words": {v: value_namer(visitor.language)(v) for v in (*CHANNELS, *TIME_GROUPS)},
        "query_string": request.url.query,
        "downloads": DOWNLOADS,
    }
    if query is None or where is None:
        return page(request, visitor, "dashboard.html", context, status_code=422)
    with read_problems():  # a view behind min_position: the API's 503, as a page
        found = figures(runtime, query, where, visitor.time_zone or "UTC")
    named = value_namer(visitor.language)
    context.update(found=found, charts=charts(found, named), bucket=query.bucket, named=named)
    return page(request, visitor, "dashboard.html", context)


@router.get("/console/dashboard/{name}.csv")
def dashboard_csv(request: Request, runtime: RuntimeDep, visitor: SignedIn, name: str) -> Response:
    permitted(visitor, "dashboard")
    if name not in DOWNLOADS:
        raise Problem(
            404,
            "not-found",
            Msg("No dashboard {name}; the dashboards are {names}.", name=name[:40],
                names=", ".join(DOWNLOADS)),
        )  # fmt: skip
    query, where, _, wrong = parsed(request)
    if query is None or where is None:
        raise Problem(422, "invalid-query", wrong)
    with read_problems():
        found = figures(runtime, query, where, visitor.time_zone or "UTC")
    rows = sla_rows(found["sla"]) if name == "sla" else found[name]
    return Response(
        rows_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="docket-{name}.csv"'},
    )


@router.get("/console/audit")
def audit_page(
    request: Request, runtime: RuntimeDep, visitor: SignedIn, ticket: str = "", verify: str = ""
) -> Response:
    permitted(visitor, "audit_history")
    if ticket.strip():
        return RedirectResponse(f"/console/audit/tickets/{ticket.strip()[:64]}", status_code=303)
    report = None
    if verify == "all":
        permitted(visitor, "audit_verify")
        report = runtime.audit.verify(None)
    return page(request, visitor, "audit.html", {"report": report})


@router.get("/console/audit/tickets/{ticket}")
def ticket_timeline(
    request: Request, runtime: RuntimeDep, visitor: SignedIn, ticket: str
) -> Response:
    permitted(visitor, "audit_history")
    entries, _ = visible_stream(runtime, visitor.signed_in, ticket)
    unreadable: list[Any] = []
    try:
        events = runtime.audit.history(entries)
    except UnreadableEvents as damaged:
        events, unreadable = damaged.readable, damaged.unreadable
    ticket_id = UUID(str(entries[0].stored.originator_id))
    with runtime.pool.connection() as conn:
        names = directory.names(
            conn, Tables(runtime.settings.schema_name), [e["actor"]["id"] for e in events]
        )
    report = runtime.audit.verify(ticket_id) if may(visitor, "audit_verify") else None
    number = next((e["fields"].get("number") for e in events if e["fields"].get("number")), ticket)
    context = {
        "events": events,
        "names": names,
        "unreadable": unreadable,
        "report": report,
        "number": number,
        "ticket_id": ticket_id,
    }
    return page(request, visitor, "audit_ticket.html", context)
