"""Setting the desk up: customer accounts and their members, and the SLA policy."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from desk.core import DeskCore, position
from domain.account import Account
from domain.errors import Busy
from domain.sla_policy import SlaPolicyBook
from domain.stamp import Stamp


class Accounts(DeskCore):
    def open_account(
        self,
        *,
        name: str,
        plan: str,
        support_tier: str,
        stamp: Stamp,
        calendar: str = "24x7",
        account_id: UUID | None = None,
    ) -> UUID:
        account = Account.open(
            account_id=account_id or uuid4(),
            name=name,
            plan=plan,
            support_tier=support_tier,
            calendar=calendar,
            stamp=stamp,
        )
        self.save(account)
        return account.id

    def add_member(
        self, account_id: UUID, *, member_id: str, email: str, name: str, role: str, stamp: Stamp
    ) -> int:
        account = self._account(account_id)
        account.add_member(member_id=member_id, email=email, name=name, role=role, stamp=stamp)
        return position(self.save(account))

    def has_member(self, account_id: UUID, member_id: str) -> bool:
        return member_id in self._account(account_id).members

    def change_plan(self, account_id: UUID, *, to_plan: str, stamp: Stamp) -> int:
        account = self._account(account_id)
        account.change_plan(to_plan=to_plan, stamp=stamp)
        return position(self.save(account))

    def change_support_tier(self, account_id: UUID, *, to_tier: str, stamp: Stamp) -> int:
        """From this instant on, new cycles of the account's tickets get the tier's terms."""
        account = self._account(account_id)
        account.change_support_tier(to_tier=to_tier, stamp=stamp)
        return position(self.save(account))

    def change_sla_targets(self, *, tier: str, data: dict[str, Any], stamp: Stamp) -> int:
        """Record new targets for ``tier``, in force for promises made from ``stamp.at``."""
        for _ in range(5):
            book = self._policy_book() or SlaPolicyBook.found(stamp=stamp)
            book.change_targets(tier=tier, data=data, stamp=stamp)
            try:
                return position(self.save(book))
            except IntegrityError:  # changed meanwhile: decide again on the new book
                continue
        raise Busy("the SLA policy")
