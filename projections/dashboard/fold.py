"""The dashboard's fold: one fact row per ticket, one row per filing, close and reopen.

Kept per event like every view, so each dashboard (:mod:`.queries`) is one indexed
aggregate over these rows, never a replay of conversations. Beside the rows the
view keeps roll-ups, so that the counting dashboards cost what the number of
months, days and distinct filter values does, not the number of tickets: tickets
per filing month and per value of every filter and grouping, and again per filing
day, ratings per month likewise, and moments per day; and, for the times dashboard,
durations (filing → first response, filing → resolution) per filing month, bucket of
length (:mod:`.durations`) and value of every filter and grouping, counted and summed
in microseconds, and again per filing day. The day layers are there for a range that
cuts a month: its whole days are read from them, so only the one or two days it cuts
are read from the rows.

Times are event times (an imported ticket counts when it happened, not when it
was imported):

* first response: filing → the first public agent reply;
* resolution: filing → the latest close (cleared by a reopen until closed again);
* satisfaction: the latest rating, credited to the assignee then, else to the
  agent who replied last; and the survey of the latest closing, if one was sent
  (credited to the agent of the closing likewise), answered when that closing was
  rated: the response rate is answered surveys over surveys sent.

A ticket merged into another is the same request: it counts under the status
``merged`` (neither open nor closed), and its merge is no close (no resolution time,
no ``closed`` moment); the ticket it went into counts once, as itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket
from projections import ticket_fields
from projections.dashboard.durations import bucket_of
from projections.kit import Fact, Tables, View, rows_by_ticket
from store.bulk import copy_rows, replace_rows, upsert_rows

NAME = "dashboard"
TICKETS = "dashboard_tickets"
MOMENTS = "dashboard_moments"
COUNTS = "dashboard_counts"
MOMENT_COUNTS = "dashboard_moment_counts"
DAY_COUNTS = "dashboard_day_counts"
COUNTED = ("account_id", "product", "topic", "type", "channel", "priority", "status")
"""What ``dashboard_counts`` counts tickets by (beside the filing month), and
``dashboard_day_counts`` (beside the filing day)."""
MOMENT_COUNTED = ("account_id", "product", "topic", "channel")
"""What ``dashboard_moment_counts`` counts moments by (beside the day and kind)."""
RATINGS = "dashboard_ratings"
RATED = ("account_id", "product", "topic", "channel", "rating_agent_id")
"""What ``dashboard_ratings`` sums ratings by (beside the filing month)."""
SURVEYS = "dashboard_surveys"
SURVEYED = ("account_id", "product", "topic", "channel", "survey_agent_id")
"""What ``dashboard_surveys`` counts surveys sent and answered by (beside the filing month)."""
DURATIONS = "dashboard_durations"
DAY_DURATIONS = "dashboard_day_durations"
TIMED = ("account_id", "product", "topic", "channel", "priority")
"""What ``dashboard_durations`` counts durations by (beside the filing month, the kind and
the bucket), and ``dashboard_day_durations`` (beside the filing day): the filters of the
times dashboard and its groupings."""
TIMED_KINDS = (("first_response", "first_response_at"), ("resolution", "resolved_at"))
"""Each duration the times dashboard reads, and the column its end is in."""
MICROSECOND = timedelta(microseconds=1)
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
    "custom_fields",
    "surveyed",
    "survey_agent_id",
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
            rating_agent_id text,
            custom_fields jsonb NOT NULL,
            surveyed boolean NOT NULL DEFAULT false,
            survey_agent_id text
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
    _create_rollup(conn, t, DAY_COUNTS, ("day date",), COUNTED, ("tickets",))
    _create_rollup(conn, t, MOMENT_COUNTS, ("day date", "kind text"), MOMENT_COUNTED, ("moments",))
    _create_rollup(conn, t, RATINGS, ("month date",), RATED, ("ratings", "rating_sum"))
    _create_rollup(conn, t, SURVEYS, ("month date",), SURVEYED, ("surveys", "answered"))
    for table, period in ((DURATIONS, "month date"), (DAY_DURATIONS, "day date")):
        keys = (period, "kind text", "bucket integer")
        _create_rollup(conn, t, table, keys, TIMED, ("durations", "micros numeric"))


def _create_rollup(
    conn: psycopg.Connection[Any],
    t: Tables,
    table: str,
    keys: tuple[str, ...],
    counted: tuple[str, ...],
    measures: tuple[str, ...],
) -> None:
    """A roll-up: ``measures`` (name, and type unless bigint) per ``keys`` (name and type;
    the first is the period) and value of everything ``counted``, with an index to find the
    cells its first measure emptied (deleted after each batch)."""
    names = [key.split()[0] for key in keys] + list(counted)
    typed = [m if " " in m else f"{m} bigint" for m in measures]
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(table)} (
            {", ".join(f"{key} NOT NULL" for key in keys)},
            {", ".join(f"{c} text NOT NULL" for c in counted)},
            {", ".join(f"{m} NOT NULL" for m in typed)},
            PRIMARY KEY ({", ".join(names)})
        )
        """
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {t.index(table + '_emptied')} ON {t(table)} "
        f"({names[0]}) WHERE {typed[0].split()[0]} = 0"
    )


def _opened(e: Ticket.Opened) -> dict[str, Any]:
    """A ticket's row as it was filed: its other columns empty until an event sets them."""
    return {**dict.fromkeys(COLUMNS), "surveyed": False, **ticket_fields.filed(e)}


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    ids = list({f.stream_id for f in facts})
    tickets = rows_by_ticket(conn, t(TICKETS), COLUMNS, ids)
    counted_before = {tid: counted_as(row) for tid, row in tickets.items()}
    counted_before_by_day = {tid: counted_by_day(row) for tid, row in tickets.items()}
    summed_before = {
        summed_as: {tid: summed_as(row) for tid, row in tickets.items()}
        for summed_as in (rated_as, surveyed_as, timed_as, timed_by_day)
    }
    touched: set[UUID] = set()
    moments: list[tuple[Any, ...]] = []
    # what the table has no column for (of the shared fields' changes) is not written
    for fact, row in ticket_fields.each_row(tickets, facts, _opened, touched):
        e = fact.event
        tid = fact.stream_id
        if isinstance(e, Ticket.Opened):
            moments.append((tid, fact.version, "filed", e.timestamp))
        match e:
            case Ticket.MessageAdded() if e.author_role == "agent":
                row["last_agent_id"] = e.author_id
                if row["first_response_at"] is None:
                    row["first_response_at"] = e.timestamp
            case Ticket.StatusChanged() if e.to_status == "closed":
                row["resolved_at"] = e.timestamp
                moments.append((tid, fact.version, "closed", e.timestamp))
            case Ticket.Reopened():
                row.update(
                    resolved_at=None,
                    rating=None,
                    rating_agent_id=None,
                    surveyed=False,
                    survey_agent_id=None,
                )
                moments.append((tid, fact.version, "reopened", e.timestamp))
            case Ticket.SatisfactionRated():
                row["rating"] = e.score
                row["rating_agent_id"] = row["assignee_id"] or row["last_agent_id"]
            case Ticket.MergedInto():  # the same request as its target: counted there
                row["status"] = "merged"
            case Ticket.SurveyOffered():
                row["surveyed"] = True
                row["survey_agent_id"] = row["assignee_id"] or row["last_agent_id"]
    counts = counts_moved(touched, counted_before, counted_as, tickets)
    day_counts = counts_moved(touched, counted_before_by_day, counted_by_day, tickets)
    moment_counts = count_moments(conn, t, tickets, counted_before, touched, moments)
    ratings, surveys, durations, day_durations = (
        sums_moved(touched, before, summed_as, tickets)
        for summed_as, before in summed_before.items()
    )
    with conn.cursor() as cur:
        replace_rows(
            cur,
            t(TICKETS),
            COLUMNS,
            [tuple(_column(c, tickets[tid][c]) for c in COLUMNS) for tid in touched],
        )
        if moments:
            copy_rows(cur, t(MOMENTS), ("ticket_id", "version", "kind", "at"), moments)
        for table, period, moved in ((COUNTS, "month", counts), (DAY_COUNTS, "day", day_counts)):
            by_cell = {cell: (n,) for cell, n in moved.items()}
            add_counts(cur, t(table), (period, *COUNTED), ("tickets",), by_cell)
        add_counts(cur, t(MOMENT_COUNTS), ("day", "kind", *MOMENT_COUNTED), ("moments",),
                   {cell: (n,) for cell, n in moment_counts.items()})  # fmt: skip
        add_counts(cur, t(RATINGS), ("month", *RATED), ("ratings", "rating_sum"), ratings)
        add_counts(cur, t(SURVEYS), ("month", *SURVEYED), ("surveys", "answered"), surveys)
        for table, period, summed in (
            (DURATIONS, "month", durations),
            (DAY_DURATIONS, "day", day_durations),
        ):
            key = (period, "kind", "bucket", *TIMED)
            add_counts(cur, t(table), key, ("durations", "micros"), summed)


def _column(name: str, value: Any) -> Any:
    return Jsonb(value) if name == "custom_fields" else value


def month_of(at: datetime) -> date:
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


def day_of(at: datetime) -> date:
    return at.astimezone(UTC).date()


def counted_as(row: dict[str, Any], period: Callable[[datetime], date] = month_of) -> Cell:
    """The ``dashboard_counts`` cell a ticket row falls in (by ``day_of``: the
    ``dashboard_day_counts`` one)."""
    return (period(row["created_at"]), *(row[c] or "" for c in COUNTED))


def counted_by_day(row: dict[str, Any]) -> Cell:
    return counted_as(row, day_of)


def counts_moved(
    touched: set[UUID],
    before: dict[UUID, Cell],
    counted_as: Callable[[dict[str, Any]], Cell],
    tickets: dict[UUID, dict[str, Any]],
) -> Counter[Cell]:
    """How a batch moves a roll-up's count per cell: each touched ticket taken out of its old
    cell and counted in its new one."""
    counts: Counter[Cell] = Counter()
    for tid in touched:
        old, new = before.get(tid), counted_as(tickets[tid])
        if old != new:
            if old is not None:
                counts[old] -= 1
            counts[new] += 1
    return counts


Cell = tuple[Any, ...]
"""A roll-up's key: its period, then the values it is kept by."""
Summed = list[tuple[Cell, int]]
"""What a ticket row adds to a roll-up that counts and sums per cell: each cell it falls
in, with the value it adds to that cell's sum."""


def sums_moved(
    touched: set[UUID],
    before: dict[UUID, Summed],
    summed_as: Callable[[dict[str, Any]], Summed],
    tickets: dict[UUID, dict[str, Any]],
) -> dict[tuple[Any, ...], tuple[int, int]]:
    """How a batch moves a roll-up's (count, sum) per cell: each touched ticket's old
    share taken out, its new one put in."""
    moved: dict[tuple[Any, ...], tuple[int, int]] = {}
    for tid in touched:
        old, new = before.get(tid, []), summed_as(tickets[tid])
        if old != new:
            for shares, sign in ((old, -1), (new, 1)):
                for cell, value in shares:
                    n, total = moved.get(cell, (0, 0))
                    moved[cell] = (n + sign, total + sign * value)
    return moved


def rated_as(row: dict[str, Any]) -> Summed:
    """The ``dashboard_ratings`` cell a rated ticket row falls in, and its rating."""
    if row["rating"] is None:
        return []
    return [((month_of(row["created_at"]), *(row[c] or "" for c in RATED)), int(row["rating"]))]


def surveyed_as(row: dict[str, Any]) -> Summed:
    """The ``dashboard_surveys`` cell a ticket whose latest closing was surveyed falls in,
    and whether that survey was answered (1) or not (0)."""
    if not row["surveyed"]:
        return []
    cell = (month_of(row["created_at"]), *(row[c] or "" for c in SURVEYED))
    return [(cell, int(row["rating"] is not None))]


def timed_as(row: dict[str, Any], period: Callable[[datetime], date] = month_of) -> Summed:
    """The ``dashboard_durations`` cells a ticket row's durations fall in (by ``day_of``: the
    ``dashboard_day_durations`` ones), with each one in microseconds; none for a merged
    ticket (its request is timed where it went)."""
    if row["status"] == "merged":
        return []
    out = []
    for kind, column in TIMED_KINDS:
        if row[column] is not None:
            micros = (row[column] - row["created_at"]) // MICROSECOND
            values = (row[c] or "" for c in TIMED)
            out.append(((period(row["created_at"]), kind, bucket_of(micros), *values), micros))
    return out


def timed_by_day(row: dict[str, Any]) -> Summed:
    return timed_as(row, day_of)


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
    upsert_rows(
        cur,
        table,
        (*key, *measures),
        rows,
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{m} = c.{m} + excluded.{m}" for m in measures),
        alias="c",
    )
    if any(values[0] < 0 for values in changes.values()):
        cur.execute(f"DELETE FROM {table} WHERE {measures[0]} = 0")


# shape 3: the roll-ups (2), ratings among them (3); 4: custom field values on the rows;
# 5: surveys sent and answered; 6: durations for the times dashboard; 7: tickets and
# durations per filing day too
VIEW = View(
    NAME,
    frozenset(PUBLIC_EVENTS),
    create_tables,
    apply,
    (
        TICKETS,
        MOMENTS,
        COUNTS,
        DAY_COUNTS,
        MOMENT_COUNTS,
        RATINGS,
        SURVEYS,
        DURATIONS,
        DAY_DURATIONS,
    ),
    shape=7,
    ignores=frozenset(STAFF_ONLY_EVENTS),
)
