"""The analysts' dashboards: the filters they share and the rows they answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import AccountId, MinPosition, Strict


class DashboardQuery(Strict):
    """Filters every dashboard takes. Repeat a filter for several values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    account: list[AccountId] = Field(default_factory=list, max_length=50)
    product: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    topic: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    channel: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list, max_length=10
    )
    since: str | None = Field(
        default=None,
        alias="from",
        max_length=40,
        description="From this ISO date (UTC, inclusive) or instant.",
    )
    until: str | None = Field(
        default=None,
        alias="to",
        max_length=40,
        description="To this ISO date (UTC, inclusive) or instant (exclusive).",
    )
    limit: int = Field(default=10, ge=1, le=100, description="top-issues, top-products")
    bucket: Literal["day", "week", "month"] = Field(default="day", description="volume")
    group_by: str | None = Field(
        default=None,
        max_length=50,
        description="times: priority|topic|product|channel, or field.<key> for a dropdown "
        "custom field; satisfaction: product|topic|agent",
    )
    min_position: MinPosition = None


class TagsQuery(Strict):
    """The tags dashboard: the tickets carrying each tag now."""

    limit: int = Field(default=100, ge=1, le=1000, description="At most this many tags.")
    min_position: MinPosition = None


class DashboardAnswer(BaseModel):
    dashboard: str
    position: int = Field(description="The log position the figures reflect.")
    rows: list[dict[str, Any]]
