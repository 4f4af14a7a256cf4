"""The support desk's application service: every use case, one method each, on one
event store. Each area keeps its use cases in a module of its own:

* :mod:`desk.tickets` — filing and working tickets;
* :mod:`desk.accounts` — customer accounts, members, the SLA policy;
* :mod:`desk.staff` — Docket's own people and their support groups;
* :mod:`desk.help_centre` — help articles and help sessions;
* :mod:`desk.imports` — tickets from outside data sets;
* :mod:`desk.contact` — the contact form, and agents' answers to it;
* :mod:`desk.ccs` — the people a ticket copies (CCs);
* :mod:`desk.saved_views` — agents' saved views of the inbox;
* :mod:`desk.macros` — agents' and admins' macros, and applying one to a ticket;
* :mod:`desk.ticket_fields` — the custom ticket fields admins define;
* :mod:`desk.automations` — the automation rule book, and firing a rule on a ticket;

and :mod:`desk.core` holds what they share (numbers, finding a ticket, deciding a
change again after a race). Methods take plain values (ids, strings, a
:class:`~domain.stamp.Stamp`) and answer plain values (:mod:`desk.answers`).
"""

from __future__ import annotations

from desk.accounts import Accounts
from desk.automations import Automations
from desk.ccs import Ccs
from desk.contact import Contact
from desk.help_centre import HelpCentre
from desk.imports import Imports
from desk.macros import MacroDesk
from desk.saved_views import SavedViews
from desk.staff import Staff
from desk.ticket_fields import TicketFields
from desk.tickets import TicketDesk


class SupportDesk(
    TicketDesk,
    Accounts,
    Staff,
    HelpCentre,
    Imports,
    Contact,
    Ccs,
    SavedViews,
    Automations,
    MacroDesk,
    TicketFields,
):
    """Docket's eventsourcing application: all the desk's use cases."""

    name = "docket"
    """Names the event tables (``docket_events``) and the environment's prefix; eventsourcing
    would take the class name for a subclass that does not say."""
