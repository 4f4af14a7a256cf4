"""The analysts' dashboards: six queries over the rows and roll-ups of :mod:`.fold`.

The counting dashboards (summary, top issues, top products, volume, satisfaction)
read the roll-ups (:func:`split_range`): a range counts its whole periods from them
(tickets: whole months, then whole days; ratings and surveys: whole months; moments:
whole days) and the rest from the rows. Times (first response, resolution) read the durations'
month and day roll-ups likewise, the cut days' rows put in the same buckets: counts and
means are exact, medians and 90th percentiles within
:func:`.durations.error_bound` (0.005 h or 0.5 %, whichever is larger). Grouped by a
custom field, which the roll-up does not keep, they are exact percentiles over the rows
(:func:`times_from_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from projections.dashboard.durations import BOUNDS, HOUR, quantile
from projections.dashboard.fold import (
    COUNTED,
    COUNTS,
    DAY_COUNTS,
    DAY_DURATIONS,
    DURATIONS,
    MOMENT_COUNTS,
    MOMENTS,
    RATED,
    RATINGS,
    SURVEYED,
    SURVEYS,
    TICKETS,
    TIMED_KINDS,
    day_of,
    month_of,
)
from projections.kit import Tables, clean_text, fetch_all


@dataclass(frozen=True)
class DashboardFilter:
    """What every dashboard can be narrowed to. The range is on filing (volume: on the moment)."""

    account_ids: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    since: datetime | None = None
    before: datetime | None = None


def _dims(f: DashboardFilter, alias: str) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("account_id", f.account_ids),
        ("product", f.products),
        ("topic", f.topics),
        ("channel", f.channels),
    ):
        if values:
            clauses.append(f"{alias}.{column} = ANY(%s)")
            params.append([clean_text(v) for v in values])
    return clauses, params


def _where(f: DashboardFilter, at: str = "d.created_at") -> tuple[str, list[Any]]:
    clauses, params = _dims(f, "d")
    clauses.insert(0, "TRUE")
    if f.since is not None:
        clauses.append(f"{at} >= %s")
        params.append(f.since)
    if f.before is not None:
        clauses.append(f"{at} < %s")
        params.append(f.before)
    return " AND ".join(clauses), params


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _next_day(d: date) -> date:
    return d + timedelta(days=1)


PERIODS: dict[str, tuple[Callable[[datetime], date], Callable[[date], date]]] = {
    "month": (month_of, _next_month),
    "day": (day_of, _next_day),
}
"""The periods roll-ups are kept by: the one an instant falls in (UTC), and the next."""
Span = tuple[date | None, date | None]
"""Whole periods [first, end), ``None`` for an open side."""
Layer = tuple[str, str]
"""A roll-up and the period it is kept by (``"month"`` or ``"day"``)."""


def _start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def split_range(
    since: datetime | None, before: datetime | None, periods: Sequence[str]
) -> tuple[list[list[Span]], list[tuple[datetime, datetime]]]:
    """[``since``, ``before``) as whole periods of each of ``periods`` (coarsest first: each
    takes the whole periods of what the coarser ones left), and what is left of it for the
    rows, as [from, to) pieces: per month and day, at most one whole span of months, two of
    days and two pieces (the days the range cuts)."""
    if not periods:
        assert since is not None and before is not None  # an open side is whole periods
        return [], [(since, before)]
    floor, next_one = PERIODS[periods[0]]
    first = end = None
    if since is not None:
        first = floor(since)
        if _start(first) != since:
            first = next_one(first)
    if before is not None:
        end = floor(before)
    if first is not None and end is not None and first >= end:
        finer, rest = split_range(since, before, periods[1:])
        return [[], *finer], rest
    spans: list[list[Span]] = [[(first, end)], *([] for _ in periods[1:])]
    cut: list[tuple[datetime, datetime]] = []
    rests = []
    if since is not None and first is not None:
        rests.append((since, _start(first)))
    if before is not None and end is not None:
        rests.append((_start(end), before))
    for lo, hi in rests:
        if lo < hi:
            finer, rest = split_range(lo, hi, periods[1:])
            for spans_of_period, more in zip(spans[1:], finer, strict=True):
                spans_of_period.extend(more)
            cut += rest
    return spans, cut


def _between(spans: list[Span], column: str) -> tuple[str, list[Any]]:
    """The condition on a roll-up's period ``column`` for ``spans``."""
    pieces: list[str] = []
    params: list[Any] = []
    for first, end in spans:
        sides = []
        if first is not None:
            sides.append(f"{column} >= %s")
            params.append(first)
        if end is not None:
            sides.append(f"{column} < %s")
            params.append(end)
        pieces.append(f"({' AND '.join(sides) or 'TRUE'})")
    return " OR ".join(pieces), params


@dataclass(frozen=True)
class _Source:
    """Where a dashboard's figures come from: each roll-up (alias ``c``), as ``from_rollup``
    over its whole periods in the range, and the rows of ``from_rows`` (ticket rows alias
    ``d``, with ``rows_params`` for its own placeholders) where ``at`` is in the rest of it
    and every one of ``rows_where`` holds."""

    layers: tuple[Layer, ...]
    from_rollup: str
    from_rows: str
    at: str = "d.created_at"
    rows_where: tuple[str, ...] = ()
    rows_params: tuple[Any, ...] = ()

    def union(self, t: Tables, f: DashboardFilter) -> tuple[str, list[Any]]:
        """The derived table over the tickets ``f`` takes: ``UNION ALL`` of the parts."""
        since = None if f.since is None else _utc(f.since)
        before = None if f.before is None else _utc(f.before)
        spans, cut = split_range(since, before, [period for _, period in self.layers])
        parts: list[str] = []
        params: list[Any] = []
        for (table, period), whole in zip(self.layers, spans, strict=True):
            if whole:
                clauses, extra = _dims(f, "c")
                within, more = _between(whole, f"c.{period}")
                clauses.append(f"({within})")
                rollup = f"SELECT {self.from_rollup} FROM {t(table)} c"
                parts.append(f"{rollup} WHERE {' AND '.join(clauses)}")
                params += [*extra, *more]
        if cut:
            clauses, extra = _dims(f, "d")
            pieces = " OR ".join(f"({self.at} >= %s AND {self.at} < %s)" for _ in cut)
            clauses += [f"({pieces})", *self.rows_where]
            parts.append(f"{self.from_rows} WHERE {' AND '.join(clauses)}")
            params += [*self.rows_params, *extra, *(at for piece in cut for at in piece)]
        return " UNION ALL ".join(parts), params


def _counted(
    t: Tables,
    f: DashboardFilter,
    *,
    layers: tuple[Layer, ...] = ((COUNTS, "month"), (DAY_COUNTS, "day")),
    columns: tuple[str, ...] = COUNTED,
    measures: tuple[tuple[str, str], ...] = (("tickets", "1"),),
    rows_where: str = "TRUE",
) -> tuple[str, list[Any]]:
    """A derived table of (``columns``, measures) over the tickets ``f`` takes: whole
    filing periods from the roll-ups (``layers``), the rest of the range from the rows,
    where each measure is the expression given for one row (and ``rows_where`` holds)."""
    listed = ", ".join(columns)
    names = ", ".join(name for name, _ in measures)
    per_row = ", ".join(f"{expression} AS {name}" for name, expression in measures)
    keys = ", ".join(f"coalesce(d.{c}, '') AS {c}" for c in columns)
    source = _Source(
        layers,
        f"{listed}, {names}",
        f"SELECT {keys}, {per_row} FROM {t(TICKETS)} d",
        rows_where=(rows_where,),
    )
    return source.union(t, f)


NOT_MERGED = "x.status <> 'merged'"
"""A ticket merged into another is the same request: issues and products count it once, as
the ticket it went into (the summary by status shows it under ``merged``)."""


def summary(conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter) -> list[dict[str, Any]]:
    counted, params = _counted(t, f)
    return fetch_all(
        conn,
        f"SELECT status, sum(tickets)::bigint AS tickets FROM ({counted}) x "
        "GROUP BY status HAVING sum(tickets) > 0 ORDER BY status",
        params,
    )


def top_issues(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, limit: int
) -> list[dict[str, Any]]:
    counted, params = _counted(t, f)
    out = []
    for dimension in ("topic", "type"):
        out += fetch_all(
            conn,
            f"SELECT %s AS dimension, {dimension} AS name, sum(tickets)::bigint AS tickets "
            f"FROM ({counted}) x WHERE {NOT_MERGED} GROUP BY {dimension} "
            "HAVING sum(tickets) > 0 "
            "ORDER BY tickets DESC, name LIMIT %s",
            [dimension, *params, limit],
        )
    return out


def top_products(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, topic: str | None, limit: int
) -> list[dict[str, Any]]:
    counted, params = _counted(t, f)
    out = []
    scopes: list[tuple[str, str | None]] = [("all", None)]
    if topic is not None:
        scopes.insert(0, ("topic", topic))
    for scope, value in scopes:
        narrowed = f"WHERE {NOT_MERGED}" + (" AND x.topic = %s" if value is not None else "")
        extra = [clean_text(value)] if value is not None else []
        out += fetch_all(
            conn,
            f"SELECT %s AS scope, %s AS topic, product, sum(tickets)::bigint AS tickets "
            f"FROM ({counted}) x {narrowed} GROUP BY product HAVING sum(tickets) > 0 "
            "ORDER BY tickets DESC, product LIMIT %s",
            [scope, value, *params, *extra, limit],
        )
    return out


BUCKETS = ("day", "week", "month")


def volume(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, bucket: str
) -> list[dict[str, Any]]:
    """Moments per bucket of their day (UTC): whole days from the roll-up, the rest of the
    range from the rows."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket is one of {BUCKETS}")
    source = _Source(
        ((MOMENT_COUNTS, "day"),),
        "day, kind, moments",
        "SELECT (m.at AT TIME ZONE 'UTC')::date AS day, m.kind, 1 AS moments "
        f"FROM {t(MOMENTS)} m JOIN {t(TICKETS)} d USING (ticket_id)",
        at="m.at",
    )
    counted, params = source.union(t, f)
    counts = ", ".join(
        f"coalesce(sum(moments) FILTER (WHERE kind = '{kind}'), 0)::bigint AS {name}"
        for kind, name in (("filed", "filed"), ("closed", "closed"), ("reopened", "reopened"))
    )
    return fetch_all(
        conn,
        f"SELECT date_trunc(%s, day)::date AS bucket, {counts} "
        f"FROM ({counted}) x GROUP BY 1 HAVING sum(moments) > 0 ORDER BY 1",
        [bucket, *params],
    )


TIME_GROUPS = ("priority", "topic", "product", "channel")
FIELD_GROUP = "field."
"""``field.<key>``: the times grouped by a dropdown custom field's values (its option keys;
``null`` for tickets without a value)."""


def times(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, group_by: str
) -> list[dict[str, Any]]:
    """First-response and resolution hours per group: tickets and counts, median, p90 and
    mean, from the durations' roll-ups (whole filing months and days) and the rows (the
    days the range cuts); by a custom field, from the rows (:func:`times_from_rows`)."""
    if group_by.startswith(FIELD_GROUP):
        return times_from_rows(conn, t, f, group_by)
    if group_by not in TIME_GROUPS:
        raise ValueError(f"group_by is one of {TIME_GROUPS} or field.<key>")
    counted, params = _counted(t, f)
    groups = fetch_all(
        conn,
        f"SELECT {group_by} AS name, sum(tickets)::bigint AS tickets FROM ({counted}) x "
        f"WHERE {NOT_MERGED} GROUP BY 1 HAVING sum(tickets) > 0 ORDER BY name",
        params,
    )
    timed, params = _timed(t, f, group_by)
    found: dict[tuple[str, str], list[tuple[int, int, Decimal]]] = {}
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            f"SELECT {group_by}, kind, bucket, sum(durations)::bigint, sum(micros) "
            f"FROM ({timed}) x GROUP BY 1, 2, 3 HAVING sum(durations) > 0 ORDER BY 1, 2, 3",
            params,
        )
        for name, kind, bucket, n, micros in cur:
            found.setdefault((name, kind), []).append((bucket, n, micros))
    rows = []
    for group in groups:
        row: dict[str, Any] = {"name": group["name"], "tickets": group["tickets"]}
        for kind, _ in TIMED_KINDS:
            cells = found.get((group["name"], kind), [])
            count = sum(n for _, n, _ in cells)
            row[f"{kind}_count"] = count
            counted_buckets = [(bucket, n) for bucket, n, _ in cells]
            median = p90 = mean = None
            if count:
                median = round(quantile(counted_buckets, 0.5), 4)
                p90 = round(quantile(counted_buckets, 0.9), 4)
                mean = round(float(sum(m for _, _, m in cells) / (count * HOUR)), 4)
            row[f"{kind}_median_hours"] = median
            row[f"{kind}_p90_hours"] = p90
            row[f"{kind}_mean_hours"] = mean
        rows.append(row)
    return rows


def _timed(t: Tables, f: DashboardFilter, group_by: str) -> tuple[str, list[Any]]:
    """A derived table of (``group_by``, kind, bucket, durations, micros) over the tickets
    ``f`` takes: whole filing months and days from the roll-ups, the rest of the range from
    the rows, each duration in the bucket the fold would have put it in."""
    ends = ", ".join(
        f"('{kind}', ((extract(epoch FROM d.{column}) - extract(epoch FROM d.created_at))"
        " * 1000000)::bigint)"
        for kind, column in TIMED_KINDS
    )
    source = _Source(
        ((DURATIONS, "month"), (DAY_DURATIONS, "day")),
        f"{group_by}, kind, bucket, durations, micros",
        f"SELECT d.{group_by}, k.kind, width_bucket(k.micros, %s::bigint[]) AS bucket, "
        f"1 AS durations, k.micros FROM {t(TICKETS)} d "
        f"CROSS JOIN LATERAL (VALUES {ends}) AS k(kind, micros)",
        rows_where=("d.status <> 'merged'", "k.micros IS NOT NULL"),
        rows_params=(BOUNDS,),
    )
    return source.union(t, f)


def times_from_rows(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, group_by: str
) -> list[dict[str, Any]]:
    """The times dashboard computed from every ticket row it takes: exact percentiles, at a
    cost that grows with the tickets in the range (the only way by a custom field)."""
    if group_by.startswith(FIELD_GROUP):
        group, group_params = "d.custom_fields ->> %s", [clean_text(group_by[len(FIELD_GROUP) :])]
    elif group_by in TIME_GROUPS:
        group, group_params = f"d.{group_by}", []
    else:
        raise ValueError(f"group_by is one of {TIME_GROUPS} or field.<key>")
    where, params = _where(f)
    first = "extract(epoch FROM d.first_response_at - d.created_at) / 3600.0"
    resolve = "extract(epoch FROM d.resolved_at - d.created_at) / 3600.0"
    stats = []
    for name, hours in (("first_response", first), ("resolution", resolve)):
        stats.append(
            f"count({hours}) AS {name}_count, "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}) AS {name}_median_hours, "
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours}) AS {name}_p90_hours, "
            f"avg({hours}) AS {name}_mean_hours"
        )
    rows = fetch_all(
        conn,
        f"SELECT {group} AS name, count(*) AS tickets, {', '.join(stats)} "
        f"FROM {t(TICKETS)} d WHERE {where} AND d.status <> 'merged' "
        "GROUP BY 1 ORDER BY name",
        [*group_params, *params],
    )
    for row in rows:
        for key, value in row.items():
            if key.endswith("_hours") and value is not None:
                row[key] = round(float(value), 4)
    return rows


SATISFACTION_GROUPS = ("product", "topic", "agent")


def satisfaction(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, group_by: str
) -> list[dict[str, Any]]:
    if group_by not in SATISFACTION_GROUPS:
        raise ValueError(f"group_by is one of {SATISFACTION_GROUPS}")
    column = "rating_agent_id" if group_by == "agent" else group_by
    rated, params = _counted(
        t, f, layers=((RATINGS, "month"),), columns=RATED,
        measures=(("ratings", "1"), ("rating_sum", "d.rating")), rows_where="d.rating IS NOT NULL",
    )  # fmt: skip
    rows = fetch_all(
        conn,
        f"SELECT {column} AS name, sum(ratings)::bigint AS ratings, "
        f"sum(rating_sum)::numeric / sum(ratings) AS mean_rating FROM ({rated}) x "
        "GROUP BY 1 HAVING sum(ratings) > 0 ORDER BY name",
        params,
    )
    for row in rows:
        row["mean_rating"] = round(float(row["mean_rating"]), 4)
    surveyed, params = _counted(
        t, f, layers=((SURVEYS, "month"),), columns=SURVEYED,
        measures=(("surveys", "1"), ("answered", "(d.rating IS NOT NULL)::int")),
        rows_where="d.surveyed",
    )  # fmt: skip
    column = "survey_agent_id" if group_by == "agent" else group_by
    sent = {
        row["name"]: row
        for row in fetch_all(
            conn,
            f"SELECT {column} AS name, sum(surveys)::bigint AS surveys_sent, "
            f"sum(answered)::bigint AS surveys_answered FROM ({surveyed}) x "
            "GROUP BY 1 HAVING sum(surveys) > 0",
            params,
        )
    }
    by_name = {row["name"]: row for row in rows}
    for name in sent.keys() - by_name.keys():
        by_name[name] = {"name": name, "ratings": 0, "mean_rating": None}
    for name, row in by_name.items():
        survey = sent.get(name, {"surveys_sent": 0, "surveys_answered": 0})
        row["surveys_sent"] = survey["surveys_sent"]
        row["surveys_answered"] = survey["surveys_answered"]
        row["response_rate"] = (
            round(survey["surveys_answered"] / survey["surveys_sent"], 4)
            if survey["surveys_sent"]
            else None
        )
    return sorted(by_name.values(), key=lambda row: row["name"])
