"""Time-based automations on PostgreSQL: the watch finds due tickets through the
automations view, fires each rule once per ticket and cycle, and the simulation writes
nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from desk.automation_watch import AutomationWatch
from desk.service import SupportDesk
from domain.macro import MacroActions
from domain.stamp import Stamp
from domain.ticket import Ticket
from projections import automations
from projections.kit import Tables
from projections.runner import ProjectionRunner
from replay.automation_simulate import simulate
from store.log import log_head
from tests.builders import (
    T0,
    agent,
    agent_reply,
    desk_with_account,
    file,
    new_staff,
    requester,
    system,
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


WatchAt = Callable[[Clock], AutomationWatch]


@pytest.fixture
def watch_at(desk: SupportDesk, database_url: str, schema: str) -> WatchAt:
    """The automation watch over this test's desk and schema, reading the time off a clock
    the test sets."""

    def watch(clock: Clock) -> AutomationWatch:
        return AutomationWatch(desk, database_url, schema, clock=clock)

    return watch


def first_due_between(watch_at: WatchAt, before: datetime, after: datetime) -> AutomationWatch:
    """A watch that finds nothing due at ``before`` and one ticket at ``after``, and works
    it: the watch, its clock left at ``after``."""
    watch = watch_at(Clock(before))
    assert watch.sweep() == 0
    watch.clock = Clock(after)
    assert watch.sweep() == 1
    return watch


OutboxMail = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def outbox_mail(conn: psycopg.Connection[Any], schema: str) -> OutboxMail:
    """The emails the outbox holds: the columns asked for, of the rows a condition picks."""

    def select(columns: str, where: str, *params: object) -> list[tuple[Any, ...]]:
        query = f'SELECT {columns} FROM "{schema}".outbox_mail WHERE {where}'
        return conn.execute(query, params).fetchall()

    return select


def pending(desk: SupportDesk, account: UUID, at: datetime) -> UUID:
    t = file(desk, account, at=at)
    agent_reply(desk, t.ticket_id, "Which version?", at)
    desk.change_status(t.ticket_id, to_status="pending", stamp=agent(at))
    return t.ticket_id


def enable(desk: SupportDesk, rule_id: str) -> None:
    desk.change_automation_rule(rule_id, changes={"enabled": True}, stamp=system())


def stored(desk: SupportDesk, ticket_id: UUID) -> list[Any]:
    return [desk.mapper.to_domain_event(s) for s in desk.recorder.select_events(ticket_id)]


def fired(desk: SupportDesk, ticket_id: UUID) -> list[Any]:
    return [e for e in stored(desk, ticket_id) if isinstance(e, Ticket.AutomationFired)]


def test_the_watch_reminds_a_pending_ticket_once_and_again_in_its_next_pending_cycle(
    desk: SupportDesk, runner: ProjectionRunner, watch_at: WatchAt
) -> None:
    account = desk_with_account(desk)
    waiting = pending(desk, account, T0)
    fresh = pending(desk, account, T0 + timedelta(days=3))
    enable(desk, "pending-reminder")
    clock = Clock(T0 + timedelta(days=4, minutes=1))
    runner.catch_up()
    watch = watch_at(clock)
    assert watch.sweep() == 1
    assert watch_at(clock).sweep() == 0  # view behind
    runner.catch_up()
    assert watch.sweep() == 0
    (firing,) = fired(desk, waiting)
    assert (firing.rule_id, firing.rule_version, firing.cycle_start) == (
        "pending-reminder", 2, T0,
    )  # fmt: skip
    assert fired(desk, fresh) == []
    ticket: Ticket = desk.repository.get(waiting)
    reminder = [e for e in stored(desk, waiting) if isinstance(e, Ticket.MessageAdded)][-1]
    assert reminder.stamp.causation_id == "rule:pending-reminder:v2"
    assert (reminder.author_role, ticket.status) == ("agent", "pending")

    # the requester answers, the agent asks again: a new pending cycle, reminded again
    back = T0 + timedelta(days=5)
    desk.add_message(waiting, author_id="req-1", author_role="requester", body="2.1",
                     stamp=requester(back))  # fmt: skip
    desk.change_status(waiting, to_status="pending", stamp=agent(back))
    clock.now = back + timedelta(days=4, minutes=1)
    runner.catch_up()
    assert watch.sweep() == 2  # the waiting ticket's second cycle, and the fresh one's first
    assert [f.cycle_start for f in fired(desk, waiting)] == [T0, back]


def test_closing_after_seven_days_pending_says_so_and_closes(
    desk: SupportDesk, runner: ProjectionRunner, watch_at: WatchAt
) -> None:
    account = desk_with_account(desk)
    ticket_id = pending(desk, account, T0)
    enable(desk, "pending-close")
    runner.catch_up()
    first_due_between(watch_at, T0 + timedelta(days=6), T0 + timedelta(days=7))
    events = stored(desk, ticket_id)
    fired_at = next(i for i, e in enumerate(events) if isinstance(e, Ticket.AutomationFired))
    kinds = [type(e).__name__ for e in events[fired_at:]]
    # the closing asks for a rating, as any closing does
    assert kinds == ["AutomationFired", "MessageAdded", "StatusChanged", "SurveyOffered"]
    assert {e.stamp.causation_id for e in events[fired_at:]} == {"rule:pending-close:v2"}
    assert desk.repository.get(ticket_id).status == "closed"


def test_a_switched_off_rule_never_fires(
    desk: SupportDesk, runner: ProjectionRunner, watch_at: WatchAt
) -> None:
    account = desk_with_account(desk)
    ticket_id = pending(desk, account, T0)
    runner.catch_up()
    watch = watch_at(Clock(T0 + timedelta(days=30)))
    assert watch.sweep() == 0
    assert fired(desk, ticket_id) == []


def test_the_watch_asks_the_view_for_due_tickets_through_an_index(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(desk)
    pending(desk, account, T0)
    runner.catch_up()
    rule = desk.automation_rule("pending-reminder")
    conn.execute(f'SET search_path TO "{schema}"')
    conn.execute("SET enable_seqscan = off")  # a tiny table: ask what the plan can use
    t = Tables(schema)
    plan = conn.execute(
        f"EXPLAIN SELECT ticket_id FROM {t(automations.TICKETS)} WHERE status <> 'closed' "
        "AND status_since <= now() ORDER BY status_since LIMIT 10"
    ).fetchall()
    assert any("automation_tickets_status_entered" in row[0] for row in plan), plan
    due = automations.due(conn, t, rule.id, rule.conditions, T0 + timedelta(days=5), 10)
    assert len(due) == 1


def test_simulating_a_rule_writes_nothing_and_says_what_it_would_have_done(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str, database_url: str
) -> None:
    account = desk_with_account(desk)
    waiting = pending(desk, account, T0)
    answered = pending(desk, account, T0)
    desk.add_message(answered, author_id="req-1", author_role="requester", body="here",
                     stamp=requester(T0 + timedelta(days=2)))  # fmt: skip
    rule = desk.automation_rule("pending-reminder")
    before = (log_head(conn, schema), event_count(conn, schema))
    found = simulate(conn, schema, rule=rule, start=T0, end=T0 + timedelta(days=30))
    assert [(f.ticket_id, f.at) for f in found.firings] == [(waiting, T0 + timedelta(days=4))]
    assert "reply" in found.table()
    # and from the command line, which prints the same
    shown = subprocess.run(
        [sys.executable, "-m", "api.cli", "automations", "simulate", "--rule",
         "pending-reminder", "--from", T0.isoformat(), "--to", "2024-04-03T09:00", "--json"],
        env={**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert [f["at"] for f in json.loads(shown.stdout)["firings"]] == ["2024-03-08T09:00:00+00:00"]
    assert (log_head(conn, schema), event_count(conn, schema)) == before


def event_count(conn: psycopg.Connection[Any], schema: str) -> int:
    row = conn.execute(f'SELECT count(*) FROM "{schema}".docket_events').fetchone()
    assert row is not None
    return int(row[0])


def test_an_urgent_ticket_with_no_agent_reply_is_escalated_once_and_its_agent_emailed(
    desk: SupportDesk, runner: ProjectionRunner, watch_at: WatchAt, outbox_mail: OutboxMail
) -> None:
    account = desk_with_account(desk)
    ann = new_staff(desk, "Ann", "ann@docket.test", groups=["tier-1", "tier-2"])
    t = desk.file_ticket(account_id=account, requester_id="req-1", subject="Down",
                         description="All down.", type="bug", priority="urgent",
                         product="Files", stamp=requester(T0))  # fmt: skip
    desk.assign(t.ticket_id, agent_id=ann, group="tier-1", stamp=agent(T0))
    enable(desk, "urgent-escalation")
    runner.catch_up()
    watch = first_due_between(watch_at, T0 + timedelta(minutes=29), T0 + timedelta(minutes=31))
    runner.catch_up()
    watch.clock = Clock(T0 + timedelta(days=3))
    assert watch.sweep() == 0  # tagged escalated: the view no longer offers it
    escalated: Ticket = desk.repository.get(t.ticket_id)
    assert (escalated.tags, escalated.group, escalated.assignee_id) == (
        ("escalated",), "tier-2", ann,
    )  # fmt: skip
    mail = outbox_mail("recipients, body", "reason = %s", "automation")
    assert [m[0] for m in mail] == [["ann@docket.test"]]
    assert "escalated to tier-2" in mail[0][1]


def test_a_rule_that_applies_a_shared_macro_fires_once_writing_its_changes_caused_by_the_rule(
    desk: SupportDesk,
    runner: ProjectionRunner,
    watch_at: WatchAt,
    outbox_mail: OutboxMail,
    conn: psycopg.Connection[Any],
    schema: str,
) -> None:
    account = desk_with_account(desk)
    ticket_id = pending(desk, account, T0)
    admin = Stamp("admin-1", "admin", "web", T0)
    nudge = MacroActions(
        reply={"en": "Hello {{requester.name}}, any news on {{ticket.number}}?",
               "fr": "Bonjour {{requester.name}}, du nouveau ?"},
        tags_add=("nudged",), tags_remove=("waiting",), status="open",
    )  # fmt: skip
    macro = desk.create_macro(title="Nudge", shared=True, actions=nudge, stamp=admin)
    desk.change_tags(ticket_id, add=["waiting"], stamp=agent(T0))
    rule = desk.add_automation_rule(
        data={"id": "nudge-by-macro", "name": "Nudge by macro", "enabled": True,
              "conditions": {"since": "status_entered", "hours": 48, "status": ["pending"]},
              "actions": [{"type": "apply_macro", "macro_id": str(macro.macro_id)}]},
        stamp=system(),
    )  # fmt: skip
    runner.catch_up()
    watch = watch_at(Clock(T0 + timedelta(days=2)))
    assert watch.sweep() == 1
    runner.catch_up()
    watch.clock = Clock(T0 + timedelta(days=9))
    assert watch.sweep() == 0  # open now: no longer pending, nothing more to do
    events = stored(desk, ticket_id)
    at = next(i for i, e in enumerate(events) if isinstance(e, Ticket.AutomationFired))
    assert [type(e).__name__ for e in events[at:]] == [
        "AutomationFired", "TagsRemoved", "TagsAdded", "MessageAdded", "StatusChanged",
    ]  # fmt: skip
    assert {e.stamp.causation_id for e in events[at:]} == {"rule:nudge-by-macro:v1"}
    ticket: Ticket = desk.repository.get(ticket_id)
    assert (ticket.status, ticket.tags) == ("open", ("nudged",))
    reply = events[at + 3]
    assert (reply.author_id, reply.body) == (
        "rule:nudge-by-macro", f"Hello R, any news on {ticket.number}?",
    )  # fmt: skip
    mail = outbox_mail("recipients", "ticket_id = %s AND body LIKE %s", ticket_id, "%any news%")
    assert mail == [(["r@acme.test"],)]  # the macro's reply is emailed like any other
    described = simulate(conn, schema, rule=rule, start=T0, end=T0 + timedelta(days=9),
                         macros=desk.rule_macros(rule)).table()  # fmt: skip
    assert "apply macro 'Nudge' v1 (add tag nudged, remove tag waiting, reply (en)" in described
    assert "set status open" in described
