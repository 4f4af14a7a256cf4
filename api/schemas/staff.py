"""Docket's staff and support groups: registering, listing, deactivating, group members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import MinPosition, Strict, example
from domain.vocabulary import NAME_MAX_CHARS, Language, StaffRole

GROUP_PATTERN = r"^[^\x00-\x1f\x7f/\s]([^\x00-\x1f\x7f/]*[^\x00-\x1f\x7f/\s])?$"
GroupName = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS, pattern=GROUP_PATTERN)]
"""A support group's name (``tier-1``, ``billing``): no slash, no control character."""


class StaffIn(Strict):
    model_config = example(
        name="Alex Agent", email="alex@docket.example", role="agent", groups=["tier-1"]
    )

    name: str = Field(min_length=1, max_length=NAME_MAX_CHARS)
    email: str = Field(min_length=3, max_length=NAME_MAX_CHARS, pattern=r"^[^@\s]+@[^@\s]+$")
    role: StaffRole
    groups: list[GroupName] = Field(
        default_factory=list, max_length=20, description="Agents only; created if new."
    )
    language: Language = Field(
        default="en", description="The language they read Docket's answers and emails in."
    )


class StaffQuery(Strict):
    role: StaffRole | None = None
    active: bool | None = Field(default=None, description="true: active only; false: deactivated")
    group: GroupName | None = None
    min_position: MinPosition = Field(default=None, description="Wait for this position.")


class StaffOut(BaseModel):
    id: str
    name: str
    email: str
    role: StaffRole
    active: bool
    groups: list[str]
    registered_at: datetime
    deactivated_at: datetime | None
    version: int


class StaffList(BaseModel):
    staff: list[StaffOut]


class StaffReceiptOut(BaseModel):
    """What a staff write answers: pass position as min_position to read it back, version
    as If-Match to change the staff member again."""

    id: str
    version: int
    position: int


class GroupIn(Strict):
    model_config = example(name="tier-2")

    name: GroupName


class GroupAgent(BaseModel):
    id: str
    name: str
    active: bool


class GroupOut(BaseModel):
    name: str
    created_at: datetime
    agents: list[GroupAgent]


class GroupList(BaseModel):
    groups: list[GroupOut]


class GroupReceiptOut(BaseModel):
    name: str
    position: int


class RosterQuery(Strict):
    min_position: MinPosition = Field(default=None, description="Wait for this position.")
