"""The analysts' dashboard: one fact row per ticket, one row per filing, close and reopen.

Kept per event like every view, so each dashboard is one indexed aggregate over
these rows, never a replay of conversations. The counting dashboards (summary, top
issues, top products, volume) read two roll-ups the view keeps beside them, so
their cost follows the number of months, days and distinct filter values, not the
number of tickets: tickets per filing month and per value of every filter and
grouping, and moments per day. A range that cuts a month (or a day) counts the
whole months (days) from the roll-up and the cut ones from the rows.

Times are event times (an imported ticket counts when it happened, not when it
was imported):

* first response: filing → the first public agent reply;
* resolution: filing → the latest close (cleared by a reopen until closed again);
* satisfaction: the latest rating, credited to the assignee then, else to the
  agent who replied last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from projections.lists.ticket_rows import PUBLIC_TICKET_EVENTS
from projections.runner import Fact, Tables, View, clean_text

NAME = "dashboard"
TICKETS = "dashboard_tickets"
MOMENTS = "dashboard_moments"
COUNTS = "dashboard_counts"
MOMENT_COUNTS = "dashboard_moment_counts"
COUNTED = ("account_id", "product", "topic", "type", "channel", "priority", "status")
"""What ``dashboard_counts`` counts tickets by (beside the filing month)."""
MOMENT_COUNTED = ("account_id", "product", "topic", "channel")
"""What ``dashboard_moment_counts`` counts moments by (beside the day and kind)."""
RATINGS = "dashboard_ratings"
RATED = ("account_id", "product", "topic", "channel", "rating_agent_id")
"""What ``dashboard_ratings`` sums ratings by (beside the filing month)."""
COLUMNS = (
    "ticket_id",
    "account_id",
    "product",
    "topic",
    "type",
    "channel",
    "priority",
    "status",
    "assignee_id",
    "last_agent_id",
    "created_at",
    "first_response_at",
    "resolved_at",
    "rating",
    "rating_agent_id",
)


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(TICKETS)} (
            ticket_id uuid PRIMARY KEY,
            account_id text NOT NULL,
            product text NOT NULL,
            topic text NOT NULL,
            type text NOT NULL,
            channel text NOT NULL,
            priority text NOT NULL,
            status text NOT NULL,
            assignee_id text,
            last_agent_id text,
            created_at timestamptz NOT NULL,
            first_response_at timestamptz,
            resolved_at timestamptz,
            rating smallint,
            rating_agent_id text
        )
        """
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {t.index(TICKETS + '_created')} ON {t(TICKETS)} (created_at)"
    )
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(MOMENTS)} (
            ticket_id uuid NOT NULL,
            version integer NOT NULL,
            kind text NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (ticket_id, version)
        )
        """
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS {t.index(MOMENTS + '_at')} ON {t(MOMENTS)} (at)")
    _create_rollup(conn, t, COUNTS, ("month date",), COUNTED, ("tickets",))
    _create_rollup(conn, t, MOMENT_COUNTS, ("day date", "kind text"), MOMENT_COUNTED, ("moments",))
    _create_rollup(conn, t, RATINGS, ("month date",), RATED, ("ratings", "rating_sum"))


def _create_rollup(
    conn: psycopg.Connection[Any],
    t: Tables,
    table: str,
    keys: tuple[str, ...],
    counted: tuple[str, ...],
    measures: tuple[str, ...],
) -> None:
    """A roll-up: ``measures`` per ``keys`` (name and type; the first is the period) and
    value of everything ``counted``, with an index to find the cells its first measure
    emptied (deleted after each batch)."""
    names = [key.split()[0] for key in keys] + list(counted)
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(table)} (
            {", ".join(f"{key} NOT NULL" for key in keys)},
            {", ".join(f"{c} text NOT NULL" for c in counted)},
            {", ".join(f"{m} bigint NOT NULL" for m in measures)},
            PRIMARY KEY ({", ".join(names)})
        )
        """
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {t.index(table + '_emptied')} ON {t(table)} "
        f"({names[0]}) WHERE {measures[0]} = 0"
    )


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    ids = list({f.stream_id for f in facts})
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {t(TICKETS)} WHERE ticket_id = ANY(%s)", (ids,)
        )
        tickets: dict[UUID, dict[str, Any]] = {r["ticket_id"]: r for r in cur.fetchall()}
    counted_before = {tid: counted_as(row) for tid, row in tickets.items()}
    rated_before = {tid: rated_as(row) for tid, row in tickets.items()}
    touched: set[UUID] = set()
    moments: list[tuple[Any, ...]] = []
    for fact in facts:
        e = fact.event
        kind = fact.kind
        tid = fact.stream_id
        if kind == "Ticket.Opened":
            tickets[tid] = dict.fromkeys(COLUMNS)
            tickets[tid].update(
                ticket_id=tid, account_id=e.account_id, product=clean_text(e.product),
                topic=clean_text(e.topic), type=e.type, channel=e.channel, priority=e.priority,
                status="open", created_at=e.timestamp,
            )  # fmt: skip
            moments.append((tid, fact.version, "filed", e.timestamp))
        row = tickets.get(tid)
        if row is None:
            continue
        touched.add(tid)
        if kind == "Ticket.MessageAdded" and e.author_role == "agent":
            row["last_agent_id"] = e.author_id
            if row["first_response_at"] is None:
                row["first_response_at"] = e.timestamp
        elif kind == "Ticket.StatusChanged":
            row["status"] = e.to_status
            if e.to_status == "closed":
                row["resolved_at"] = e.timestamp
                moments.append((tid, fact.version, "closed", e.timestamp))
        elif kind == "Ticket.Reopened":
            row.update(status="open", resolved_at=None, rating=None, rating_agent_id=None)
            moments.append((tid, fact.version, "reopened", e.timestamp))
        elif kind in ("Ticket.PriorityRaised", "Ticket.PriorityLowered"):
            row["priority"] = e.to_priority
        elif kind == "Ticket.Assigned":
            row["assignee_id"] = clean_text(e.agent_id) if e.agent_id else None
        elif kind == "Ticket.TypeChanged":
            row["type"] = e.to_type
        elif kind == "Ticket.ProductChanged":
            row["product"] = clean_text(e.to_product)
        elif kind == "Ticket.SatisfactionRated":
            row["rating"] = e.score
            row["rating_agent_id"] = row["assignee_id"] or row["last_agent_id"]
    counts: Counter[tuple[Any, ...]] = Counter()
    for tid in touched:
        old, new = counted_before.get(tid), counted_as(tickets[tid])
        if old != new:
            if old is not None:
                counts[old] -= 1
            counts[new] += 1
    moment_counts = count_moments(conn, t, tickets, counted_before, touched, moments)
    ratings: dict[tuple[Any, ...], tuple[int, int]] = {}
    for tid in touched:
        old_rating, new_rating = rated_before.get(tid), rated_as(tickets[tid])
        if old_rating != new_rating:
            for rated, sign in ((old_rating, -1), (new_rating, 1)):
                if rated is not None:
                    cell, score = rated
                    n, total = ratings.get(cell, (0, 0))
                    ratings[cell] = (n + sign, total + sign * score)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {t(TICKETS)} ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
            f"ON CONFLICT (ticket_id) DO UPDATE SET {updates}",
            [tuple(tickets[tid][c] for c in COLUMNS) for tid in touched],
        )
        if moments:
            cur.executemany(
                f"INSERT INTO {t(MOMENTS)} (ticket_id, version, kind, at) VALUES (%s, %s, %s, %s)",
                moments,
            )
        add_counts(cur, t(COUNTS), ("month", *COUNTED), ("tickets",),
                   {cell: (n,) for cell, n in counts.items()})  # fmt: skip
        add_counts(cur, t(MOMENT_COUNTS), ("day", "kind", *MOMENT_COUNTED), ("moments",),
                   {cell: (n,) for cell, n in moment_counts.items()})  # fmt: skip
        add_counts(cur, t(RATINGS), ("month", *RATED), ("ratings", "rating_sum"), ratings)


def counted_as(row: dict[str, Any]) -> tuple[Any, ...]:
    """The ``dashboard_counts`` cell a ticket row falls in."""
    return (month_of(row["created_at"]), *(row[c] or "" for c in COUNTED))


def rated_as(row: dict[str, Any]) -> tuple[tuple[Any, ...], int] | None:
    """The ``dashboard_ratings`` cell a rated ticket row falls in, and its rating."""
    if row["rating"] is None:
        return None
    return (month_of(row["created_at"]), *(row[c] or "" for c in RATED)), int(row["rating"])


def month_of(at: datetime) -> date:
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


def day_of(at: datetime) -> date:
    return at.astimezone(UTC).date()


def count_moments(
    conn: psycopg.Connection[Any],
    t: Tables,
    tickets: dict[UUID, dict[str, Any]],
    counted_before: dict[UUID, tuple[Any, ...]],
    touched: set[UUID],
    moments: list[tuple[Any, ...]],
) -> Counter[tuple[Any, ...]]:
    """Changes to ``dashboard_moment_counts``: the batch's moments, under each ticket's
    values at the batch's end, and earlier moments of tickets whose values changed."""
    counts: Counter[tuple[Any, ...]] = Counter()

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] or "" for c in MOMENT_COUNTED)

    moved = {
        tid: (before, values(tickets[tid]))
        for tid in touched
        if (before := counted_before.get(tid)) is not None
        and tuple(before[1 + COUNTED.index(c)] for c in MOMENT_COUNTED) != values(tickets[tid])
    }
    if moved:
        earlier = conn.execute(
            f"SELECT ticket_id, kind, (at AT TIME ZONE 'UTC')::date, count(*) FROM {t(MOMENTS)} "
            "WHERE ticket_id = ANY(%s) GROUP BY 1, 2, 3",
            (list(moved),),
        ).fetchall()
        for tid, kind, day, n in earlier:
            before, after = moved[tid]
            counts[(day, kind, *(before[1 + COUNTED.index(c)] for c in MOMENT_COUNTED))] -= n
            counts[(day, kind, *after)] += n
    for tid, _version, kind, at in moments:
        counts[(day_of(at), kind, *values(tickets[tid]))] += 1
    return counts


def add_counts(
    cur: psycopg.Cursor[Any],
    table: str,
    key: tuple[str, ...],
    measures: tuple[str, ...],
    changes: Mapping[tuple[Any, ...], tuple[int, ...]],
) -> None:
    """Add ``changes`` (per cell, one number per measure) to a roll-up; the first measure
    counts, so a cell it brings to 0 is deleted (a fold from scratch has no empty cells)."""
    rows = sorted((*cell, *values) for cell, values in changes.items() if any(values))
    if not rows:
        return
    cur.executemany(
        f"INSERT INTO {table} AS c ({', '.join((*key, *measures))}) "
        f"VALUES ({', '.join(['%s'] * (len(key) + len(measures)))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{m} = c.{m} + excluded.{m}" for m in measures),
        rows,
    )
    if any(values[0] < 0 for values in changes.values()):
        cur.execute(f"DELETE FROM {table} WHERE {measures[0]} = 0")


# shape 3: the roll-ups (2), ratings among them (3)
VIEW = View(
    NAME,
    PUBLIC_TICKET_EVENTS,
    create_tables,
    apply,
    (TICKETS, MOMENTS, COUNTS, MOMENT_COUNTS, RATINGS),
    shape=3,
)


# --- the dashboards --------------------------------------------------------------------------


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


def _rows(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _whole(
    f: DashboardFilter, floor: Callable[[datetime], date], next_one: Callable[[date], date]
) -> tuple[date | None, date | None] | None:
    """The whole months (or days) inside ``f``'s range as [first, end), ``None`` for an open
    side; ``None`` altogether when not one whole month (day) is inside."""
    first = end = None
    if f.since is not None:
        since = _utc(f.since)
        first = floor(since)
        if _utc(datetime(first.year, first.month, first.day)) != since:
            first = next_one(first)
    if f.before is not None:
        end = floor(_utc(f.before))
    if first is not None and end is not None and first >= end:
        return None
    return first, end


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _next_day(d: date) -> date:
    return d + timedelta(days=1)


def _cut(
    f: DashboardFilter, whole: tuple[date | None, date | None] | None, at: str
) -> tuple[str, list[Any]] | None:
    """The condition on ``at`` for the part of ``f``'s range outside ``whole``; ``None`` if
    there is no such part."""
    since, before = f.since, f.before
    if whole is None:
        return f"{at} >= %s AND {at} < %s", [since, before]
    first, end = whole
    pieces: list[str] = []
    params: list[Any] = []
    if since is not None and first is not None:
        first_at = _utc(datetime(first.year, first.month, first.day))
        if since < first_at:
            pieces.append(f"({at} >= %s AND {at} < %s)")
            params += [since, first_at]
    if before is not None and end is not None:
        end_at = _utc(datetime(end.year, end.month, end.day))
        if end_at < before:
            pieces.append(f"({at} >= %s AND {at} < %s)")
            params += [end_at, before]
    return (" OR ".join(pieces), params) if pieces else None


def _in_rollup(
    f: DashboardFilter, whole: tuple[date | None, date | None], period: str
) -> tuple[str, list[Any]]:
    """The condition on a roll-up (alias ``c``) for ``f``'s values and its whole periods."""
    clauses, params = _dims(f, "c")
    first, end = whole
    if first is not None:
        clauses.append(f"{period} >= %s")
        params.append(first)
    if end is not None:
        clauses.append(f"{period} < %s")
        params.append(end)
    return " AND ".join(clauses) or "TRUE", params


def _counted(
    t: Tables,
    f: DashboardFilter,
    *,
    rollup: str = COUNTS,
    columns: tuple[str, ...] = COUNTED,
    measures: tuple[tuple[str, str], ...] = (("tickets", "1"),),
    rows_where: str = "TRUE",
) -> tuple[str, list[Any]]:
    """A derived table of (``columns``, measures) over the tickets ``f`` takes: whole
    filing months from the ``rollup``, the rest of the range from the rows, where each
    measure is the expression given for one row (and ``rows_where`` holds)."""
    listed = ", ".join(columns)
    whole = _whole(f, month_of, _next_month)
    parts: list[str] = []
    params: list[Any] = []
    if whole is not None:
        where, extra = _in_rollup(f, whole, "c.month")
        names = ", ".join(name for name, _ in measures)
        parts.append(f"SELECT {listed}, {names} FROM {t(rollup)} c WHERE {where}")
        params += extra
    cut = _cut(f, whole, "d.created_at")
    if cut is not None:
        clauses, extra = _dims(f, "d")
        clauses += [f"({cut[0]})", rows_where]
        per_row = ", ".join(f"{expression} AS {name}" for name, expression in measures)
        keys = ", ".join(f"coalesce(d.{c}, '') AS {c}" for c in columns)
        parts.append(f"SELECT {keys}, {per_row} FROM {t(TICKETS)} d WHERE {' AND '.join(clauses)}")
        params += [*extra, *cut[1]]
    return " UNION ALL ".join(parts), params


def summary(conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter) -> list[dict[str, Any]]:
    counted, params = _counted(t, f)
    return _rows(
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
        out += _rows(
            conn,
            f"SELECT %s AS dimension, {dimension} AS name, sum(tickets)::bigint AS tickets "
            f"FROM ({counted}) x GROUP BY {dimension} HAVING sum(tickets) > 0 "
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
        narrowed = "WHERE x.topic = %s" if value is not None else ""
        extra = [clean_text(value)] if value is not None else []
        out += _rows(
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
    whole = _whole(f, day_of, _next_day)
    parts: list[str] = []
    params: list[Any] = []
    if whole is not None:
        where, extra = _in_rollup(f, whole, "c.day")
        parts.append(f"SELECT day, kind, moments FROM {t(MOMENT_COUNTS)} c WHERE {where}")
        params += extra
    cut = _cut(f, whole, "m.at")
    if cut is not None:
        clauses, extra = _dims(f, "d")
        clauses.append(f"({cut[0]})")
        parts.append(
            "SELECT (m.at AT TIME ZONE 'UTC')::date AS day, m.kind, 1 AS moments "
            f"FROM {t(MOMENTS)} m JOIN {t(TICKETS)} d USING (ticket_id) "
            f"WHERE {' AND '.join(clauses)}"
        )
        params += [*extra, *cut[1]]
    counts = ", ".join(
        f"coalesce(sum(moments) FILTER (WHERE kind = '{kind}'), 0)::bigint AS {name}"
        for kind, name in (("filed", "filed"), ("closed", "closed"), ("reopened", "reopened"))
    )
    return _rows(
        conn,
        f"SELECT date_trunc(%s, day)::date AS bucket, {counts} "
        f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY 1 HAVING sum(moments) > 0 ORDER BY 1",
        [bucket, *params],
    )


TIME_GROUPS = ("priority", "topic", "product", "channel")


def times(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, group_by: str
) -> list[dict[str, Any]]:
    if group_by not in TIME_GROUPS:
        raise ValueError(f"group_by is one of {TIME_GROUPS}")
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
    rows = _rows(
        conn,
        f"SELECT d.{group_by} AS name, count(*) AS tickets, {', '.join(stats)} "
        f"FROM {t(TICKETS)} d WHERE {where} GROUP BY d.{group_by} ORDER BY name",
        params,
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
        t, f, rollup=RATINGS, columns=RATED,
        measures=(("ratings", "1"), ("rating_sum", "d.rating")), rows_where="d.rating IS NOT NULL",
    )  # fmt: skip
    rows = _rows(
        conn,
        f"SELECT {column} AS name, sum(ratings)::bigint AS ratings, "
        f"sum(rating_sum)::numeric / sum(ratings) AS mean_rating FROM ({rated}) x "
        "GROUP BY 1 HAVING sum(ratings) > 0 ORDER BY name",
        params,
    )
    for row in rows:
        row["mean_rating"] = round(float(row["mean_rating"]), 4)
    return rows
