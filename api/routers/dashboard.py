"""Dashboards for analysts: summary, top issues, top products, volume, times, satisfaction.

Every dashboard takes the same filters (account, product, topic, channel, from,
to) and answers JSON, or CSV when asked with ``Accept: text/csv``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api.answers import ViewRead, bad_query, read_problems
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import responses
from api.schemas.dashboard import DashboardAnswer, DashboardQuery, TagsQuery
from domain.custom_fields import Definitions
from domain.messages import Msg
from projections.dashboard import SATISFACTION_GROUPS, TIME_GROUPS, DashboardFilter
from projections.dashboard.queries import FIELD_GROUP

router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"])

RESPONSES = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"},
    **responses({422: "Invalid filter"}, waits_for="dashboard"),
}

Filters = Annotated[DashboardQuery, Query()]


EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 1, tzinfo=UTC)
"""The instants a range may name: a day inside the calendar's first end and a month
inside its last, so that the range's days, weeks and months (in UTC) are counted without
falling off it."""


def instant(field: str, text: str, *, end: bool) -> datetime:
    try:
        if len(text) <= 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            moment = datetime.combine(day, time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise bad_query(
                field, Msg("{field} needs a time zone, e.g. 2024-03-01T00:00:00Z.", field=field)
            )
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad_query(
            field, Msg("{field} is an ISO date (2024-03-01) or instant.", field=field)
        ) from None
    if not EARLIEST <= moment <= LATEST:
        raise bad_query(
            field,
            Msg(
                "{field} lies between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.",
                field=field,
                EARLIEST=EARLIEST,
                LATEST=LATEST,
            ),
        )
    return moment


def dashboard_filter(query: DashboardQuery, *, with_topics: bool = True) -> DashboardFilter:
    since = instant("from", query.since, end=False) if query.since else None
    before = instant("to", query.until, end=True) if query.until else None
    if since is not None and before is not None and since >= before:
        raise bad_query("from", Msg("from must come before to."))
    return DashboardFilter(
        account_ids=tuple(query.account),
        products=tuple(query.product),
        topics=tuple(query.topic) if with_topics else (),
        channels=tuple(query.channel),
        since=since,
        before=before,
    )


def answer(
    runtime: RuntimeDep,
    request: Request,
    name: str,
    where: DashboardFilter,
    query: DashboardQuery,
    **options: Any,
) -> Response:
    """The dashboard's rows, as JSON or (``Accept: text/csv``) as CSV."""
    with read_problems():
        rows, position = runtime.reads.dashboard(
            name, where, min_position=query.min_position, **options
        )
    return rows_answer(request, name, rows, position)


def rows_answer(
    request: Request, name: str, rows: list[dict[str, Any]], position: int
) -> Response:
    """A dashboard's rows as JSON or (``Accept: text/csv``) as CSV."""
    if "text/csv" in request.headers.get("accept", ""):
        return Response(rows_csv(rows), media_type="text/csv; charset=utf-8")
    body = DashboardAnswer(dashboard=name, position=position, rows=rows)
    return JSONResponse(body.model_dump(mode="json"))


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV, a header of their keys first (nothing at all for no rows)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def grouping(query: DashboardQuery, dashboard: str, groups: tuple[str, ...]) -> str:
    """What ``query`` groups ``dashboard`` by: one of its ``groups``, the first unless said."""
    group_by = query.group_by or groups[0]
    if group_by not in groups:
        raise bad_query(
            "group_by",
            Msg("{dashboard} groups by {names}.", dashboard=dashboard, names=", ".join(groups)),
        )
    return group_by


def field_grouping(group_by: str, definitions: Definitions) -> str:
    """``field.<key>``, if ``key`` is a dropdown field (its options are the groups)."""
    key = group_by[len(FIELD_GROUP) :]
    definition = definitions.get(key)
    if definition is None or definition.kind != "dropdown":
        raise bad_query(
            "group_by",
            Msg("No dropdown ticket field {key}: GET /v1/ticket-fields lists them.", key=key[:40]),
        )
    return group_by


@router.get("/summary", response_model=DashboardAnswer, responses=RESPONSES)
def summary(
    query: Filters, who: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Response:
    """Tickets by status (filed in the range)."""
    allowed(who, "dashboard")
    return answer(runtime, request, "summary", dashboard_filter(query), query)


@router.get("/top-issues", response_model=DashboardAnswer, responses=RESPONSES)
def top_issues(
    query: Filters, who: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Response:
    """Topics by ticket count, and ticket types by count; ties by name."""
    allowed(who, "dashboard")
    return answer(
        runtime, request, "top-issues", dashboard_filter(query), query, limit=query.limit
    )


@router.get("/top-products", response_model=DashboardAnswer, responses=RESPONSES)
def top_products(
    query: Filters, who: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Response:
    """Products by ticket count for one issue (?topic=T) and for all issues."""
    allowed(who, "dashboard")
    if len(query.topic) > 1:
        raise bad_query("topic", Msg("top-products breaks down one topic at a time."))
    topic = query.topic[0] if query.topic else None
    where = dashboard_filter(query, with_topics=False)
    return answer(runtime, request, "top-products", where, query, topic=topic, limit=query.limit)


@router.get("/volume", response_model=DashboardAnswer, responses=RESPONSES)
def volume(
    query: Filters, who: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Response:
    """Filed, closed and reopened per day, week or month (UTC), by when it happened."""
    allowed(who, "dashboard")
    return answer(runtime, request, "volume", dashboard_filter(query), query, bucket=query.bucket)


@router.get("/times", response_model=DashboardAnswer, responses=RESPONSES)
def times(
    query: Filters, who: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Response:
    """First-response and resolution times in hours: median, p90, mean."""
    allowed(who, "dashboard")
    if query.group_by and query.group_by.startswith(FIELD_GROUP):
        group_by = field_grouping(query.group_by, runtime.desk.ticket_fields())
    else:
        group_by = grouping(query, "times", TIME_GROUPS)
    return answer(runtime, request, "times", dashboard_filter(query), query, group_by=group_by)


@router.get("/satisfaction", response_model=DashboardAnswer, responses=RESPONSES)
def satisfaction(
    query: Filters, who: CurrentPrincipal, runtime: RuntimeDep, request: Request
) -> Response:
    """Ratings: count and mean, by product, topic or agent."""
    allowed(who, "dashboard")
    group_by = grouping(query, "satisfaction", SATISFACTION_GROUPS)
    return answer(
        runtime, request, "satisfaction", dashboard_filter(query), query, group_by=group_by
    )


@router.get("/tags", response_model=DashboardAnswer, responses=RESPONSES)
def tags(query: Annotated[TagsQuery, Query()], read: ViewRead, request: Request) -> Response:
    """Tickets per tag now, in all and by status (open, pending, closed); most used first.
    Tags are staff-only: this dashboard is for staff and analysts."""
    with read.views("tags_dashboard") as views:
        rows, position = views.tags_dashboard(limit=query.limit, min_position=query.min_position)
    return rows_answer(request, "tags", rows, position)
