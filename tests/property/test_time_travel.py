"""The state as of a version or an instant is the ticket exactly as it stood then."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from replay.history import snapshot, state_at
from store.eventstore import docket_mapper
from tests.builders import T0, new_ticket
from tests.property.strategies import Command, commands, run

MAPPER = docket_mapper()


@settings(max_examples=100, deadline=None)
@given(st.lists(commands, max_size=25), st.integers(-60, 60 * 24 * 60))
def test_state_as_of_a_version_or_instant_equals_the_ticket_as_it_was_then(
    sequence: list[Command], probe_minutes: int
) -> None:
    ticket = new_ticket()
    seen: dict[int, dict[str, Any]] = {1: snapshot(ticket)}  # state as it stood, live
    minutes = 0
    for command in sequence:
        minutes += command.minutes
        run(ticket, command, minutes)
        seen[ticket.version] = snapshot(ticket)
    stored = [MAPPER.to_stored_event(e) for e in ticket.collect_events()]
    replayed: list[Any] = [MAPPER.to_domain_event(s) for s in stored]
    for version, expected in seen.items():
        assert state_at(replayed, version=version) == expected
    probe = T0 + timedelta(minutes=probe_minutes)
    folded_up_to_probe = sum(1 for e in replayed if e.timestamp <= probe)
    expected_then = seen.get(folded_up_to_probe)
    assert state_at(replayed, as_of=probe) == expected_then
