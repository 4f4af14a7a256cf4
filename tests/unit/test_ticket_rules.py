"""Given a ticket's history, when a command arrives, then these facts, or this refusal."""

from __future__ import annotations

from typing import Any

import pytest

from domain import errors
from domain.stamp import Stamp
from domain.ticket import Ticket
from tests.builders import T0, agent, later, new_ticket, requester


def kinds(ticket: Ticket) -> list[str]:
    return [type(e).__name__ for e in ticket.collect_events()]


def reply(
    ticket: Ticket,
    body: str,
    *,
    by: str = "req-1",
    role: str = "requester",
    attachments: list[str] | None = None,
    stamp: Stamp | None = None,
) -> None:
    """A message on ``ticket``: the requester's, unless said otherwise."""
    ticket.add_message(
        author_id=by,
        author_role=role,
        body=body,
        attachments=attachments or [],
        stamp=stamp or requester(),
    )


def test_filing_records_one_opened_event_with_every_field() -> None:
    ticket = new_ticket()
    (opened,) = ticket.collect_events()
    assert isinstance(opened, Ticket.Opened)
    assert (opened.subject, opened.type, opened.priority, opened.product, opened.topic) == (
        "Sync fails", "bug", "normal", "Files", "sync",
    )  # fmt: skip
    assert (opened.channel, opened.requester_id, opened.account_id) == ("web", "req-1", "acct-1")
    assert opened.timestamp == T0
    assert opened.stamp.actor_kind == "requester" and opened.stamp.correlation_id == "corr-1"


@pytest.mark.parametrize(
    ("field", "value", "error_field"),
    [
        ("subject", "   ", "subject"),
        ("subject", "x" * 201, "subject"),
        ("description", "", "description"),
        ("description", "é" * 40_000, "description"),
        ("type", "complaint", "type"),
        ("priority", "critical", "priority"),
        ("channel", "pigeon", "channel"),
    ],
)
def test_filing_refuses_empty_oversized_or_unknown_values(
    field: str, value: str, error_field: str
) -> None:
    fields: dict[str, Any] = {
        "subject": "S", "description": "D", "type": "bug", "priority": "low",
        "channel": "web", field: value,
    }  # fmt: skip
    with pytest.raises(errors.InvalidField) as refused:
        Ticket.file(
            ticket_id=new_ticket().id, number="T-000002", product="", topic="",
            requester_id="r", account_id="a", stamp=requester(), **fields,
        )  # fmt: skip
    assert refused.value.field == error_field


def test_a_closed_ticket_takes_no_message_until_reopened() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="closed", stamp=agent(later(hours=1)))
    with pytest.raises(errors.TicketClosed):
        reply(ticket, "hi")
    ticket.reopen(stamp=requester(later(days=2)))
    reply(ticket, "hi")
    assert kinds(ticket)[-3:] == ["StatusChanged", "Reopened", "MessageAdded"]


def test_reopening_within_the_window_starts_a_new_cycle() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="closed", stamp=agent(later(days=1)))
    ticket.reopen(stamp=requester(later(days=31)))
    assert (ticket.status, ticket.cycle) == ("open", 2)


def test_reopening_after_the_window_hints_at_a_new_linked_ticket() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="closed", stamp=agent(later(days=1)))
    with pytest.raises(errors.ReopenWindowPassed) as refused:
        ticket.reopen(stamp=requester(later(days=31, hours=1)))
    assert "follow_up_of=T-000001" in refused.value.detail


def test_only_a_closed_ticket_can_be_reopened() -> None:
    with pytest.raises(errors.TicketNotClosed):
        new_ticket().reopen(stamp=requester())


def test_priority_events_must_raise_or_lower() -> None:
    ticket = new_ticket()
    ticket.change_priority(to_priority="urgent", stamp=agent())
    ticket.change_priority(to_priority="low", stamp=agent())
    with pytest.raises(errors.PriorityUnchanged):
        ticket.change_priority(to_priority="low", stamp=agent())
    assert kinds(ticket)[1:] == ["PriorityRaised", "PriorityLowered"]


def test_satisfaction_is_rated_only_on_closed_tickets_from_one_to_five() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.TicketNotClosed):
        ticket.rate_satisfaction(score=5, comment="", stamp=requester())
    ticket.change_status(to_status="closed", stamp=agent())
    for bad in (0, 6, True):
        with pytest.raises(errors.InvalidField):
            ticket.rate_satisfaction(score=bad, comment="", stamp=requester())
    ticket.rate_satisfaction(score=4, comment="quick", stamp=requester())
    assert ticket.rating == 4


def test_internal_notes_are_for_staff_only() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.StaffOnly):
        ticket.add_internal_note(author_id="req-1", body="psst", stamp=requester())
    ticket.add_internal_note(author_id="agent-1", body="check logs", stamp=agent())
    assert kinds(ticket)[-1] == "InternalNoteAdded"


def test_a_requester_reply_brings_a_pending_ticket_back_to_open() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="pending", stamp=agent())
    reply(ticket, "here")
    assert ticket.status == "open"
    assert kinds(ticket)[-2:] == ["MessageAdded", "StatusChanged"]


def test_an_agent_reply_leaves_a_pending_ticket_pending() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="pending", stamp=agent())
    reply(ticket, "any news?", by="agent-1", role="agent", stamp=agent())
    assert ticket.status == "pending"


def test_only_staff_reply_as_agent_and_only_the_requester_as_requester() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.StaffOnly):
        reply(ticket, "x", role="agent", stamp=requester())
    with pytest.raises(errors.NotAMember):
        reply(ticket, "x", by="someone")


def test_a_collaborator_reply_records_the_collaborator() -> None:
    ticket = new_ticket()
    collaborator = requester(who="admin-1").__class__("admin-1", "collaborator", "web", T0)
    reply(ticket, "me too", by="admin-1", role="collaborator", stamp=collaborator)
    assert ticket.collaborators == {"admin-1"}


def test_a_message_body_is_bounded_to_64_kib() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.InvalidField):
        reply(ticket, "x" * (64 * 1024 + 1))


def test_a_message_can_only_reference_attachments_on_the_ticket() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.InvalidField):
        reply(ticket, "see file", attachments=["abc"])
    ticket.add_attachment(
        attachment_id="abc",
        filename="log.txt",
        content_type="text/plain",
        size=3,
        stamp=requester(),
    )
    reply(ticket, "see file", attachments=["abc"])
    assert kinds(ticket)[-2:] == ["AttachmentAdded", "MessageAdded"]


def test_closed_status_cannot_be_changed_except_by_reopening() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="closed", stamp=agent())
    with pytest.raises(errors.StatusChangeNotAllowed):
        ticket.change_status(to_status="open", stamp=agent())
    with pytest.raises(errors.StatusUnchanged):
        ticket.change_status(to_status="closed", stamp=agent())


def test_type_product_and_assignment_changes_must_change_something() -> None:
    ticket = new_ticket()
    ticket.change_type(to_type="question", stamp=agent())
    ticket.change_product(to_product="Dash", stamp=agent())
    ticket.assign(agent_id="agent-1", group="tier-1", stamp=agent())
    with pytest.raises(errors.NothingChanged):
        ticket.change_type(to_type="question", stamp=agent())
    with pytest.raises(errors.NothingChanged):
        ticket.change_product(to_product="Dash", stamp=agent())
    with pytest.raises(errors.NothingChanged):
        ticket.assign(agent_id="agent-1", group="tier-1", stamp=agent())
    with pytest.raises(errors.StaffOnly):
        ticket.assign(agent_id="req-1", group=None, stamp=requester())
    assert kinds(ticket)[1:] == ["TypeChanged", "ProductChanged", "Assigned"]


def test_every_event_carries_its_stamp_and_instant_and_links_to_the_one_before() -> None:
    ticket = new_ticket()
    ticket.change_priority(to_priority="high", stamp=agent(later(hours=2)))
    opened, raised = ticket.collect_events()
    assert isinstance(opened, Ticket.Opened)
    assert isinstance(raised, Ticket.PriorityRaised)
    assert raised.timestamp == later(hours=2)
    assert raised.stamp.actor_id == "agent-1" and raised.stamp.causation_id == "cause-2"
    assert raised.prev_hash == opened.event_hash != raised.event_hash
