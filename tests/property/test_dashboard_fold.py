"""Every dashboard equals the same figure computed straight from the events (real PostgreSQL).

The reference below folds the stored events itself, in plain Python, and computes
each figure the way an analyst would by hand (percentiles by linear interpolation).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.service import SupportDesk
from domain.ticket import Ticket
from projections import dashboard
from projections.catalog import VIEWS
from projections.dashboard import DashboardFilter
from projections.dashboard.durations import error_bound
from projections.runner import ProjectionRunner
from replay.store import every_event
from store.database import eventsourcing_env
from store.eventstore import docket_mapper
from tests.builders import T0, fresh_schema, requester
from tests.property.strategies import Command, commands, run

MAPPER = docket_mapper()
filings = st.tuples(
    st.sampled_from(["Files", "Dash", "Paper"]),
    st.sampled_from(["sync", "login", "billing"]),
    st.sampled_from(["web", "email", "chat"]),
    st.sampled_from(["low", "normal", "high", "urgent"]),
)


def write(
    url: str,
    schema: str,
    tickets: list[tuple[str, str, str, str]],
    stream: list[tuple[int, Command]],
) -> None:
    desk = SupportDesk(eventsourcing_env(url, schema, pool_size=2))
    try:
        made = [
            Ticket.file(
                ticket_id=uuid.uuid4(), number=f"T-{i + 1:06d}", subject="S", description="D",
                type="bug", priority=priority, product=product, topic=topic, channel=channel,
                requester_id="req-1", account_id="acct-1", stamp=requester(T0),
            )
            for i, (product, topic, channel, priority) in enumerate(tickets)
        ]  # fmt: skip
        desk.save(*made)
        minutes = 0
        for index, command in stream:
            minutes += command.minutes
            ticket = made[index % len(made)]
            run(ticket, command, minutes)
            desk.save(ticket)
    finally:
        desk.close()


def reference(
    url: str, schema: str
) -> tuple[dict[Any, dict[str, Any]], list[tuple[str, datetime]]]:
    tickets: dict[Any, dict[str, Any]] = {}
    moments: list[tuple[str, datetime]] = []
    with psycopg.connect(url) as conn:
        for entry in every_event(conn, schema):
            e: Any = MAPPER.to_domain_event(entry.stored)
            kind, at = type(e).__qualname__, e.timestamp
            if kind == "Ticket.Opened":
                tickets[e.originator_id] = {
                    "product": e.product, "topic": e.topic, "type": e.type, "priority": e.priority,
                    "status": "open", "created": at, "first": None, "resolved": None,
                    "rating": None, "assignee": None, "last_agent": None,
                }  # fmt: skip
                moments.append(("filed", at))
                continue
            t = tickets.get(e.originator_id)
            if t is None:
                continue
            if kind == "Ticket.MessageAdded" and e.author_role == "agent":
                t["last_agent"] = e.author_id
                t["first"] = t["first"] or at
            elif kind == "Ticket.StatusChanged":
                t["status"] = e.to_status
                if e.to_status == "closed":
                    t["resolved"] = at
                    moments.append(("closed", at))
            elif kind == "Ticket.Reopened":
                t.update(status="open", resolved=None, rating=None)
                moments.append(("reopened", at))
            elif kind in ("Ticket.PriorityRaised", "Ticket.PriorityLowered"):
                t["priority"] = e.to_priority
            elif kind == "Ticket.TypeChanged":
                t["type"] = e.to_type
            elif kind == "Ticket.SatisfactionRated":
                t["rating"] = e.score
    return tickets, moments


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


QUANTILES = {0.5: "median", 0.9: "p90"}


def ranked(counter: Counter[str], limit: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


@settings(max_examples=15, deadline=None)
@given(
    tickets=st.lists(filings, min_size=1, max_size=4),
    stream=st.lists(st.tuples(st.integers(0, 3), commands), max_size=30),
)
def test_every_dashboard_equals_the_figure_folded_straight_from_the_events(
    database_url: str, tickets: list[tuple[str, str, str, str]], stream: list[tuple[int, Command]]
) -> None:
    with fresh_schema(database_url) as schema:
        write(database_url, schema, tickets, stream)
        runner = ProjectionRunner(database_url, schema, [VIEWS["dashboard"]], batch_size=5)
        runner.create_tables()
        runner.catch_up()
        expected, moments = reference(database_url, schema)
        t, every = runner.tables, DashboardFilter()
        with psycopg.connect(database_url) as conn:
            summary = {r["status"]: r["tickets"] for r in dashboard.summary(conn, t, every)}
            assert summary == dict(Counter(x["status"] for x in expected.values()))

            issues = dashboard.top_issues(conn, t, every, limit=2)
            for dimension in ("topic", "type"):
                got = [(r["name"], r["tickets"]) for r in issues if r["dimension"] == dimension]
                assert got == ranked(Counter(x[dimension] for x in expected.values()), 2)

            products = dashboard.top_products(conn, t, every, "sync", 2)
            got = [(r["product"], r["tickets"]) for r in products if r["scope"] == "topic"]
            assert got == ranked(
                Counter(x["product"] for x in expected.values() if x["topic"] == "sync"), 2
            )

            days: dict[Any, Counter[str]] = {}
            for kind, at in moments:
                days.setdefault(at.date(), Counter())[kind] += 1
            volume = dashboard.volume(conn, t, every, "day")
            assert {r["bucket"]: (r["filed"], r["closed"], r["reopened"]) for r in volume} == {
                d: (c["filed"], c["closed"], c["reopened"]) for d, c in days.items()
            }

            for row in dashboard.times(conn, t, every, "priority"):
                group = [x for x in expected.values() if x["priority"] == row["name"]]
                assert row["tickets"] == len(group)
                for name, key in (("first_response", "first"), ("resolution", "resolved")):
                    hours = [
                        (x[key] - x["created"]).total_seconds() / 3600 for x in group if x[key]
                    ]
                    assert row[f"{name}_count"] == len(hours)
                    if hours:  # quantiles from the roll-up's buckets, within their bound
                        for q in (0.5, 0.9):
                            exact = percentile(hours, q)
                            bound = error_bound(max(map(abs, hours))) + 1e-4
                            assert abs(row[f"{name}_{QUANTILES[q]}_hours"] - exact) <= bound
                        assert abs(row[f"{name}_mean_hours"] - sum(hours) / len(hours)) < 1e-3

            rated: dict[str, list[int]] = {}
            for x in expected.values():
                if x["rating"] is not None:
                    rated.setdefault(x["product"], []).append(x["rating"])
            satisfaction = dashboard.satisfaction(conn, t, every, "product")
            assert {r["name"]: (r["ratings"], r["mean_rating"]) for r in satisfaction} == {
                p: (len(v), round(sum(v) / len(v), 4)) for p, v in rated.items()
            }
