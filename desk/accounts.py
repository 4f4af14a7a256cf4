"""Setting the desk up: customer accounts and their members, and the SLA policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from desk.answers import AccountReceipt
from desk.core import DeskCore, RecordChange, position
from domain.account import Account, NewMember, checked_label
from domain.errors import AlreadyExists, InvalidField, UnknownGroup
from domain.messages import Msg
from domain.sla_policy import SlaPolicyBook
from domain.stamp import Stamp

account_change = RecordChange(
    DeskCore._account,
    lambda a, at: AccountReceipt(a.id, a.version, at),
    what=None,
    busy=lambda a: Msg("Account {account_id}", account_id=a.id),
    attempts=5,
)
"""One change to one account."""


class Accounts(DeskCore):
    def open_account(
        self,
        *,
        name: str,
        plan: str,
        stamp: Stamp,
        seats: int | None = None,
        calendar: str = "24x7",
        products: list[str] | None = None,
        renewal_on: date | None = None,
        support_tier: str = "standard",
        account_id: UUID | None = None,
    ) -> AccountReceipt:
        """A new customer account. ``support_tier`` is the old account-wide Premium, for
        callers from before add-ons; new accounts buy Premium per product."""
        account = Account.open(
            account_id=account_id or uuid4(),
            name=name,
            plan=plan,
            seats=seats,
            calendar=calendar,
            products=products,
            renewal_on=renewal_on,
            support_tier=support_tier,
            stamp=stamp,
        )
        try:
            recordings = self.save(account)
        except IntegrityError:
            raise AlreadyExists(
                Msg("An account with id {id} exists already.", id=account.id)
            ) from None
        return AccountReceipt(account.id, account.version, position(recordings))

    @account_change
    def rename_account(
        self, a: Account, *, to_name: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        a.rename(to_name=to_name, stamp=stamp)

    @account_change
    def change_plan(
        self, a: Account, *, to_plan: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        """An upgrade to a paid plan unlocks filing at once; a downgrade stops new filings."""
        a.change_plan(to_plan=to_plan, stamp=stamp)

    @account_change
    def change_seats(
        self, a: Account, *, to_seats: int, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        a.change_seats(to_seats=to_seats, stamp=stamp)

    @account_change
    def set_renewal_date(
        self, a: Account, *, renewal_on: date, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        a.set_renewal_date(renewal_on=renewal_on, stamp=stamp)

    def set_account_team(
        self,
        account_id: UUID,
        *,
        group: str | None,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> AccountReceipt:
        """The support group that answers an Enterprise account's tickets (it must exist)."""
        if group is not None and not self.group_exists(checked_label("group", group)):
            raise UnknownGroup(
                Msg("No support group {group}; create it first (POST /v1/groups).", group=group)
            )
        return account_change.run(
            self,
            account_id,
            expected_version,
            stamp,
            lambda a: a.set_account_team(group=group, stamp=stamp),
        )

    @account_change
    def add_premium(
        self,
        a: Account,
        *,
        product: str,
        level: str,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> None:
        """Premium on one product, in force at once (for the account's admins)."""
        a.add_premium(product=product, level=level, stamp=stamp)

    @account_change
    def remove_premium(
        self, a: Account, *, product: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        """Premium on one product ends at the next renewal date."""
        a.remove_premium(product=product, stamp=stamp)

    def add_member(
        self,
        account_id: UUID,
        *,
        member_id: str,
        email: str,
        name: str,
        role: str,
        stamp: Stamp,
        language: str = "en",
        time_zone: str = "UTC",
        expected_version: int | None = None,
    ) -> AccountReceipt:
        """A new member, within the seats."""
        member = NewMember(member_id, email, name, role, language, time_zone)
        receipt = account_change.run(
            self,
            account_id,
            expected_version,
            stamp,
            lambda a: a.add_member(member=member, stamp=stamp),
        )
        return replace(receipt, member_id=member_id)

    @account_change
    def remove_member(
        self, a: Account, *, member_id: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        """The member files nothing more; their past tickets and messages keep their author."""
        a.remove_member(member_id=member_id, stamp=stamp)

    @account_change
    def change_member_roles(
        self,
        a: Account,
        *,
        member_id: str,
        roles: list[str],
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> None:
        a.change_member_roles(member_id=member_id, roles=roles, stamp=stamp)

    @account_change
    def set_member_preferences(
        self,
        account: Account,
        *,
        member_id: str,
        stamp: Stamp,
        surveys: bool | None = None,
        language: str | None = None,
        time_zone: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """A member's own choices, those given (in one save): whether their closed tickets
        ask them for a rating, the language they read Docket in, their time zone."""
        if surveys is None and language is None and time_zone is None:
            raise InvalidField(
                "surveys", Msg("Say what to change: surveys, language or time_zone.")
            )
        if surveys is not None:
            account.set_member_preferences(member_id=member_id, surveys=surveys, stamp=stamp)
        if language is not None or time_zone is not None:
            account.change_member_settings(
                member_id=member_id, language=language, time_zone=time_zone, stamp=stamp
            )

    def has_member(self, account_id: UUID, member_id: str) -> bool:
        return member_id in self._account(account_id).members

    def change_sla_targets(self, *, tier: str, data: dict[str, Any], stamp: Stamp) -> int:
        """Record new targets for ``tier``, in force for promises made from ``stamp.at``."""
        _, _, at = self._saved_again(
            lambda: self._policy_book() or SlaPolicyBook.found(stamp=stamp),
            lambda book: book.change_targets(tier=tier, data=data, stamp=stamp),
            Msg("The SLA policy"),
        )
        return at
