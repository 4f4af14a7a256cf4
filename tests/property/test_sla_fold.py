"""SLA clocks over random ticket histories: one fold for the ticket and the views, and sane."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.sla import SlaState, state_from_data, state_to_data
from domain.ticket import Ticket, sla_after
from tests.property.strategies import Command, commands, ticket_after


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, max_size=25))
def test_the_views_fold_of_stored_events_equals_the_tickets_own(sequence: list[Command]) -> None:
    ticket = ticket_after(sequence)
    events = ticket.collect_events()
    state = SlaState()
    for event in events:
        state = sla_after(state, event)
    assert state == ticket.sla
    assert state_from_data(state_to_data(state)) == state

    recorded = [e for e in events if isinstance(e, Ticket.SlaBreached)]
    keys = [(e.target, e.cycle, e.seq) for e in recorded]
    assert len(keys) == len(set(keys)), "a clock's breach was recorded twice"
    assert all(e.due_at < e.breached_at for e in recorded)
    for clock in state.clocks:
        if clock.due_at is not None:
            assert state.calendar is not None
            assert clock.due_at >= clock.started_at
        if clock.stopped_at is not None and clock.breached_at is None:
            assert clock.due_at is None or clock.stopped_at <= clock.due_at
    assert sum(c.stopped_at is None for c in state.current() if c.target != "next_reply") <= 2
