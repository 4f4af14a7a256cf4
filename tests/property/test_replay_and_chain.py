"""Replaying a stored stream rebuilds the same ticket; the chain catches any changed byte."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import StoredEvent
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from desk.service import SupportDesk
from domain.ticket import Ticket
from replay.verify import verify_stored_stream
from tests.property.strategies import Command, commands, ticket_after

DESK = SupportDesk()  # only its mapper (transcoder) is used: no state is kept between examples


def stored_stream(sequence: list[Command]) -> tuple[Ticket, list[StoredEvent]]:
    ticket = ticket_after(sequence)
    events = ticket.collect_events()
    return ticket, [DESK.mapper.to_stored_event(e) for e in events]


def state(ticket: Ticket) -> dict[str, Any]:
    return {k: v for k, v in vars(ticket).items() if k != "_pending_events"}


@settings(max_examples=80, deadline=None)
@given(st.lists(commands, max_size=25))
def test_replaying_a_stored_stream_always_rebuilds_the_same_ticket(
    sequence: list[Command],
) -> None:
    ticket, stored = stored_stream(sequence)
    rebuilt = project_aggregate(None, [DESK.mapper.to_domain_event(s) for s in stored])
    assert isinstance(rebuilt, Ticket)
    assert state(rebuilt) == state(ticket)


@settings(max_examples=80, deadline=None)
@given(st.lists(commands, max_size=25))
def test_every_generated_stream_verifies(sequence: list[Command]) -> None:
    _, stored = stored_stream(sequence)
    assert verify_stored_stream(stored, DESK.mapper.transcoder) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=12), st.data())
def test_any_single_byte_mutation_of_a_stored_event_is_detected(
    sequence: list[Command], data: st.DataObject
) -> None:
    _, stored = stored_stream(sequence)
    i = data.draw(st.integers(0, len(stored) - 1), label="event")
    position = data.draw(st.integers(0, len(stored[i].state) - 1), label="byte")
    original = stored[i].state[position]
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != original), label="value")
    mutated = bytearray(stored[i].state)
    mutated[position] = replacement
    stored[i] = StoredEvent(
        stored[i].originator_id, stored[i].originator_version, stored[i].topic, bytes(mutated)
    )
    damages = verify_stored_stream(stored, DESK.mapper.transcoder)
    assert stored[i].originator_version in {d.version for d in damages}


@settings(max_examples=60, deadline=None)
@given(st.lists(commands, min_size=3, max_size=12), st.data())
def test_removing_or_swapping_an_event_is_detected(
    sequence: list[Command], data: st.DataObject
) -> None:
    _, stored = stored_stream(sequence)
    assume(len(stored) >= 3)
    i = data.draw(st.integers(0, len(stored) - 2))
    if data.draw(st.booleans(), label="swap"):
        a, b = stored[i], stored[i + 1]
        stored[i] = StoredEvent(a.originator_id, a.originator_version, b.topic, b.state)
        stored[i + 1] = StoredEvent(b.originator_id, b.originator_version, a.topic, a.state)
    else:
        del stored[i]
    assert verify_stored_stream(stored, DESK.mapper.transcoder) != []
