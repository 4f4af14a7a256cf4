"""The agent inbox: every ticket, for agents, with what needs an answer first.

Handles every ticket event, internal notes included (they count as activity and
are searchable by staff). Rows are temporal (:mod:`projections.lists.ticket_rows`).
The default order, ``attention``, puts open tickets whose latest customer
message has no agent reply first, most urgent and longest waiting first; then
answered open tickets, then pending, then closed ones, most recent first.
"""

from __future__ import annotations

from projections.lists.ticket_rows import TicketList
from projections.ticket_fields import TICKET_FIELDS

NAME = "inbox"
COLUMNS = (
    *TICKET_FIELDS,
    "last_activity_at",
    "waiting_since",
    "needs_answer",
    "message_count",
    "note_count",
    "version",
    "collaborators",
    "sla_due_at",
    "sla_state",
    "callback_phone",
    "callback_window_start",
    "callback_window_end",
    "callback_state",
    "tags",
    "merged_into",
)
INBOX = TicketList(
    name=NAME,
    rows="inbox_tickets",
    search="inbox_search",
    with_internal_notes=True,
    ignores=(),
    default_sort="attention",
    columns=COLUMNS,
)
VIEW = INBOX.view
tickets = INBOX.tickets
