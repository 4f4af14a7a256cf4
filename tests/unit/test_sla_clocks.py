"""SLA clocks as the ticket folds them: starts, stops, pauses, cycles, re-targets, breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.errors import NothingChanged
from domain.sla import FOUNDING_POLICY, SlaState, state_from_data, state_to_data, terms_for
from domain.ticket import Ticket, sla_after
from tests.builders import agent, requester, system

H = timedelta(hours=1)
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ticket(
    tier: str = "premium_essentials",
    calendar: str = "24x7",
    priority: str = "normal",
    at: datetime = MONDAY,
) -> Ticket:
    return Ticket.file(
        ticket_id=uuid4(), number="T-000001", subject="Sync fails", description="Broken.",
        type="bug", priority=priority, product="Files", topic="", channel="web",
        requester_id="req-1", account_id="acct-1", stamp=requester(at),
        sla_terms=terms_for(FOUNDING_POLICY, tier, calendar),
    )  # fmt: skip


def clock(t: Ticket, target: str, cycle: int | None = None) -> Any:
    found = [c for c in t.sla.clocks if c.target == target and c.cycle == (cycle or t.cycle)]
    return found[-1]


def agent_replies(t: Ticket, at: datetime, body: str) -> None:
    t.add_message(
        author_id="agent-1", author_role="agent", body=body, attachments=[], stamp=agent(at)
    )


def requester_writes(t: Ticket, at: datetime, body: str) -> None:
    t.add_message(
        author_id="req-1", author_role="requester", body=body, attachments=[], stamp=requester(at)
    )


def test_first_response_runs_from_filing_and_an_internal_note_does_not_stop_it() -> None:
    t = ticket()  # premium_essentials, normal: first response within 4 hours
    assert clock(t, "first_response").due_at == MONDAY + 4 * H
    t.add_internal_note(author_id="agent-1", body="looking", stamp=agent(MONDAY + H))
    assert clock(t, "first_response").stopped_at is None
    agent_replies(t, MONDAY + 3 * H, "On it")
    first = clock(t, "first_response")
    assert (first.stopped_at, first.state(MONDAY + 10 * H)) == (MONDAY + 3 * H, "met")


def test_a_reply_after_the_due_instant_is_a_breach_even_unnoticed() -> None:
    t = ticket()
    agent_replies(t, MONDAY + 5 * H, "Sorry")
    first = clock(t, "first_response")
    assert first.state(MONDAY + 5 * H) == "breached"
    assert [c.target for c in t.sla.breaches_due(MONDAY + 5 * H)] == ["first_response"]


def test_next_reply_runs_from_the_oldest_unanswered_customer_message() -> None:
    t = ticket()  # next reply within 8 hours
    agent_replies(t, MONDAY + H, "Try this")
    requester_writes(t, MONDAY + 2 * H, "No luck")
    requester_writes(t, MONDAY + 5 * H, "Still?")
    waiting = clock(t, "next_reply")
    assert (waiting.started_at, waiting.due_at) == (MONDAY + 2 * H, MONDAY + 10 * H)
    agent_replies(t, MONDAY + 6 * H, "Fixed")
    assert clock(t, "next_reply").state(MONDAY + 20 * H) == "met"
    assert len([c for c in t.sla.clocks if c.target == "next_reply"]) == 1


def test_pending_pauses_the_resolution_clock_and_open_resumes_it() -> None:
    t = ticket()  # resolution within 72 hours
    t.change_status(to_status="pending", stamp=agent(MONDAY + 2 * H))
    paused = clock(t, "resolution")
    assert (paused.state(MONDAY + 3 * H), paused.due_at, paused.used) == ("paused", None, 2 * H)
    requester_writes(t, MONDAY + 12 * H, "Here")
    assert t.status == "open"
    assert clock(t, "resolution").due_at == MONDAY + 12 * H + 70 * H


def test_a_reopen_starts_a_new_cycle_measured_from_the_reopen() -> None:
    t = ticket()
    agent_replies(t, MONDAY + H, "Done")
    t.change_status(to_status="closed", stamp=agent(MONDAY + 2 * H))
    assert clock(t, "resolution").state(MONDAY + 3 * H) == "met"
    reopened_at = MONDAY + timedelta(days=3)
    t.reopen(
        stamp=requester(reopened_at),
        sla_terms=terms_for(FOUNDING_POLICY, "premium_essentials", "24x7"),
    )
    first = clock(t, "first_response", 2)
    assert (first.started_at, first.due_at) == (reopened_at, reopened_at + 4 * H)
    assert clock(t, "first_response", 1).state(reopened_at) == "met"


def test_closing_stops_every_clock_of_the_cycle() -> None:
    t = ticket()
    t.change_status(to_status="closed", stamp=agent(MONDAY + H))
    assert {c.state(MONDAY + 100 * H) for c in t.sla.clocks} == {"met"}
    assert t.sla.next_due() is None


def test_raising_the_priority_tightens_running_clocks_from_their_start() -> None:
    t = ticket(tier="premium_enhanced")  # normal: 1 hour; urgent: 30 minutes
    t.change_priority(to_priority="urgent", stamp=agent(MONDAY + timedelta(minutes=10)))
    assert clock(t, "first_response").due_at == MONDAY + timedelta(minutes=30)
    t.change_priority(to_priority="normal", stamp=agent(MONDAY + timedelta(minutes=20)))
    assert clock(t, "first_response").due_at == MONDAY + H


def test_a_priority_change_after_the_due_instant_leaves_the_breach_standing() -> None:
    t = ticket(tier="premium_enhanced", priority="urgent")  # 30 minutes
    t.change_priority(to_priority="low", stamp=agent(MONDAY + timedelta(minutes=40)))
    first = clock(t, "first_response")
    assert (first.due_at, first.breached_at) == (MONDAY + timedelta(minutes=30),) * 2
    assert [c.target for c in t.sla.breaches_due(MONDAY + H)] == ["first_response"]


def test_business_hours_govern_the_due_instant() -> None:
    la = ZoneInfo("America/Los_Angeles")
    friday_evening = datetime(2026, 3, 6, 17, 0, tzinfo=la)
    t = ticket(calendar="us-public-sector", at=friday_evening.astimezone(UTC))
    assert clock(t, "first_response").due_at == datetime(2026, 3, 9, 9, 0, tzinfo=la)


def test_a_breach_is_recorded_once_per_clock() -> None:
    t = ticket()
    with pytest.raises(NothingChanged):
        t.record_sla_breaches(stamp=system(MONDAY + 4 * H))  # due, not yet past
    assert t.record_sla_breaches(stamp=system(MONDAY + 5 * H)) == 1
    (breach,) = [e for e in t.collect_events() if isinstance(e, Ticket.SlaBreached)]
    assert (breach.target, breach.due_at, breach.breached_at) == (
        "first_response", MONDAY + 4 * H, MONDAY + 5 * H,
    )  # fmt: skip
    with pytest.raises(NothingChanged):
        t.record_sla_breaches(stamp=system(MONDAY + 6 * H))
    agent_replies(t, MONDAY + 7 * H, "Late")
    assert clock(t, "first_response").state(MONDAY + 7 * H) == "breached"
    with pytest.raises(NothingChanged):
        t.record_sla_breaches(stamp=system(MONDAY + 8 * H))


def test_a_ticket_filed_without_terms_runs_no_clocks() -> None:
    t = Ticket.file(
        ticket_id=uuid4(), number="T-000002", subject="Old", description="Imported long ago.",
        type="bug", priority="normal", product="", topic="", channel="web",
        requester_id="req-1", account_id="acct-1", stamp=requester(MONDAY),
    )  # fmt: skip
    assert t.sla.clocks == ()
    with pytest.raises(NothingChanged):
        t.record_sla_breaches(stamp=system(MONDAY + 1000 * H))


def test_the_views_fold_equals_the_aggregates_and_survives_storage_as_data() -> None:
    t = ticket()
    t.change_status(to_status="pending", stamp=agent(MONDAY + 2 * H))
    requester_writes(t, MONDAY + 3 * H, "Here")
    t.change_priority(to_priority="urgent", stamp=agent(MONDAY + 4 * H))
    t.record_sla_breaches(stamp=system(MONDAY + 9 * H))
    state = SlaState()
    for event in t.collect_events():
        state = sla_after(state, event)
    assert state == t.sla
    assert state_from_data(state_to_data(state)) == state


def test_a_paused_clock_raised_past_its_new_budget_is_breached_when_closed() -> None:
    t = ticket(tier="premium_enhanced")  # normal resolution 48 hours; urgent 8 hours
    agent_replies(t, MONDAY + H, "Hi")
    t.change_status(to_status="pending", stamp=agent(MONDAY + 10 * H))
    t.change_priority(to_priority="urgent", stamp=agent(MONDAY + 11 * H))
    t.change_status(to_status="closed", stamp=agent(MONDAY + 12 * H))
    resolution = clock(t, "resolution")
    assert resolution.state(MONDAY + 12 * H) == "breached"
    assert [c.target for c in t.sla.breaches_due(MONDAY + 12 * H)] == ["resolution"]


def test_clocks_started_at_the_same_instant_keep_their_own_breaches() -> None:
    t = ticket()  # next reply within 8 hours
    agent_replies(t, MONDAY, "Hi")
    for role, who in (("requester", "req-1"), ("agent", "agent-1"), ("requester", "req-1")):
        t.add_message(author_id=who, author_role=role, body="x", attachments=[],
                      stamp=(requester if role == "requester" else agent)(MONDAY + H))  # fmt: skip
    first, second = [c for c in t.sla.clocks if c.target == "next_reply"]
    assert (first.seq, second.seq) == (0, 1)
    t.record_sla_breaches(stamp=system(MONDAY + 10 * H))
    first, second = [c for c in t.sla.clocks if c.target == "next_reply"]
    assert (first.state(MONDAY + 10 * H), second.state(MONDAY + 10 * H)) == ("met", "breached")
