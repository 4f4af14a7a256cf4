"""Every view that folds tickets says, of every ticket event, whether it handles it or not.

A new event class on :class:`~domain.ticket.Ticket` fails these tests until the
domain says whether customers may see it and every ticket view either handles
it or lists it among the events it ignores: none forgets it silently.
"""

from __future__ import annotations

import pytest

from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket
from projections.catalog import VIEWS
from projections.kit import EventClass, View


def ticket_events() -> set[EventClass]:
    """The event classes declared on the ticket (not the bases eventsourcing makes)."""
    return {
        value
        for value in vars(Ticket).values()
        if isinstance(value, type)
        and issubclass(value, Ticket.Event)
        and value not in (Ticket.Event, Ticket.Created)
    }


TICKET_VIEWS = [view for view in VIEWS.values() if view.handles & ticket_events()]


def test_the_ticket_declares_some_events() -> None:
    assert Ticket.Opened in ticket_events()
    assert Ticket.CallbackMade in ticket_events()
    assert len(ticket_events()) >= 16


def test_every_ticket_event_is_either_public_or_staff_only() -> None:
    assert set(PUBLIC_EVENTS) | set(STAFF_ONLY_EVENTS) == ticket_events()
    assert not set(PUBLIC_EVENTS) & set(STAFF_ONLY_EVENTS)


def test_internal_notes_are_staff_only() -> None:
    assert Ticket.InternalNoteAdded in STAFF_ONLY_EVENTS


def test_the_views_that_fold_tickets_are_all_checked() -> None:
    names = {view.name for view in TICKET_VIEWS}
    expected = {"ticket_detail", "inbox", "customer_tickets", "dashboard", "sla", "outbox"}
    expected |= {"tag_counts", "automations"}
    assert expected | {"audit_feed", "log_seal"} == names


@pytest.mark.parametrize("view", TICKET_VIEWS, ids=lambda view: view.name)
def test_every_view_handles_or_ignores_every_ticket_event(view: View) -> None:
    forgotten = ticket_events() - view.handles - view.ignores
    assert not forgotten, f"{view.name} neither handles nor ignores {sorted(forgotten, key=str)}"


@pytest.mark.parametrize("view", TICKET_VIEWS, ids=lambda view: view.name)
def test_no_view_both_handles_and_ignores_an_event(view: View) -> None:
    assert not view.handles & view.ignores


@pytest.mark.parametrize("view", TICKET_VIEWS, ids=lambda view: view.name)
def test_a_view_ignores_only_ticket_events(view: View) -> None:
    assert view.ignores <= ticket_events()


@pytest.mark.parametrize(
    "name", ["customer_tickets", "dashboard"], ids=lambda name: f"{name}_sees_no_staff_event"
)
def test_customer_facing_views_are_never_fed_a_staff_only_event(name: str) -> None:
    assert not VIEWS[name].handles & set(STAFF_ONLY_EVENTS)
