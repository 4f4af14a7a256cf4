"""CCs: copying people on a ticket by email address, and no longer copying them.

An address is looked up among the members of the ticket's account when it is added:
a member copied on a ticket sees it (lists, detail) and may reply as a CC; anyone
else is copied by email only (:mod:`mail.intake` takes their emailed answer when its
sender proof holds). Each use case is one save.
"""

from __future__ import annotations

from uuid import UUID

from desk.answers import Receipt
from desk.core import DeskCore, ticket_change
from domain.account import Account
from domain.ccs import checked_cc_address
from domain.stamp import Stamp
from domain.ticket import Ticket


class Ccs(DeskCore):
    def add_cc(
        self,
        ticket: str | UUID,
        *,
        email: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        """Copy ``email`` on the ticket, as the member of its account at that address if
        there is one."""
        address = checked_cc_address(email)

        def command(t: Ticket) -> None:
            member_id = self.member_at_address(UUID(t.account_id), address)
            t.add_cc(email=address, member_id=member_id, stamp=stamp)

        return self._change(ticket, expected_version, command, stamp)

    @ticket_change
    def remove_cc(
        self, t: Ticket, *, email: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        """Stop copying ``email``: no email of the ticket is sent to it from now on."""
        t.remove_cc(email=email, stamp=stamp)

    def member_at_address(self, account_id: UUID, address: str) -> str | None:
        """The id of the account's current member at ``address`` (case-insensitive), if any:
        the first one added, should two share it."""
        account = self._account(account_id)
        wanted = address.lower()
        for e in self.events.get(account.id):
            if (
                isinstance(e, Account.MemberAdded)
                and e.email.strip().lower() == wanted
                and e.member_id in account.members
            ):
                return str(e.member_id)
        return None
