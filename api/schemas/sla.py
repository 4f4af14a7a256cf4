"""Service levels: compliance figures, and the policy book of targets per support tier."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import AccountId, MinPosition, Strict
from domain.vocabulary import SlaTarget


class SlaSummaryQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date | None = Field(
        default=None, alias="from", description="First day (clocks started on or after it)."
    )
    end: date | None = Field(default=None, alias="to", description="Last day, included.")
    tz: str = Field(default="UTC", max_length=64, description="IANA time zone of the days.")
    account: list[AccountId] = Field(
        default_factory=list, max_length=20, description="Only these accounts."
    )
    min_position: MinPosition = None


class Compliance(BaseModel):
    key: str
    target: SlaTarget
    met: int
    breached: int
    running: int
    compliance: float | None = Field(description="met / (met + breached); null when none.")


class SlaSummary(BaseModel):
    position: int
    by_tier: list[Compliance]
    by_priority: list[Compliance]
    by_account: list[Compliance]


class TierTargets(BaseModel):
    first_response: str = Field(examples=["4h"])
    next_reply: str = Field(examples=["8h"])
    resolution: str = Field(examples=["72h"])


class SlaPolicyOut(BaseModel):
    tiers: dict[str, dict[str, TierTargets]] = Field(
        description="Per support tier and priority, targets in business time."
    )
    calendars: list[str]


class TierPolicyIn(Strict):
    """A tier's targets as in sla.toml: base targets, and overrides per priority."""

    first_response: str = Field(max_length=20, examples=["4h"])
    next_reply: str = Field(max_length=20, examples=["8h"])
    resolution: str = Field(max_length=20, examples=["72h"])
    low: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
    normal: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
    high: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
    urgent: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
