"""A customer's team account: its plan, support tier, calendar and members."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import AlreadyExists, InvalidField, NotAMember, PlanNotEntitled
from domain.sla import calendar_named
from domain.stamp import Stamp
from domain.vocabulary import (
    MEMBER_ROLES,
    NAME_MAX_CHARS,
    PLANS,
    SUPPORT_TIERS,
    Plan,
    checked_choice,
    checked_text,
)

FILING_PLANS: tuple[Plan, ...] = ("starter", "consultant", "business", "enterprise")
DEFAULT_CALENDAR = "24x7"


class Account(ChainedAggregate):
    class Opened(ChainedAggregate.Created):
        name: str
        plan: str
        support_tier: str
        calendar: str

    class MemberAdded(ChainedAggregate.Event):
        member_id: str
        email: str
        name: str
        role: str

    class PlanChanged(ChainedAggregate.Event):
        from_plan: str
        to_plan: str

    class SupportTierChanged(ChainedAggregate.Event):
        from_tier: str
        to_tier: str

    @classmethod
    def open(
        cls,
        *,
        account_id: UUID,
        name: str,
        plan: str,
        support_tier: str,
        stamp: Stamp,
        calendar: str = DEFAULT_CALENDAR,
    ) -> Account:
        checked_text("name", name, max_chars=NAME_MAX_CHARS)
        checked_choice("plan", plan, PLANS)
        checked_choice("support_tier", support_tier, SUPPORT_TIERS)
        calendar_named(calendar)
        return cls(
            id=account_id,
            name=name,
            plan=plan,
            support_tier=support_tier,
            calendar=calendar,
            stamp=stamp,
        )

    @event(Opened)
    def __init__(
        self, id: UUID, name: str, plan: str, support_tier: str, calendar: str, stamp: Stamp
    ) -> None:
        self.name = name
        self.plan = plan
        self.support_tier = support_tier
        self.calendar = calendar
        self.members: dict[str, str] = {}

    def add_member(
        self, *, member_id: str, email: str, name: str, role: str, stamp: Stamp
    ) -> None:
        checked_text("email", email, max_chars=NAME_MAX_CHARS)
        if "@" not in email:
            raise InvalidField("email", f"{email!r} is not an email address.")
        checked_text("name", name, max_chars=NAME_MAX_CHARS)
        checked_choice("role", role, MEMBER_ROLES)
        if member_id in self.members:
            raise AlreadyExists(f"{email} is already a member of {self.name}.")
        self._member_added(member_id=member_id, email=email, name=name, role=role, stamp=stamp)

    @event(MemberAdded)
    def _member_added(
        self, member_id: str, email: str, name: str, role: str, stamp: Stamp
    ) -> None:
        self.members[member_id] = role

    def change_plan(self, *, to_plan: str, stamp: Stamp) -> None:
        checked_choice("plan", to_plan, PLANS)
        self._plan_changed(from_plan=self.plan, to_plan=to_plan, stamp=stamp)

    @event(PlanChanged)
    def _plan_changed(self, from_plan: str, to_plan: str, stamp: Stamp) -> None:
        self.plan = to_plan

    def change_support_tier(self, *, to_tier: str, stamp: Stamp) -> None:
        checked_choice("support_tier", to_tier, SUPPORT_TIERS)
        self._support_tier_changed(from_tier=self.support_tier, to_tier=to_tier, stamp=stamp)

    @event(SupportTierChanged)
    def _support_tier_changed(self, from_tier: str, to_tier: str, stamp: Stamp) -> None:
        self.support_tier = to_tier

    # --- rules other aggregates ask about ----------------------------------------

    def check_may_file(self, member_id: str) -> None:
        """Free and Education plans cannot file; only members file for their team."""
        if self.plan not in FILING_PLANS:
            raise PlanNotEntitled(self.plan, FILING_PLANS)
        if member_id not in self.members:
            raise NotAMember(f"You are not a member of {self.name}.")
