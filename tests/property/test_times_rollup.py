"""The times dashboard read from its roll-up against the exact answer from the rows.

Tickets filed across month ends are worked in random order (replies, closes, reopens,
priority and product changes, merges, some stamped before the filing), folded in small
batches in two runs, then asked for with random filters, ranges that take whole months,
cut months, take whole days and cut days (read from the month roll-up, the day roll-up and
the rows together), and every grouping. Tickets and counts must equal the exact answer, means must equal it to the
answer's rounding, and each median and 90th percentile must lie within
``durations.error_bound`` of the order statistics it interpolates between (real
PostgreSQL).
"""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from desk.service import SupportDesk
from domain.errors import DocketError
from domain.ticket import Ticket
from projections import dashboard
from projections.catalog import VIEWS
from projections.dashboard import TIME_GROUPS, DashboardFilter
from projections.dashboard.durations import (
    BOUNDS,
    HOUR,
    LONGEST,
    THRESHOLDS,
    bucket_of,
    error_bound,
)
from projections.dashboard.queries import split_range, times_from_rows
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import agent, fresh_schema, requester

START = datetime(2024, 1, 20, 6, tzinfo=UTC)
ACCOUNTS = ("acct-1", "acct-2")
PRODUCTS = ("Files", "Dash", "Paper")
TOPICS = ("sync", "login")
CHANNELS = ("web", "email")
PRIORITIES = ("low", "normal", "high", "urgent")
ALWAYS = (
    DashboardFilter(),
    DashboardFilter(since=START - timedelta(hours=1), before=START + timedelta(days=101)),
    DashboardFilter(
        since=datetime(2024, 2, 3, 7, 30, tzinfo=UTC), before=datetime(2024, 2, 27, 19, tzinfo=UTC)
    ),
)
"""Asked every time: everything from the month roll-up; everything with two months cut (the
whole days of January and April from the day roll-up, the two cut days from the rows); and
most of February, whole days and two cut ones."""
ROUNDING = 0.5e-4
"""The answer's rounding (4 decimals of an hour)."""

offsets = st.one_of(
    st.integers(0, 3600),  # within the hour: the 0.01 h buckets
    st.integers(3600, 45 * 24 * 3600),  # the log buckets
    st.integers(-5 * 3600, -1),  # stamped before the filing, as an import may be
)
filings = st.tuples(
    st.integers(0, 100 * 24 * 3600),  # seconds after START: into late April
    st.sampled_from(ACCOUNTS),
    st.sampled_from(PRODUCTS),
    st.sampled_from(TOPICS),
    st.sampled_from(CHANNELS),
    st.sampled_from(PRIORITIES),
)
lives = st.tuples(st.integers(0, 11), st.sampled_from(["reply", "close"]), offsets, st.just(0))
"""Most tickets are answered and closed, so most groups have durations to check."""
merges = st.tuples(st.integers(0, 11), st.just("merge"), offsets, st.integers(0, 11))
actions = st.tuples(
    st.integers(0, 11),
    st.sampled_from(
        ["reply", "reply", "close", "close", "reopen", "priority", "product", "merge"]
    ),
    offsets,
    st.integers(0, 11),
)
instants = st.one_of(
    st.integers(-5, 110 * 24).map(lambda h: START + timedelta(hours=h)),
    st.integers(0, 110 * 24 * 3600).map(lambda s: START + timedelta(seconds=s)),
)
month_starts = st.sampled_from(
    [datetime(2024, m, 1, tzinfo=UTC) for m in (1, 2, 3, 4, 5)]
)  # whole months on either side
day_starts = st.integers(0, 110).map(lambda d: datetime(2024, 1, 20, tzinfo=UTC) + timedelta(d))
"""Whole days on either side."""


@st.composite
def dashboard_filters(draw: st.DrawFn) -> DashboardFilter:
    ends = st.one_of(st.none(), instants, month_starts, day_starts)
    since, before = draw(ends), draw(ends)
    if since is not None and before is not None and since >= before:
        since, before = before, since + timedelta(hours=1)
    return DashboardFilter(
        account_ids=tuple(draw(st.lists(st.sampled_from(ACCOUNTS), max_size=1))),
        products=tuple(draw(st.lists(st.sampled_from(PRODUCTS), max_size=2, unique=True))),
        topics=tuple(draw(st.lists(st.sampled_from(TOPICS), max_size=1))),
        channels=tuple(draw(st.lists(st.sampled_from(CHANNELS), max_size=1))),
        since=since,
        before=before,
    )


def file_tickets(specs: list[tuple[int, str, str, str, str, str]]) -> list[Ticket]:
    return [
        Ticket.file(
            ticket_id=uuid.uuid4(), number=f"T-{i + 1:06d}", subject="S", description="D",
            type="bug", priority=priority, product=product, topic=topic, channel=channel,
            requester_id="req-1", account_id=account, stamp=requester(START + timedelta(seconds=s)),
        )
        for i, (s, account, product, topic, channel, priority) in enumerate(specs)
    ]  # fmt: skip


def act(
    made: list[Ticket], filed: list[datetime], action: tuple[int, str, int, int]
) -> list[Ticket]:
    """One action on a ticket, stamped ``offset`` seconds after its filing; the tickets it
    changed (none if the rules refused it)."""
    index, name, offset, choice = action
    ticket = made[index % len(made)]
    at = filed[index % len(made)] + timedelta(seconds=offset)
    try:
        if name == "reply":
            ticket.add_message(
                author_id="agent-1", author_role="agent", body="Try again?", attachments=[],
                stamp=agent(at),
            )  # fmt: skip
        elif name == "close":
            ticket.change_status(to_status="closed", stamp=agent(at))
        elif name == "reopen":
            ticket.reopen(stamp=requester(at))
        elif name == "priority":
            ticket.change_priority(to_priority=PRIORITIES[choice % 4], stamp=agent(at))
        elif name == "product":
            ticket.change_product(to_product=PRODUCTS[choice % 3], stamp=agent(at))
        elif name == "merge":
            target = made[choice % len(made)]
            ticket.merge_into(target, stamp=agent(at))
            return [ticket, target]
    except DocketError:
        return []
    return [ticket]


def taken(row: dict[str, Any], f: DashboardFilter) -> bool:
    return (
        row["status"] != "merged"
        and (not f.account_ids or row["account_id"] in f.account_ids)
        and (not f.products or row["product"] in f.products)
        and (not f.topics or row["topic"] in f.topics)
        and (not f.channels or row["channel"] in f.channels)
        and (f.since is None or row["created_at"] >= f.since)
        and (f.before is None or row["created_at"] < f.before)
    )


def hours(row: dict[str, Any], column: str) -> float:
    micros: int = (row[column] - row["created_at"]) // timedelta(microseconds=1)
    return micros / HOUR


def check_quantile(got: float, values: list[float], q: float) -> None:
    """``got`` is within the bound of the order statistics ``percentile_cont`` interpolates."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = ordered[math.floor(rank)], ordered[min(math.floor(rank) + 1, len(ordered) - 1)]
    exact = low + (high - low) * (rank - math.floor(rank))
    bound = max(error_bound(low), error_bound(high)) + ROUNDING
    assert abs(got - exact) <= bound, (got, exact, bound, ordered)


@settings(max_examples=20, deadline=None)
@given(
    specs=st.lists(filings, min_size=1, max_size=12),
    life=st.lists(lives, min_size=4, max_size=24),
    merged=st.lists(merges, max_size=3),
    work=st.lists(actions, max_size=30),
    filters=st.lists(dashboard_filters(), min_size=2, max_size=5),
)
def test_the_times_roll_up_answers_the_rows_exact_figures_within_the_stated_bound(
    database_url: str,
    specs: list[tuple[int, str, str, str, str, str]],
    life: list[tuple[int, str, int, int]],
    merged: list[tuple[int, str, int, int]],
    work: list[tuple[int, str, int, int]],
    filters: list[DashboardFilter],
) -> None:
    with fresh_schema(database_url) as schema:
        desk = SupportDesk(eventsourcing_env(database_url, schema, pool_size=2))
        runner = ProjectionRunner(database_url, schema, [VIEWS["dashboard"]], batch_size=3)
        runner.create_tables()
        try:
            made = file_tickets(specs)
            filed = [START + timedelta(seconds=spec[0]) for spec in specs]
            desk.save(*made)
            replies = [a for a in life if a[1] == "reply"]
            closes = [a for a in life if a[1] == "close"]
            for step in (replies, [], merged, work, closes):
                for action in step:
                    if changed := act(made, filed, action):
                        desk.save(*changed)
                if not step:  # what comes later moves durations folded already
                    runner.catch_up()
            runner.catch_up()
        finally:
            desk.close()
        t = runner.tables
        with psycopg.connect(database_url) as conn:
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(f"SELECT * FROM {t(dashboard.TICKETS)}").fetchall()
            for f in [*ALWAYS, *filters]:
                for group_by in TIME_GROUPS:
                    answer = dashboard.times(conn, t, f, group_by)
                    exact = times_from_rows(conn, t, f, group_by)
                    assert [(r["name"], r["tickets"]) for r in answer] == [
                        (r["name"], r["tickets"]) for r in exact
                    ]
                    for got in answer:
                        group = [r for r in rows if taken(r, f) and r[group_by] == got["name"]]
                        assert got["tickets"] == len(group)
                        for kind, column in (
                            ("first_response", "first_response_at"),
                            ("resolution", "resolved_at"),
                        ):
                            values = [hours(r, column) for r in group if r[column] is not None]
                            assert got[f"{kind}_count"] == len(values)
                            if not values:
                                assert got[f"{kind}_median_hours"] is None
                                continue
                            mean = sum(values) / len(values)
                            assert abs(got[f"{kind}_mean_hours"] - mean) <= ROUNDING + 1e-9
                            check_quantile(got[f"{kind}_median_hours"], values, 0.5)
                            check_quantile(got[f"{kind}_p90_hours"], values, 0.9)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-LONGEST, LONGEST),
            st.integers(-2 * HOUR, 2 * HOUR),
            st.sampled_from(THRESHOLDS).flatmap(lambda b: st.sampled_from([b - 1, b, b + 1])),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_postgresql_puts_a_duration_in_the_bucket_the_fold_does(
    database_url: str, micros: list[int]
) -> None:
    micros = [m for m in micros if -LONGEST <= m <= LONGEST]
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT array_agg(width_bucket(m, %s::bigint[]) ORDER BY i) "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS v(m, i)",
            (BOUNDS, micros),
        ).fetchone()
    assert row is not None
    assert (row[0] or []) == [bucket_of(m) for m in micros]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), instants, month_starts, day_starts),
    st.one_of(st.none(), instants, month_starts, day_starts),
)
def test_a_range_is_read_as_whole_months_whole_days_and_under_two_days_of_rows(
    since: datetime | None, before: datetime | None
) -> None:
    (months, days), cut = split_range(since, before, ["month", "day"])
    assert len(months) <= 1 and len(days) <= 2 and len(cut) <= 2
    assert all(d is None or d.day == 1 for span in months for d in span)
    if since is not None and before is not None and since >= before:
        assert (months, days) == ([], []) and cut == [(since, before)]  # takes nothing
        return
    assert sum((hi - lo for lo, hi in cut), timedelta()) < timedelta(days=2)
    pieces = sorted(
        [*cut, *(tuple(_instant(d) for d in span) for span in [*months, *days])],
        key=lambda piece: (piece[0] is not None, piece[0] or START),
    )
    # one after the other from since to before, without a gap or an overlap
    assert pieces[0][0] == since and pieces[-1][1] == before
    for (_, end), (start, _) in itertools.pairwise(pieces):
        assert end == start


def _instant(d: date | None) -> datetime | None:
    return None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC)
