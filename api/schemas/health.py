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
    failures: int = Field(default=0, description="Attempts in a row that failed.")
    stuck_at: int | None = Field(
        default=None,
        description="The position of the event the view keeps failing on, once it is stuck.",
    )


class ReplicaHealth(BaseModel):
    database: str = Field(description="ok, or unreachable: the standby reads are answered from.")
    position: int = Field(description="The log position the standby has replayed.")
    lag: int = Field(description="Events the primary's log holds that the standby has not.")


class Health(BaseModel):
    status: str = Field(description="ok, or degraded (the database away, or a view stuck).")
    database: str
    position: int
    projections: dict[str, ProjectionHealth]
    reasons: list[str] = Field(default_factory=list, description="Why it is degraded.")
    replica: ReplicaHealth | None = Field(
        default=None, description="The hot standby reads are answered from, if one is set."
    )
