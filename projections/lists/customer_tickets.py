"""The customers' lists: a requester's own tickets, and an account's team tickets.

The same rows as the inbox (:mod:`projections.lists.ticket_rows`) folded from public
events only: this view never receives an internal note, so no list, count,
activity time or search hit it serves can reveal one. Team tickets show who
filed each ticket and which colleagues replied as collaborators.
"""

from __future__ import annotations

from domain.ticket import STAFF_ONLY_EVENTS
from projections.lists.ticket_rows import TicketList
from projections.ticket_fields import TICKET_FIELDS

NAME = "customer_tickets"
COLUMNS = (
    *(f for f in TICKET_FIELDS if f != "support_group"),  # staff's own routing
    "last_activity_at",
    "message_count",
    "collaborators",
    "merged_into",
)
CUSTOMER_TICKETS = TicketList(
    name=NAME,
    rows="customer_tickets",
    search="customer_search",
    with_internal_notes=False,
    ignores=STAFF_ONLY_EVENTS,
    default_sort="last_activity",
    columns=COLUMNS,
)
VIEW = CUSTOMER_TICKETS.view
tickets = CUSTOMER_TICKETS.tickets
