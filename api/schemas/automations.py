"""Time-based automations: a rule as an admin sends it, and as the rule book keeps it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Strict
from domain.automation import MAX_ACTIONS, MAX_HOURS, TAG_CHARS
from domain.vocabulary import (
    BODY_MAX_BYTES,
    NAME_MAX_CHARS,
    NotifyTarget,
    Priority,
    RuleActionKind,
    RuleClock,
    Status,
    SupportTier,
)

Name = Field(min_length=1, max_length=NAME_MAX_CHARS)


class RuleConditions(Strict):
    since: RuleClock = Field(description="The instant the time condition counts from.")
    hours: float = Field(
        ge=0, le=MAX_HOURS, allow_inf_nan=False, description="Calendar hours since then."
    )
    status: list[Status] = Field(default_factory=list, max_length=3, description="Any of.")
    priority: list[Priority] = Field(default_factory=list, max_length=4, description="Any of.")
    tier: list[SupportTier] = Field(
        default_factory=list, max_length=3, description="Any of (the ticket's SLA terms)."
    )
    group: list[str] = Field(default_factory=list, max_length=20, description="Any of.")
    tags_all: list[str] = Field(default_factory=list, max_length=20, description="Has all.")
    tags_none: list[str] = Field(default_factory=list, max_length=20, description="Has none.")


class RuleAction(Strict):
    type: RuleActionKind
    status: Status | None = Field(default=None, description="set_status")
    tag: str | None = Field(default=None, max_length=TAG_CHARS, description="add_tag")
    group: str | None = Field(default=None, max_length=NAME_MAX_CHARS, description="assign_group")
    body: str | None = Field(
        default=None, max_length=BODY_MAX_BYTES, description="reply, notify: the text"
    )
    to: NotifyTarget | None = Field(default=None, description="notify: whom")
    macro_id: str | None = Field(
        default=None, max_length=NAME_MAX_CHARS, description="apply_macro"
    )


class RuleIn(Strict):
    id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="Made from the name when left out.",
    )
    name: str = Name
    enabled: bool = False
    conditions: RuleConditions
    actions: list[RuleAction] = Field(min_length=1, max_length=MAX_ACTIONS)


class RuleChange(Strict):
    """Any of these, each replaced whole; the rule's version rises by one."""

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_CHARS)
    enabled: bool | None = None
    conditions: RuleConditions | None = None
    actions: list[RuleAction] | None = Field(default=None, min_length=1, max_length=MAX_ACTIONS)


class RuleOut(BaseModel):
    id: str
    name: str
    enabled: bool
    version: int
    causation_id: str = Field(description="What the events a firing writes carry as causation.")
    conditions: RuleConditions
    actions: list[RuleAction]


class RulesOut(BaseModel):
    rules: list[RuleOut]
