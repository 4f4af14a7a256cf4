"""Importing: a ticket filed elsewhere, with its later changes, replayed through the same
Ticket commands (and rules) as live traffic, in one save."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from desk.answers import Change, Receipt
from desk.core import DeskCore, position
from domain.errors import DocketError
from domain.numbers import TicketNumber, format_number
from domain.stamp import Stamp
from domain.ticket import Ticket

IMPORT_COMMANDS = frozenset(
    {
        "add_message",
        "add_internal_note",
        "change_status",
        "change_priority",
        "assign",
        "change_type",
        "change_product",
        "reopen",
        "rate_satisfaction",
    }
)


class Imports(DeskCore):
    def import_ticket(
        self,
        *,
        ticket_id: UUID,
        account_id: UUID,
        filing: dict[str, Any],
        stamp: Stamp,
        changes: list[Change],
    ) -> tuple[Receipt | None, list[tuple[Change, DocketError]]]:
        """File a ticket as it was filed elsewhere and replay its later changes, atomically.

        Each change goes through the same Ticket command (and rule) as live traffic;
        a change the rules refuse is skipped and answered with its refusal. A ticket
        already imported (same ``ticket_id``) is left alone and answers ``None``, so
        an interrupted import can simply run again.
        """
        if self._exists(ticket_id):
            return None, []
        account = self._account(account_id)
        account.check_may_file(filing["requester_id"])
        number = format_number(self.next_number())
        terms = self._terms(account, filing["requester_id"], filing.get("product", ""), stamp.at)
        ticket = Ticket.file(
            ticket_id=ticket_id,
            number=number,
            account_id=str(account_id),
            stamp=replace(stamp, via="import"),  # filed here by an import, whoever filed it
            sla_terms=terms,
            **filing,
        )
        refused: list[tuple[Change, DocketError]] = []
        for change in changes:
            if change.command not in IMPORT_COMMANDS:
                raise ValueError(f"{change.command} is not a ticket change")
            try:
                if change.command == "reopen":
                    ticket.reopen(stamp=change.stamp, window=self.reopen_window, sla_terms=terms)
                else:
                    getattr(ticket, change.command)(stamp=change.stamp, **change.args)
            except DocketError as error:
                refused.append((change, error))
        claim = TicketNumber.claim(number=number, ticket_id=ticket.id, stamp=stamp)
        try:
            recordings = self.save(ticket, claim)
        except IntegrityError:  # imported meanwhile by another run
            return None, []
        return Receipt(ticket.id, number, ticket.version, position(recordings)), refused
