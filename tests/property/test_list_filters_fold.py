"""A filtered list is the unfiltered list with the other rows left out (real PostgreSQL).

The inbox's filters are written for its indexes (a status also as the attention
rank the default order leads with, a filing range as the created sort's key, a
single value as plain equality), so each is checked against the plain meaning:
walking every page of a filtered list, in any order, gives exactly the rows of
the unfiltered walk that match, in the same order.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.service import SupportDesk
from domain.ticket import Ticket
from domain.vocabulary import PRIORITIES, STATUSES, TICKET_TYPES
from projections.catalog import VIEWS
from projections.lists import inbox
from projections.lists.filters import SORTS, ListFilter
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import T0, fresh_schema, requester
from tests.property.strategies import Command, commands, run

PRODUCTS = ("Files", "Dash", "Paper")


def some(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True).map(tuple)


hours = st.integers(0, 20).map(lambda h: T0 + timedelta(hours=h))
NARROWINGS: dict[str, st.SearchStrategy[Any]] = {
    "statuses": some(STATUSES),
    "types": some(TICKET_TYPES),
    "priorities": some(PRIORITIES),
    "products": some(PRODUCTS),
    "needs_answer": st.booleans(),
    "created_from": hours,
    "created_to": hours,
}


@st.composite
def filters(draw: st.DrawFn) -> ListFilter:
    """One or two narrowings at a time, so that most filters still match some tickets."""
    names = draw(st.lists(st.sampled_from(sorted(NARROWINGS)), min_size=0, max_size=2))
    return ListFilter(**{name: draw(NARROWINGS[name]) for name in names})


def walk(conn: psycopg.Connection[Any], runner: ProjectionRunner, f: ListFilter, sort: str
         ) -> list[dict[str, Any]]:  # fmt: skip
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = inbox.tickets(conn, runner.tables, f, sort=sort, limit=3, cursor=cursor)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def matches(row: dict[str, Any], f: ListFilter) -> bool:
    created: datetime = row["created_at"]
    return (
        (not f.statuses or row["status"] in f.statuses)
        and (not f.types or row["type"] in f.types)
        and (not f.priorities or row["priority"] in f.priorities)
        and (not f.products or row["product"] in f.products)
        and (f.needs_answer is None or row["needs_answer"] == f.needs_answer)
        and (f.created_from is None or created >= f.created_from)
        and (f.created_to is None or created < f.created_to)
    )


@settings(max_examples=60, deadline=None)
@given(
    tickets=st.lists(
        st.tuples(
            st.sampled_from(PRODUCTS),
            st.integers(0, 20),
            st.lists(commands, max_size=4),
            st.booleans(),
            st.sampled_from(STATUSES),
        ),
        min_size=1,
        max_size=8,
    ),
    asked=st.lists(st.tuples(filters(), st.sampled_from(sorted(SORTS))), min_size=1, max_size=6),
)
def test_a_filtered_walk_is_the_unfiltered_walk_less_the_rows_that_do_not_match(
    database_url: str,
    tickets: list[tuple[str, int, list[Command], bool, str]],
    asked: list[tuple[ListFilter, str]],
) -> None:
    with fresh_schema(database_url) as schema:
        desk = SupportDesk(eventsourcing_env(database_url, schema, pool_size=2))
        try:
            for i, (product, hours, stream, answered, status) in enumerate(tickets):
                filed = T0 + timedelta(hours=hours)  # on the hour: filters' edges fall on it
                ticket = Ticket.file(
                    ticket_id=uuid.uuid4(), number=f"T-{i + 1:06d}", subject="S",
                    description="D", type="bug", priority="normal", product=product,
                    topic="sync", channel="web", requester_id="req-1", account_id="acct-1",
                    stamp=requester(filed),
                )  # fmt: skip
                minutes = hours * 60
                last = [Command("status", {"to": status}, 5)]
                if answered:
                    last.insert(0, Command("reply", {"role": "agent", "body": "Try now"}, 5))
                for command in [*stream, *last]:
                    minutes += command.minutes
                    run(ticket, command, minutes)
                desk.save(ticket)
        finally:
            desk.close()
        runner = ProjectionRunner(database_url, schema, [VIEWS["inbox"]], batch_size=4)
        runner.create_tables()
        runner.catch_up()
        with psycopg.connect(database_url) as conn:
            for f, sort in asked:
                every = walk(conn, runner, ListFilter(), sort)
                assert len(every) == len(tickets)
                expected = [r["ticket_id"] for r in every if matches(r, f)]
                assert [r["ticket_id"] for r in walk(conn, runner, f, sort)] == expected
