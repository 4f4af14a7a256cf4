"""Team accounts: opening one, changing its subscription, its members; the subscription."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Strict
from domain.account import MAX_SEATS
from domain.vocabulary import NAME_MAX_CHARS, Language, MemberRole, Plan

Name = Field(min_length=1, max_length=NAME_MAX_CHARS)
Seats = Field(ge=1, le=MAX_SEATS)
PremiumLevel = Literal["essentials", "enhanced"]


class AccountIn(Strict):
    name: str = Name
    plan: Plan
    seats: int = Seats
    calendar: str = Field(default="24x7", max_length=NAME_MAX_CHARS)
    products: list[str] = Field(default_factory=list, max_length=50)
    renewal_on: dt.date | None = None


class AccountReceiptOut(BaseModel):
    """What an account write answers: pass position as min_position to read it back."""

    id: str
    version: int
    position: int
    member_id: str | None = None
    """The member the write added (adding a member answers it)."""


class RenameIn(Strict):
    name: str = Name


class PlanIn(Strict):
    plan: Plan


class SeatsIn(Strict):
    seats: int = Seats


class RenewalIn(Strict):
    renewal_on: dt.date


class AccountTeamIn(Strict):
    group: str | None = Field(default=None, max_length=NAME_MAX_CHARS)


class PremiumIn(Strict):
    level: PremiumLevel


class MemberIn(Strict):
    email: str = Field(min_length=3, max_length=NAME_MAX_CHARS, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Name
    role: MemberRole = "member"
    language: Language = "en"
    time_zone: str = Field(default="UTC", max_length=64)


class RolesIn(Strict):
    roles: list[MemberRole] = Field(min_length=1, max_length=3)


class AddOnOut(BaseModel):
    level: PremiumLevel
    since: dt.datetime
    until: dt.datetime | None
    """When a removal takes effect (the renewal date), if one is on record."""


class MemberOut(BaseModel):
    id: str
    name: str
    email: str
    roles: list[MemberRole]


class SubscriptionOut(BaseModel):
    """Shown only to the account's admins and billing admins, and to Docket's admins."""

    account_id: str
    name: str
    plan: Plan
    seats: int | None
    seats_taken: int
    calendar: str
    products: list[str]
    renewal_on: dt.date | None
    premium: dict[str, AddOnOut]
    """Product → the Premium add-on (``*``: every product, from before add-ons)."""
    account_team: str | None
    members: list[MemberOut]
    version: int
