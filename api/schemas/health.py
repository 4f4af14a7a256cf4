"""Who the caller is, and how the database and each view are doing."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Me(BaseModel):
    id: str
    role: str
    name: str
    account_id: str | None


class ProjectionHealth(BaseModel):
    position: int
    lag: int = Field(description="Events in the log this view has not applied yet.")
    error: str | None = None


class Health(BaseModel):
    status: str
    database: str
    position: int
    projections: dict[str, ProjectionHealth]
