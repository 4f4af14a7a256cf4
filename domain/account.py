"""A customer's team account: its subscription (plan, seats, renewal date, the products it
uses, Premium support per product), its members and their roles.

The rules are the support portals' own:

* Ticket support belongs to paid plans (Starter, Consultant, Business, Enterprise);
  Free and Education get the community. Upgrading unlocks filing at once;
  downgrading stops new filings (tickets already filed stay readable and answerable).
* Members never exceed the seats. Fewer seats are bought by removing members first.
* A member's roles are ``member``, or ``admin`` and/or ``billing_admin``: the billing
  admin pays and sees the subscription, and is not an admin for that.
* Premium support is an add-on bought per product, Essentials (first answer within
  4 hours) or Enhanced (1 hour), by teams of 10 seats or more on a paid plan. Only the
  account's admins get it; its other members get the plan's standard support. Adding
  it takes effect at once; removing it takes effect at the next renewal date (at
  once when the account has no renewal date ahead).

An account opened before seats and add-ons were recorded (``Opened`` version 1) had
one support tier for everyone: it reads as Premium on every product (``*``), with
no seat count (``seats`` is ``None`` until one is set).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.channels import checked_time_zone
from domain.errors import (
    AlreadyExists,
    InvalidField,
    NotAMember,
    NothingChanged,
    PlanNotEntitled,
    PremiumNotAvailable,
    SeatsExhausted,
)
from domain.messages import Msg
from domain.sla import calendar_named
from domain.stamp import Stamp
from domain.vocabulary import (
    LANGUAGES,
    MEMBER_ROLES,
    NAME_MAX_CHARS,
    PLANS,
    SUPPORT_TIERS,
    Plan,
    SupportTier,
    checked_choice,
    checked_text,
)

FILING_PLANS: tuple[Plan, ...] = ("starter", "consultant", "business", "enterprise")


def check_plan_includes_support(plan: str) -> None:
    """Free and Education plans do not include ticket support: who is on one is told
    where to ask instead and which plans include it (:class:`PlanNotEntitled`)."""
    if plan not in FILING_PLANS:
        raise PlanNotEntitled(plan, FILING_PLANS)


DEFAULT_CALENDAR = "24x7"
PREMIUM_LEVELS = ("essentials", "enhanced")
PREMIUM_MIN_SEATS = 10
MAX_SEATS = 100_000
EVERY_PRODUCT = "*"
"""The product of an add-on that covers them all (accounts from before add-ons)."""


@dataclass(frozen=True)
class AddOn:
    """Premium on one product: its level, from when, and until when (a removal ahead)."""

    level: str
    since: datetime
    until: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


@dataclass(frozen=True)
class NewMember:
    """Someone added to an account: their id, address and name, their role, and how they
    read Docket (the facts of a ``MemberAdded``, in its order)."""

    member_id: str
    email: str
    name: str
    role: str
    language: str = "en"
    time_zone: str = "UTC"


def checked_member(member: NewMember) -> NewMember:
    """The member, if every fact of them is within its limits."""
    checked_text("member_id", member.member_id, max_chars=NAME_MAX_CHARS)
    checked_text("email", member.email, max_chars=NAME_MAX_CHARS)
    if "@" not in member.email:
        raise InvalidField("email", Msg("{email!r} is not an email address.", email=member.email))
    checked_text("name", member.name, max_chars=NAME_MAX_CHARS)
    checked_choice("role", member.role, MEMBER_ROLES)
    checked_choice("language", member.language, LANGUAGES)
    checked_time_zone(member.time_zone)
    return member


class Account(ChainedAggregate):
    class Opened(ChainedAggregate.Created):
        class_version = 2
        name: str
        plan: str
        seats: int | None
        calendar: str
        products: list[str]
        renewal_on: str | None
        """The next renewal date (ISO), when Premium removals take effect."""
        premium: dict[str, str]
        """Product → level of the add-ons in force from the opening."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had one support tier for the whole account and no seats."""
            tier = state.pop("support_tier")
            state["premium"] = (
                {} if tier == "standard" else {EVERY_PRODUCT: tier.removeprefix("premium_")}
            )
            state["seats"] = None
            state["products"] = []
            state["renewal_on"] = None

    class Renamed(ChainedAggregate.Event):
        from_name: str
        to_name: str

    class PlanChanged(ChainedAggregate.Event):
        from_plan: str
        to_plan: str

    class SeatsChanged(ChainedAggregate.Event):
        from_seats: int | None
        to_seats: int

    class SupportTierChanged(ChainedAggregate.Event):
        """Before add-ons: the whole account's tier, at once (read as Premium on ``*``)."""

        from_tier: str
        to_tier: str

    class PremiumAdded(ChainedAggregate.Event):
        product: str
        level: str

    class PremiumRemoved(ChainedAggregate.Event):
        product: str
        effective_at: datetime

    class RenewalDateSet(ChainedAggregate.Event):
        renewal_on: str

    class AccountTeamSet(ChainedAggregate.Event):
        group: str | None

    class MemberAdded(ChainedAggregate.Event):
        class_version = 2
        member_id: str
        email: str
        name: str
        role: str
        language: str
        time_zone: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 knew no language or time zone: English, UTC."""
            state["language"] = "en"
            state["time_zone"] = "UTC"

    class MemberRemoved(ChainedAggregate.Event):
        member_id: str

    class MemberRolesChanged(ChainedAggregate.Event):
        member_id: str
        roles: list[str]

    class MemberPreferencesChanged(ChainedAggregate.Event):
        """A member's own choices about what Docket sends them: ``surveys``, whether a
        closed ticket of theirs asks them for a rating."""

        member_id: str
        surveys: bool

    class MemberSettingsChanged(ChainedAggregate.Event):
        """A member chose the language they read Docket in and the time zone they read
        times in (both, as they stand after the change)."""

        member_id: str
        language: str
        time_zone: str

    @classmethod
    def open(
        cls,
        *,
        account_id: UUID,
        name: str,
        plan: str,
        stamp: Stamp,
        seats: int | None = None,
        calendar: str = DEFAULT_CALENDAR,
        products: list[str] | None = None,
        renewal_on: date | None = None,
        support_tier: str = "standard",
    ) -> Account:
        """A new account. ``support_tier`` other than standard is the old account-wide
        Premium (every product), kept for callers from before add-ons."""
        checked_text("name", name, max_chars=NAME_MAX_CHARS)
        checked_choice("plan", plan, PLANS)
        checked_choice("support_tier", support_tier, SUPPORT_TIERS)
        if seats is not None:
            checked_seats(seats)
        calendar_named(calendar)
        premium = (
            {} if support_tier == "standard" else {EVERY_PRODUCT: premium_level(support_tier)}
        )
        return cls(
            id=account_id,
            name=name,
            plan=plan,
            seats=seats,
            calendar=calendar,
            products=checked_products(products or []),
            renewal_on=renewal_on.isoformat() if renewal_on else None,
            premium=premium,
            stamp=stamp,
        )

    @event(Opened)
    def __init__(
        self,
        id: UUID,
        name: str,
        plan: str,
        seats: int | None,
        calendar: str,
        products: list[str],
        renewal_on: str | None,
        premium: dict[str, str],
        stamp: Stamp,
    ) -> None:
        self.name = name
        self.plan = plan
        self.seats = seats
        self.calendar = calendar
        self.products = list(products)
        self.renewal_on = date.fromisoformat(renewal_on) if renewal_on else None
        self.add_ons: dict[str, list[AddOn]] = {
            product: [AddOn(level, stamp.at)] for product, level in premium.items()
        }
        self.account_team: str | None = None
        self.members: dict[str, tuple[str, ...]] = {}
        """Member id → roles (``member``, or ``admin`` and/or ``billing_admin``)."""
        self.profiles: dict[str, tuple[str, str]] = {}
        """Member id → name and language, as added; kept after they leave (their tickets
        still name them)."""
        self.no_surveys: set[str] = set()
        """The members who asked for no satisfaction surveys."""
        self.time_zones: dict[str, str] = {}
        """Member id → the time zone they read times in."""

    # --- the subscription ---------------------------------------------------------

    def rename(self, *, to_name: str, stamp: Stamp) -> None:
        checked_text("name", to_name, max_chars=NAME_MAX_CHARS)
        if to_name == self.name:
            raise NothingChanged(Msg("The account is already named {to_name}.", to_name=to_name))
        self._renamed(from_name=self.name, to_name=to_name, stamp=stamp)

    @event(Renamed)
    def _renamed(self, from_name: str, to_name: str, stamp: Stamp) -> None:
        self.name = to_name

    def change_plan(self, *, to_plan: str, stamp: Stamp) -> None:
        checked_choice("plan", to_plan, PLANS)
        if to_plan == self.plan:
            raise NothingChanged(
                Msg(
                    "{name} is on the {title} plan already.", name=self.name, title=to_plan.title()
                )
            )
        self._plan_changed(from_plan=self.plan, to_plan=to_plan, stamp=stamp)

    @event(PlanChanged)
    def _plan_changed(self, from_plan: str, to_plan: str, stamp: Stamp) -> None:
        self.plan = to_plan

    def change_seats(self, *, to_seats: int, stamp: Stamp) -> None:
        checked_seats(to_seats)
        if to_seats == self.seats:
            raise NothingChanged(
                Msg("{name} has {to_seats} seats already.", name=self.name, to_seats=to_seats)
            )
        if to_seats < len(self.members):
            raise SeatsExhausted(
                Msg(
                    "{name} has {length} members; remove members before buying fewer seats "
                    "than that.",
                    name=self.name,
                    length=len(self.members),
                )
            )
        if to_seats < PREMIUM_MIN_SEATS and self.premium_products(stamp.at):
            raise PremiumNotAvailable(
                Msg(
                    "Premium support needs {PREMIUM_MIN_SEATS} seats or more; remove the "
                    "Premium add-ons before going under that.",
                    PREMIUM_MIN_SEATS=PREMIUM_MIN_SEATS,
                )
            )
        self._seats_changed(from_seats=self.seats, to_seats=to_seats, stamp=stamp)

    @event(SeatsChanged)
    def _seats_changed(self, from_seats: int | None, to_seats: int, stamp: Stamp) -> None:
        self.seats = to_seats

    def set_renewal_date(self, *, renewal_on: date, stamp: Stamp) -> None:
        if renewal_on == self.renewal_on:
            raise NothingChanged(
                Msg(
                    "{name} renews on {renewal_on} already.", name=self.name, renewal_on=renewal_on
                )
            )
        self._renewal_date_set(renewal_on=renewal_on.isoformat(), stamp=stamp)

    @event(RenewalDateSet)
    def _renewal_date_set(self, renewal_on: str, stamp: Stamp) -> None:
        self.renewal_on = date.fromisoformat(renewal_on)

    def set_account_team(self, *, group: str | None, stamp: Stamp) -> None:
        if group is not None:
            checked_label("group", group)
        if group == self.account_team:
            raise NothingChanged(
                Msg("{name}'s account team is {group} already.", name=self.name, group=group)
            )
        self._account_team_set(group=group, stamp=stamp)

    @event(AccountTeamSet)
    def _account_team_set(self, group: str | None, stamp: Stamp) -> None:
        self.account_team = group

    # --- Premium support, per product ------------------------------------------------

    def add_premium(self, *, product: str, level: str, stamp: Stamp) -> None:
        """Premium on ``product`` from now on (a change of level, at once too)."""
        checked_choice("level", level, PREMIUM_LEVELS)
        checked_label("product", product)
        if self.plan not in FILING_PLANS:
            raise PremiumNotAvailable(
                Msg(
                    "Premium support is for paid plans; upgrade {name} from the {title} "
                    "plan first.",
                    name=self.name,
                    title=self.plan.title(),
                )
            )
        if self.seats is None or self.seats < PREMIUM_MIN_SEATS:
            raise PremiumNotAvailable(
                Msg(
                    "Premium support is for teams of {PREMIUM_MIN_SEATS} seats or more; "
                    "{name} has {value} seats. Raise the seats first.",
                    PREMIUM_MIN_SEATS=PREMIUM_MIN_SEATS,
                    name=self.name,
                    value=self.seats or "no",
                )
            )
        if self.products and product not in self.products:
            raise InvalidField(
                "product",
                Msg(
                    "{name} does not use {product}: {names}.",
                    name=self.name,
                    product=product,
                    names=", ".join(self.products),
                ),
            )
        current = self._add_on(product, stamp.at)
        if current is not None and current.level == level and current.until is None:
            raise NothingChanged(
                Msg("{product} has Premium {title} already.", product=product, title=level.title())
            )
        self._premium_added(product=product, level=level, stamp=stamp)

    @event(PremiumAdded)
    def _premium_added(self, product: str, level: str, stamp: Stamp) -> None:
        spans = self.add_ons.setdefault(product, [])
        if spans and spans[-1].in_force(stamp.at):
            spans[-1] = AddOn(spans[-1].level, spans[-1].since, stamp.at)
        spans.append(AddOn(level, stamp.at))

    def remove_premium(self, *, product: str, stamp: Stamp) -> datetime:
        """End Premium on ``product`` at the next renewal date; answers when it ends."""
        current = self._add_on(product, stamp.at)
        if current is None or current.until is not None:
            raise NothingChanged(
                Msg("{product} has no Premium add-on to remove.", product=product)
            )
        effective_at = self.next_renewal(stamp.at)
        self._premium_removed(product=product, effective_at=effective_at, stamp=stamp)
        return effective_at

    @event(PremiumRemoved)
    def _premium_removed(self, product: str, effective_at: datetime, stamp: Stamp) -> None:
        spans = self.add_ons[product]
        spans[-1] = AddOn(spans[-1].level, spans[-1].since, effective_at)

    def next_renewal(self, at: datetime) -> datetime:
        """The start (UTC) of the renewal date, or ``at`` when none lies ahead."""
        if self.renewal_on is None:
            return at
        renews = datetime.combine(self.renewal_on, time(0), tzinfo=UTC)
        return renews if renews > at else at

    def premium_products(self, at: datetime) -> dict[str, str]:
        """Product → level of the add-ons in force at ``at``."""
        return {
            product: spans[-1].level
            for product, spans in self.add_ons.items()
            if spans and any(s.in_force(at) for s in spans)
        }

    def _add_on(self, product: str, at: datetime) -> AddOn | None:
        return next((s for s in self.add_ons.get(product, []) if s.in_force(at)), None)

    @event(SupportTierChanged)
    def _support_tier_changed(self, from_tier: str, to_tier: str, stamp: Stamp) -> None:
        spans = self.add_ons.setdefault(EVERY_PRODUCT, [])
        if spans and spans[-1].in_force(stamp.at):
            spans[-1] = AddOn(spans[-1].level, spans[-1].since, stamp.at)
        if to_tier != "standard":
            spans.append(AddOn(premium_level(to_tier), stamp.at))

    # --- members -------------------------------------------------------------------

    def add_member(self, *, member: NewMember, stamp: Stamp) -> None:
        m = checked_member(member)
        if m.member_id in self.members:
            raise AlreadyExists(
                Msg("{email} is already a member of {name}.", email=m.email, name=self.name)
            )
        if self.seats is not None and len(self.members) >= self.seats:
            raise SeatsExhausted(
                Msg(
                    "All {seats} seats of {name} are taken: remove a member or raise the seats.",
                    seats=self.seats,
                    name=self.name,
                )
            )
        self._member_added(**asdict(m), stamp=stamp)

    @event(MemberAdded)
    def _member_added(
        self,
        member_id: str,
        email: str,
        name: str,
        role: str,
        language: str,
        time_zone: str,
        stamp: Stamp,
    ) -> None:
        self.members[member_id] = (role,)
        self.profiles[member_id] = (name, language)
        self.time_zones[member_id] = time_zone

    def remove_member(self, *, member_id: str, stamp: Stamp) -> None:
        self.check_member(member_id)
        self._member_removed(member_id=member_id, stamp=stamp)

    @event(MemberRemoved)
    def _member_removed(self, member_id: str, stamp: Stamp) -> None:
        del self.members[member_id]

    def change_member_roles(self, *, member_id: str, roles: list[str], stamp: Stamp) -> None:
        """``member`` alone, or ``admin`` and/or ``billing_admin``."""
        self.check_member(member_id)
        for role in roles:
            checked_choice("roles", role, MEMBER_ROLES)
        wanted = tuple(r for r in MEMBER_ROLES if r in roles)
        if not wanted or ("member" in wanted and len(wanted) > 1):
            raise InvalidField(
                "roles", Msg("A member is 'member', or 'admin' and/or 'billing_admin'.")
            )
        if wanted == self.members[member_id]:
            raise NothingChanged(
                Msg("That member's roles are {names} already.", names=", ".join(wanted))
            )
        self._member_roles_changed(member_id=member_id, roles=list(wanted), stamp=stamp)

    @event(MemberRolesChanged)
    def _member_roles_changed(self, member_id: str, roles: list[str], stamp: Stamp) -> None:
        self.members[member_id] = tuple(roles)

    def set_member_preferences(self, *, member_id: str, surveys: bool, stamp: Stamp) -> None:
        """A member's choices, made by the member themself."""
        self.check_member(member_id)
        if not isinstance(surveys, bool):
            raise InvalidField("surveys", Msg("surveys is true or false."))
        if surveys == self.wants_surveys(member_id):
            raise NothingChanged(
                Msg("Satisfaction surveys are on for you already.")
                if surveys
                else Msg("Satisfaction surveys are off for you already.")
            )
        self._member_preferences_changed(member_id=member_id, surveys=surveys, stamp=stamp)

    @event(MemberPreferencesChanged)
    def _member_preferences_changed(self, member_id: str, surveys: bool, stamp: Stamp) -> None:
        if surveys:
            self.no_surveys.discard(member_id)
        else:
            self.no_surveys.add(member_id)

    def change_member_settings(
        self,
        *,
        member_id: str,
        language: str | None = None,
        time_zone: str | None = None,
        stamp: Stamp,
    ) -> None:
        """A member's language and time zone, chosen by the member themself (either may be
        left as it is)."""
        self.check_member(member_id)
        _, was_language = self.profiles[member_id]
        was_time_zone = self.time_zones.get(member_id, "UTC")
        language = was_language if language is None else language
        time_zone = was_time_zone if time_zone is None else time_zone
        checked_choice("language", language, LANGUAGES)
        checked_time_zone(time_zone)
        if (language, time_zone) == (was_language, was_time_zone):
            raise NothingChanged(
                Msg(
                    "You read Docket in {language}, times in {time_zone}, already.",
                    language=language,
                    time_zone=time_zone,
                )
            )
        self._member_settings_changed(
            member_id=member_id, language=language, time_zone=time_zone, stamp=stamp
        )

    @event(MemberSettingsChanged)
    def _member_settings_changed(
        self, member_id: str, language: str, time_zone: str, stamp: Stamp
    ) -> None:
        name, _ = self.profiles[member_id]
        self.profiles[member_id] = (name, language)
        self.time_zones[member_id] = time_zone

    # --- rules other aggregates ask about ----------------------------------------

    def check_member(self, member_id: str) -> None:
        if member_id not in self.members:
            raise NotAMember(Msg("That person is not a member of {name}.", name=self.name))

    def check_may_file(self, member_id: str) -> None:
        """Free and Education plans cannot file; only members file for their team."""
        check_plan_includes_support(self.plan)
        if member_id not in self.members:
            raise NotAMember(Msg("You are not a member of {name}.", name=self.name))

    def wants_surveys(self, member_id: str) -> bool:
        return member_id not in self.no_surveys

    def is_admin(self, member_id: str) -> bool:
        return "admin" in self.members.get(member_id, ())

    def sees_subscription(self, member_id: str) -> bool:
        """Admins and billing admins see the plan, seats, renewal date and add-ons."""
        roles = self.members.get(member_id, ())
        return "admin" in roles or "billing_admin" in roles

    def tier_for(self, member_id: str, product: str, at: datetime) -> SupportTier:
        """The support a member gets on ``product`` at ``at``: Premium when they are an
        admin and an add-on covers the product then; the plan's standard otherwise."""
        if not self.is_admin(member_id) or self.plan not in FILING_PLANS:
            return "standard"
        in_force = self.premium_products(at)
        level = in_force.get(product) or in_force.get(EVERY_PRODUCT)
        return "standard" if level is None else premium_tier(level)


def checked_seats(seats: int) -> int:
    if not 1 <= seats <= MAX_SEATS:
        raise InvalidField(
            "seats", Msg("Seats are a whole number from 1 to {MAX_SEATS}.", MAX_SEATS=MAX_SEATS)
        )
    return seats


def checked_label(field: str, value: str) -> str:
    """A product or group name: printable text, no control characters."""
    checked_text(field, value, max_chars=NAME_MAX_CHARS)
    if not value.isprintable():
        raise InvalidField(
            field,
            Msg("A {field} name is printable text, without control characters.", field=field),
        )
    return value


def checked_products(products: list[str]) -> list[str]:
    for product in products:
        checked_label("products", product)
    if len(set(products)) != len(products):
        raise InvalidField("products", Msg("Name each product once."))
    return list(products)


def premium_level(tier: str) -> str:
    """``premium_enhanced`` → ``enhanced``."""
    return tier.removeprefix("premium_")


def premium_tier(level: str) -> SupportTier:
    return "premium_enhanced" if level == "enhanced" else "premium_essentials"
