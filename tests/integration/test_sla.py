"""SLA clocks in the view, the deadline watch with a fake clock, and rebuild equivalence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from desk.deadline_watch import DeadlineWatch
from desk.service import SupportDesk
from domain.ticket import Ticket
from projections import sla
from projections.catalog import VIEWS
from projections.lists.filters import ListFilter
from projections.lists.inbox import tickets as inbox_tickets
from projections.runner import ProjectionRunner
from replay.rebuild import rebuild
from store.log import log_head
from tests.builders import agent, requester, system

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def premium_account(desk: SupportDesk, tier: str = "premium_enhanced") -> Any:
    """An account with Premium on every product; its requester is an admin of it (Premium
    is only for an account's admins)."""
    account = desk.open_account(
        name="Acme", plan="business", support_tier=tier, stamp=system(MONDAY)
    ).account_id
    desk.add_member(
        account,
        member_id="req-1",
        email="r@acme.test",
        name="R",
        role="admin",
        stamp=system(MONDAY),
    )
    return account


def file_at(desk: SupportDesk, account: Any, at: datetime, priority: str = "normal") -> Any:
    return desk.file_ticket(
        account_id=account, requester_id="req-1", subject="Down", description="All down.",
        type="bug", priority=priority, product="Files", stamp=requester(at),
    )  # fmt: skip


def breaches(desk: SupportDesk, ticket_id: Any) -> list[Ticket.SlaBreached]:
    events = desk.repository.event_store.get(ticket_id)
    return [e for e in events if isinstance(e, Ticket.SlaBreached)]


def test_a_breach_due_while_the_workers_were_stopped_is_recorded_once_after_they_start(
    desk: SupportDesk, runner: ProjectionRunner, database_url: str, schema: str
) -> None:
    account = premium_account(desk)  # premium_enhanced, normal: first response within 1 hour
    filed = file_at(desk, account, MONDAY)
    answered = file_at(desk, account, MONDAY)
    desk.add_message(answered.ticket_id, author_id="agent-1", author_role="agent", body="Hi",
                     attachments=None, stamp=agent(MONDAY + 0.5 * H))  # fmt: skip
    clock = FakeClock(MONDAY + 0.5 * H)
    runner.catch_up()
    watch = DeadlineWatch(desk, database_url, schema, clock=clock)
    assert watch.sweep() == 0  # nothing due yet

    clock.now = MONDAY + 3 * H  # the due instant passes with no worker running
    runner.catch_up()  # the workers start again: first the views, then the watch
    first, again = DeadlineWatch(desk, database_url, schema, clock=clock), None
    assert first.sweep() == 1
    again = DeadlineWatch(desk, database_url, schema, clock=clock)  # a restart, view behind
    assert again.sweep() == 0
    runner.catch_up()
    assert again.sweep() == 0

    (breach,) = breaches(desk, filed.ticket_id)
    assert (breach.target, breach.due_at, breach.breached_at) == (
        "first_response", MONDAY + H, MONDAY + 3 * H,
    )  # fmt: skip
    assert (breach.stamp.actor_kind, breach.stamp.via) == ("system", "system")
    assert breaches(desk, answered.ticket_id) == []


def test_the_watch_thread_records_a_breach_as_it_falls_due(
    desk: SupportDesk, runner: ProjectionRunner, database_url: str, schema: str
) -> None:
    account = premium_account(desk)
    now = datetime.now(UTC)
    filed = file_at(desk, account, now - H + timedelta(seconds=1), priority="normal")
    runner.start()
    watch = DeadlineWatch(desk, database_url, schema, interval=5.0)
    watch.start()
    try:
        deadline = time.monotonic() + 20
        while not breaches(desk, filed.ticket_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        found_at = datetime.now(UTC)
    finally:
        watch.stop()
        runner.stop()
    (breach,) = breaches(desk, filed.ticket_id)
    assert breach.due_at < breach.breached_at <= found_at
    assert breach.breached_at - breach.due_at < timedelta(seconds=5)


def test_the_view_shows_clocks_and_the_inbox_sorts_and_filters_by_due(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = premium_account(desk)
    relaxed = file_at(desk, account, MONDAY, priority="low")  # first response due 10:00
    urgent = file_at(desk, account, MONDAY + 0.25 * H, priority="urgent")  # due 09:45
    answered = file_at(desk, account, MONDAY)
    desk.add_message(answered.ticket_id, author_id="agent-1", author_role="agent", body="Hi",
                     attachments=None, stamp=agent(MONDAY + 0.1 * H))  # fmt: skip
    runner.catch_up()

    state = sla.ticket_state(conn, runner.tables, urgent.ticket_id)
    assert state is not None
    now = MONDAY + 0.5 * H
    first, resolution = sla.readings(state, now)
    assert (first.target, first.state, first.due_at) == (
        "first_response", "running", MONDAY + 0.75 * H,
    )  # fmt: skip
    assert first.business_seconds_left == 15 * 60
    assert (resolution.target, resolution.due_at) == ("resolution", MONDAY + 8.25 * H)

    due_first = inbox_tickets(conn, runner.tables, ListFilter(), sort="due")
    order = [r["ticket_id"] for r in due_first.rows]
    assert order[:2] == [urgent.ticket_id, relaxed.ticket_id]
    assert order[2] == answered.ticket_id  # only its resolution clock still runs
    soon = inbox_tickets(conn, runner.tables, ListFilter(breaching_within=20, now=now), sort="due")
    assert [r["ticket_id"] for r in soon.rows] == [urgent.ticket_id]


def test_compliance_counts_met_breached_and_running_per_tier_priority_and_account(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = premium_account(desk)
    met = file_at(desk, account, MONDAY)
    late = file_at(desk, account, MONDAY)
    file_at(desk, account, MONDAY + 10 * H)  # still running at 10:30
    desk.add_message(met.ticket_id, author_id="agent-1", author_role="agent", body="Hi",
                     attachments=None, stamp=agent(MONDAY + 0.5 * H))  # fmt: skip
    desk.add_message(late.ticket_id, author_id="agent-1", author_role="agent", body="Sorry",
                     attachments=None, stamp=agent(MONDAY + 2 * H))  # fmt: skip
    runner.catch_up()
    report = sla.summary(conn, runner.tables, start=MONDAY, end=MONDAY + 24 * H,
                         now=MONDAY + 10.5 * H)  # fmt: skip
    (first,) = [r for r in report["tier"] if r["target"] == "first_response"]
    assert (first["key"], first["met"], first["breached"], first["running"]) == (
        "premium_enhanced", 1, 1, 1,
    )  # fmt: skip
    assert first["compliance"] == 0.5
    assert {r["key"] for r in report["account"]} == {str(account)}


def test_the_sla_view_rebuilt_from_zero_equals_the_live_one(
    desk: SupportDesk, runner: ProjectionRunner, database_url: str, schema: str
) -> None:
    account = premium_account(desk, tier="premium_essentials")
    runner.start()
    try:
        for n in range(6):
            at = MONDAY + n * H
            t = file_at(desk, account, at, priority=("normal", "urgent")[n % 2])
            desk.change_status(t.ticket_id, to_status="pending", stamp=agent(at + 0.2 * H))
            desk.add_message(t.ticket_id, author_id="req-1", author_role="requester",
                             body="more", attachments=None, stamp=requester(at + 0.5 * H))  # fmt: skip
            if n % 3 == 0:
                desk.change_status(t.ticket_id, to_status="closed", stamp=agent(at + H))
                desk.reopen(t.ticket_id, stamp=requester(at + 2 * H))
            desk.record_sla_breaches(t.ticket_id, stamp=system(at + 30 * H))
        time.sleep(0.5)
    finally:
        runner.stop()
    runner.catch_up()
    checked = rebuild(database_url, schema, [VIEWS["sla"], VIEWS["inbox"]], check=True)
    assert checked.differences == {"sla": [], "inbox": []}


def test_simulate_replays_a_period_under_another_tier_and_writes_nothing(
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    database_url: str,
    schema: str,
) -> None:
    account = premium_account(desk, tier="premium_essentials")  # first response: 4 hours
    for n in range(3):  # answered after 2 hours: met as promised, late for premium_enhanced
        t = file_at(desk, account, MONDAY + n * H)
        desk.add_message(t.ticket_id, author_id="agent-1", author_role="agent", body="Hi",
                         attachments=None, stamp=agent(MONDAY + (n + 2) * H))  # fmt: skip
    fast = file_at(desk, account, MONDAY)
    desk.add_message(fast.ticket_id, author_id="agent-1", author_role="agent", body="Hi",
                     attachments=None, stamp=agent(MONDAY + 0.5 * H))  # fmt: skip
    file_at(desk, account, MONDAY + timedelta(days=40))  # outside the period
    head = log_head(conn, schema)

    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema}
    command = [sys.executable, "-m", "api.cli", "sla", "simulate", "--tier", "premium_enhanced",
               "--from", "2026-03-01", "--to", "2026-03-31", "--json"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["tickets"] == 4
    assert found["recorded"]["first_response"] == {"met": 4, "breached": 0, "running": 0}
    assert found["simulated"]["first_response"] == {"met": 1, "breached": 3, "running": 0}
    assert log_head(conn, schema) == head

    table = subprocess.run(command[:-1], env=env, capture_output=True, text=True, check=False)
    assert "first_response" in table.stdout and "4/0/0 (100.0%)" in table.stdout
    unknown = subprocess.run([*command[:6], "platinum", *command[7:]], env=env,
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert unknown.returncode != 0 and "platinum" in unknown.stderr
