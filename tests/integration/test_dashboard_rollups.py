"""The counting dashboards read roll-ups; any range, whole or cut, gives the rows' figures.

Tickets filed over three months, worked, moved to another product after their
moments were counted, then asked for with ranges that take whole months, cut a
month, cut a day, or have one open side. Each answer is checked against a count
made in plain Python from the same tickets.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from domain.ticket import Ticket
from projections import dashboard
from projections.catalog import VIEWS
from projections.dashboard import DashboardFilter
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import agent, fresh_schema, requester

START = datetime(2024, 1, 3, 7, 30, tzinfo=UTC)
PRODUCTS = ("Files", "Dash", "Paper")
TOPICS = ("sync", "login")
ACCOUNTS = ("acct-1", "acct-2")


def make_tickets() -> tuple[list[Ticket], list[tuple[int, str, datetime]]]:
    """Forty tickets 2.3 days apart, some closings surveyed; moments as (ticket index, kind,
    at)."""
    tickets: list[Ticket] = []
    moments: list[tuple[int, str, datetime]] = []
    for i in range(40):
        filed = START + timedelta(days=2.3 * i)
        ticket = Ticket.file(
            ticket_id=uuid.uuid4(), number=f"T-{i + 1:06d}", subject="S", description="D",
            type=("bug", "question")[i % 2], priority="normal", product=PRODUCTS[i % 3],
            topic=TOPICS[i % 2], channel=("web", "email")[i % 2 == 0 and i % 4 == 0],
            requester_id="req-1", account_id=ACCOUNTS[i % 2], stamp=requester(filed),
        )  # fmt: skip
        moments.append((i, "filed", filed))
        if i % 3 != 1:
            replied = filed + timedelta(hours=5)
            ticket.add_message(
                author_id="agent-1", author_role="agent", body="Done?", attachments=[],
                stamp=agent(replied),
            )  # fmt: skip
            closed = filed + timedelta(days=1, hours=20)
            ticket.change_status(to_status="closed", stamp=agent(closed))
            moments.append((i, "closed", closed))
            if i % 2 == 0:  # a survey asks for the rating of every fourth (and more)
                ticket.offer_survey(stamp=agent(closed))
            if i % 4 == 0:
                ticket.rate_satisfaction(
                    score=1 + i % 5, comment="", stamp=requester(closed + timedelta(hours=2))
                )
            if i % 5 == 0:
                reopened = closed + timedelta(hours=30)
                ticket.reopen(stamp=requester(reopened))
                moments.append((i, "reopened", reopened))
        tickets.append(ticket)
    return tickets, moments


def move_products(tickets: list[Ticket]) -> None:
    """Every seventh ticket changes product after its moments were counted."""
    for i, ticket in enumerate(tickets):
        if i % 7 == 0:
            at = START + timedelta(days=2.3 * i + 4)
            ticket.change_product(to_product="Paper" if ticket.product != "Paper" else "Dash",
                                  stamp=agent(at))  # fmt: skip


def taken(ticket: Ticket, f: DashboardFilter, at: datetime) -> bool:
    return (
        (not f.account_ids or ticket.account_id in f.account_ids)
        and (not f.products or ticket.product in f.products)
        and (not f.topics or ticket.topic in f.topics)
        and (not f.channels or ticket.channel in f.channels)
        and (f.since is None or at >= f.since)
        and (f.before is None or at < f.before)
    )


FILTERS = [
    DashboardFilter(),
    DashboardFilter(
        since=datetime(2024, 2, 1, tzinfo=UTC), before=datetime(2024, 4, 1, tzinfo=UTC)
    ),
    DashboardFilter(
        since=datetime(2024, 1, 15, 10, tzinfo=UTC), before=datetime(2024, 3, 3, 5, tzinfo=UTC)
    ),
    DashboardFilter(
        since=datetime(2024, 2, 3, tzinfo=UTC), before=datetime(2024, 2, 20, tzinfo=UTC)
    ),
    DashboardFilter(
        since=datetime(2024, 2, 3, 11, tzinfo=UTC), before=datetime(2024, 2, 3, 23, tzinfo=UTC)
    ),
    DashboardFilter(since=datetime(2024, 2, 10, 12, tzinfo=UTC)),
    DashboardFilter(before=datetime(2024, 2, 10, 12, tzinfo=UTC)),
    DashboardFilter(
        account_ids=("acct-1",),
        products=("Paper", "Files"),
        since=datetime(2024, 1, 20, 6, tzinfo=UTC),
    ),
    DashboardFilter(topics=("sync",), channels=("web",), before=datetime(2024, 3, 1, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def folded(database_url: str) -> Any:
    with fresh_schema(database_url) as schema:
        tickets, moments = make_tickets()
        desk = SupportDesk(eventsourcing_env(database_url, schema, pool_size=2))
        try:
            desk.save(*tickets)
            # the product changes come in a later batch than the moments they move
            runner = ProjectionRunner(database_url, schema, [VIEWS["dashboard"]], batch_size=7)
            runner.create_tables()
            runner.catch_up()
            move_products(tickets)
            desk.save(*tickets)
            runner.catch_up()
        finally:
            desk.close()
        yield runner.tables, tickets, moments


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: repr(f)[15:80])
def test_counting_dashboards_equal_a_count_of_the_tickets_for_any_range(
    database_url: str, folded: Any, f: DashboardFilter
) -> None:
    t, tickets, moments = folded
    filed = {i: at for i, kind, at in moments if kind == "filed"}
    chosen = [x for i, x in enumerate(tickets) if taken(x, f, filed[i])]
    with psycopg.connect(database_url) as conn:
        summary = {r["status"]: r["tickets"] for r in dashboard.summary(conn, t, f)}
        assert summary == dict(Counter(x.status for x in chosen))

        issues = dashboard.top_issues(conn, t, f, limit=10)
        for dimension in ("topic", "type"):
            got = {r["name"]: r["tickets"] for r in issues if r["dimension"] == dimension}
            assert got == dict(Counter(getattr(x, dimension) for x in chosen))

        products = dashboard.top_products(conn, t, f, "sync", 10)
        got = {r["product"]: r["tickets"] for r in products if r["scope"] == "topic"}
        assert got == dict(Counter(x.product for x in chosen if x.topic == "sync"))

        for group_by, of in (("product", "product"), ("topic", "topic"), ("agent", "agent")):
            scores: dict[str, list[int]] = {}
            for x in chosen:
                if x.rating is not None:
                    name = "agent-1" if of == "agent" else getattr(x, of)
                    scores.setdefault(name, []).append(x.rating)
            rows = dashboard.satisfaction(conn, t, f, group_by)
            got = {r["name"]: (r["ratings"], r["mean_rating"]) for r in rows if r["ratings"]}
            assert got == {k: (len(v), round(sum(v) / len(v), 4)) for k, v in scores.items()}
            surveyed: dict[str, list[bool]] = {}  # the latest closing's survey, answered?
            for x in chosen:
                if x.survey_cycle == x.cycle:
                    name = "agent-1" if of == "agent" else getattr(x, of)
                    surveyed.setdefault(name, []).append(x.rating is not None)
            got_rates = {
                r["name"]: (r["surveys_sent"], r["surveys_answered"], r["response_rate"])
                for r in rows
                if r["surveys_sent"]
            }
            assert got_rates == {
                k: (len(v), sum(v), round(sum(v) / len(v), 4)) for k, v in surveyed.items()
            }
            assert all(r["response_rate"] is None for r in rows if not r["surveys_sent"])

        for bucket in ("day", "month"):
            expected: dict[date, Counter[str]] = {}
            for i, kind, at in moments:
                if taken(tickets[i], f, at):
                    day = at.date()
                    key = day if bucket == "day" else day.replace(day=1)
                    expected.setdefault(key, Counter())[kind] += 1
            volume = dashboard.volume(conn, t, f, bucket)
            assert {r["bucket"]: (r["filed"], r["closed"], r["reopened"]) for r in volume} == {
                d: (c["filed"], c["closed"], c["reopened"]) for d, c in expected.items()
            }


def test_a_roll_up_kept_batch_by_batch_equals_one_folded_at_once(
    database_url: str, folded: Any
) -> None:
    """No emptied cell lingers: ``replay rebuild --check`` compares the roll-ups too."""
    t, _, _ = folded
    with psycopg.connect(database_url) as conn:
        for table, measure in (
            (dashboard.COUNTS, "tickets"),
            (dashboard.DAY_COUNTS, "tickets"),
            (dashboard.MOMENT_COUNTS, "moments"),
            (dashboard.SURVEYS, "surveys"),
            (dashboard.DURATIONS, "durations"),
            (dashboard.DAY_DURATIONS, "durations"),
        ):
            row = conn.execute(f"SELECT count(*) FROM {t(table)} WHERE {measure} <= 0").fetchone()
            assert row == (0,)
            assert conn.execute(f"SELECT count(*) FROM {t(table)}").fetchone() != (0,)
