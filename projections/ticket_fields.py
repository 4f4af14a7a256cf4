"""The fields of a ticket that every ticket view keeps alike, and how events set them.

Ticket detail, the ticket lists and the dashboard each keep one row per ticket:
these fields, and others of their own. :func:`filed` and :func:`changes` are the
one fold of the shared fields, so each view's fold says only what is its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any
from uuid import UUID

from domain.ticket import Ticket
from projections.kit import Fact, clean_text

FILED_TEXT = (
    "account_id",
    "requester_id",
    "subject",
    "type",
    "priority",
    "product",
    "topic",
    "channel",
    "status",
)
"""The shared fields that are text a ticket has from its filing on, never null."""
FILED_TEXT_COLUMNS = ",\n".join(f"{name} text NOT NULL" for name in FILED_TEXT)
"""Their columns, declared alike by every ticket view's table."""
TICKET_FIELDS = (
    "ticket_id",
    "number",
    *FILED_TEXT,
    "assignee_id",
    "support_group",
    "created_at",
    "custom_fields",
)


def filed(e: Ticket.Opened) -> dict[str, Any]:
    """The shared fields of a ticket as it was filed."""
    return {
        "ticket_id": e.originator_id,
        "number": e.number,
        "account_id": e.account_id,
        "requester_id": e.requester_id,
        "subject": clean_text(e.subject),
        "type": e.type,
        "priority": e.priority,
        "product": clean_text(e.product),
        "topic": clean_text(e.topic),
        "channel": e.channel,
        "status": "open",
        "assignee_id": None,
        "support_group": clean_text(e.support_group) if e.support_group else None,
        "created_at": e.timestamp,
        "custom_fields": {},
    }


def changes(e: Any) -> dict[str, Any]:
    """The shared fields a later event of a ticket changes (none, for most events)."""
    match e:
        case Ticket.StatusChanged():
            return {"status": e.to_status}
        case Ticket.PriorityRaised() | Ticket.PriorityLowered():
            return {"priority": e.to_priority}
        case Ticket.Assigned():
            return {
                "assignee_id": clean_text(e.agent_id) if e.agent_id else None,
                "support_group": clean_text(e.group) if e.group else None,
            }
        case Ticket.TypeChanged():
            return {"type": e.to_type}
        case Ticket.ProductChanged():
            return {"product": clean_text(e.to_product)}
        case Ticket.Reopened():
            return {"status": "open"}
        case Ticket.MergedInto():  # merged, the ticket is closed (and worked in the other)
            return {"status": "closed"}
        case Ticket.CustomFieldsSet():
            return {"custom_fields": custom_values(e.values)}
    return {}


def each_row(
    tickets: dict[UUID, dict[str, Any]],
    facts: Iterable[Fact],
    opened: Callable[[Ticket.Opened], dict[str, Any]],
    touched: set[UUID],
) -> Iterator[tuple[Fact, dict[str, Any]]]:
    """Each of ``facts`` with its ticket's row in ``tickets``, for the view's own fold to
    change in place: a filing first makes the row (``opened``, of its event); the shared
    fields are changed already (:func:`changes`) and the ticket is in ``touched``. An
    event of a ticket the view never saw opened is passed over."""
    for fact in facts:
        e = fact.event
        if isinstance(e, Ticket.Opened):
            tickets[fact.stream_id] = opened(e)
        row = tickets.get(fact.stream_id)
        if row is None:
            continue
        touched.add(fact.stream_id)
        row.update(changes(e))
        yield fact, row


def custom_values(values: dict[str, Any]) -> dict[str, Any]:
    """A ticket's custom field values as views keep them (jsonb holds no NUL)."""
    return {clean_text(k): clean_text(v) if isinstance(v, str) else v for k, v in values.items()}


def is_activity(e: Any) -> bool:
    """Whether an event of a ticket is activity on it: a clock running out is not."""
    return not isinstance(e, Ticket.SlaBreached)


def joining_collaborator(e: Ticket.MessageAdded, collaborators: Collection[str]) -> str | None:
    """Who this reply makes a collaborator of the ticket (a team admin's first), if anyone."""
    if e.author_role == "collaborator" and e.author_id not in collaborators:
        return e.author_id
    return None
