"""Automations fire at most once per ticket and cycle, whatever the timing: two watches
sweeping one after the other or at once, restarts (a fresh desk on the same store),
the view behind or caught up, and the clock ticking at random. Real PostgreSQL: the
once-ness is the ticket's, decided by the write."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.automation_watch import AutomationWatch
from desk.service import SupportDesk
from domain.automation import RuleFacts
from domain.ticket import Ticket, rule_facts_after
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import T0, agent, desk_with_account, file, fresh_schema, requester, system
from tests.property.strategies import Command, commands, ticket_after

QUIET = {
    "id": "quiet-pending",
    "name": "Tell the requester after an hour pending",
    "enabled": True,
    "conditions": {"since": "status_entered", "hours": 1, "status": ["pending"]},
    "actions": [{"type": "notify", "to": "requester", "body": "Still waiting for you."}],
}

steps = st.one_of(
    st.tuples(st.just("tick"), st.integers(0, 180)),
    st.tuples(st.just("sweep"), st.integers(0, 1)),
    st.tuples(st.just("race"), st.just(0)),
    st.tuples(st.just("restart"), st.integers(0, 1)),
    st.tuples(st.just("catch_up"), st.just(0)),
    st.tuples(st.just("answer"), st.integers(0, 1)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, max_size=25), st.lists(st.sampled_from(["vip", "tier-2"]), max_size=4))
def test_the_views_fold_of_automation_facts_equals_the_tickets_own(
    sequence: list[Command], changes: list[str]
) -> None:
    ticket = ticket_after(sequence)
    for n, change in enumerate(changes):  # tags and groups, which the commands do not touch
        at = T0 + timedelta(days=30, minutes=n)
        if change == "vip":
            ticket.change_tags(add=[] if "vip" in ticket.tags else ["vip"],
                               remove=["vip"] if "vip" in ticket.tags else [], stamp=agent(at))  # fmt: skip
        else:
            group = None if ticket.group == "tier-2" else "tier-2"
            ticket.assign(agent_id=None, group=group, stamp=agent(at))
    facts: RuleFacts | None = None
    for event in ticket.collect_events():
        facts = rule_facts_after(facts, event)
    assert facts == ticket.rule_facts


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def firings(desk: SupportDesk, ticket_id: UUID) -> list[Any]:
    return [
        e
        for e in (desk.mapper.to_domain_event(s) for s in desk.recorder.select_events(ticket_id))
        if isinstance(e, Ticket.AutomationFired)
    ]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(steps, max_size=14))
def test_a_rule_fires_at_most_once_per_ticket_and_cycle_whatever_the_timing(
    database_url: str, sequence: list[tuple[str, int]]
) -> None:
    with fresh_schema(database_url) as schema:
        env = eventsourcing_env(database_url, schema, pool_size=4)
        desks = [SupportDesk(env), SupportDesk(env)]
        runner = ProjectionRunner(database_url, schema, VIEWS.values())
        runner.create_tables()
        clock = Clock(T0)
        try:
            account = desk_with_account(desks[0])
            tickets = [file(desks[0], account).ticket_id for _ in range(2)]
            for t in tickets:
                desks[0].change_status(t, to_status="pending", stamp=agent(T0))
            desks[0].add_automation_rule(data=QUIET, stamp=system())
            watches = [AutomationWatch(d, database_url, schema, clock=clock) for d in desks]
            for kind, n in sequence:
                if kind == "tick":
                    clock.now += timedelta(minutes=n)
                elif kind == "sweep":
                    watches[n].sweep()
                elif kind == "race":
                    threads = [threading.Thread(target=w.sweep) for w in watches]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                elif kind == "restart":
                    desks[n].close()
                    desks[n] = SupportDesk(env)
                    watches[n] = AutomationWatch(desks[n], database_url, schema, clock=clock)
                elif kind == "catch_up":
                    runner.catch_up()
                elif kind == "answer":  # the requester answers, the agent asks again
                    t = tickets[n]
                    desks[0].add_message(t, author_id="req-1", author_role="requester",
                                         body="Here", stamp=requester(clock.now))  # fmt: skip
                    desks[0].change_status(t, to_status="pending", stamp=agent(clock.now))
            # at the end the view catches up and time passes: each current cycle fires once
            clock.now += timedelta(hours=2)
            runner.catch_up()
            watches[0].sweep()
            watches[1].sweep()
            for t in tickets:
                fired = firings(desks[0], t)
                cycles = Counter((f.rule_id, f.cycle_start) for f in fired)
                assert all(n == 1 for n in cycles.values()), f"fired twice: {cycles}"
                ticket: Ticket = desks[0].repository.get(t)
                current = ticket.rule_facts.status_since
                assert ("quiet-pending", current) in cycles  # and it did fire
                assert all(f.due_at <= f.timestamp for f in fired)
        finally:
            for d in desks:
                d.close()
