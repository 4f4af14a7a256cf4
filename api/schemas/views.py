"""Saved views of the inbox: saving one, changing it, listing them with their counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import MinPosition, Strict, example
from domain.saved_view import (
    FILTERS_MAX,
    PARAMETER_MAX_CHARS,
    VALUE_MAX_CHARS,
    VALUES_MAX,
    VIEW_NAME_MAX_CHARS,
)

Scalar = Annotated[str, Field(max_length=VALUE_MAX_CHARS)] | int | bool
FilterValue = Scalar | Annotated[list[Scalar], Field(min_length=1, max_length=VALUES_MAX)]
FiltersIn = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=PARAMETER_MAX_CHARS)], FilterValue],
    Field(
        max_length=FILTERS_MAX,
        description="The inbox's query parameters (GET /v1/inbox), a list for a repeated one: "
        "status, priority, assignee (me: whoever reads the view), group, breaching_within, "
        "sort, order, … — any the inbox takes, and none of limit, cursor, min_position.",
    ),
]
ViewName = Annotated[str, Field(min_length=1, max_length=VIEW_NAME_MAX_CHARS)]


def as_parameters(filters: dict[str, FilterValue]) -> dict[str, list[str]]:
    """JSON values as the query string would carry them (``true``, ``60``)."""

    def text(value: Scalar) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {
        name: [text(v) for v in (value if isinstance(value, list) else [value])]
        for name, value in filters.items()
    }


class ViewIn(Strict):
    model_config = example(
        name="Tier 1, open, most urgent first",
        shared=False,
        filters={"status": ["open"], "group": "tier-1", "sort": "priority"},
    )

    name: ViewName
    shared: bool = Field(
        default=False, description="Shared with all staff (admins only); else your own."
    )
    filters: FiltersIn = Field(default_factory=dict)


class ViewChange(Strict):
    model_config = example(name="Tier 1, open", filters={"status": "open", "group": "tier-1"})

    name: ViewName | None = None
    filters: FiltersIn | None = Field(default=None, description="Replaces the view's filters.")


class ViewOut(BaseModel):
    id: str
    name: str
    shared: bool
    owner_id: str | None = Field(description="The agent whose view it is; null when shared.")
    filters: dict[str, list[str]]
    version: int = Field(description="The If-Match of a change to the view.")
    created_at: datetime
    updated_at: datetime


class ViewList(BaseModel):
    views: list[ViewOut]


class ViewReceiptOut(BaseModel):
    """What a view's write answers: pass position as min_position to read it back, version
    as If-Match to change it again."""

    id: str
    version: int
    position: int


class ViewQuery(Strict):
    min_position: MinPosition = Field(default=None, description="Wait for this position.")


class ViewPageQuery(Strict):
    """Which page of the view's tickets: the view says which tickets and in which order."""

    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)
    min_position: MinPosition = Field(
        default=None, description="Wait until the view and its tickets reflect this position."
    )


class ViewCount(BaseModel):
    id: str
    name: str
    shared: bool
    count: int | None = Field(
        description="Tickets in the view, exact up to 1000; null if the inbox no longer takes "
        "its filters (see problem)."
    )
    more: bool = Field(description="More than count (1000) tickets: shown as 1,000+.")
    problem: str | None = Field(
        default=None, description="Why the inbox refuses the view's filters, if it does."
    )


class ViewCounts(BaseModel):
    views: list[ViewCount]
    position: int = Field(description="The log position every count reads the inbox as of.")
