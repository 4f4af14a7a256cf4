"""What the API takes and gives: pydantic models, apart from the domain's classes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TicketType = Literal["question", "bug", "feature_request", "billing", "technical", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "pending", "closed"]
FilingChannel = Literal["web", "chat", "api", "phone", "social", "email"]

AttachmentIds = list[str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketFiling(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Files stop syncing",
                    "description": "Since this morning no file syncs on my laptop.",
                    "type": "bug",
                    "priority": "high",
                    "product": "Files",
                }
            ]
        },
    )
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=65536)
    type: TicketType = "question"
    priority: Priority = "normal"
    product: str = Field(default="", max_length=200)
    topic: str = Field(default="", max_length=200)
    channel: FilingChannel = "web"
    follow_up_of: str | None = Field(default=None, max_length=64)
    attachments: AttachmentIds = Field(default_factory=list, max_length=20)


class Receipt(BaseModel):
    id: str
    number: str
    version: int
    position: int


class MessageIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"body": "Could you send the logs?"}]}
    )
    body: str = Field(min_length=1, max_length=65536)
    attachments: AttachmentIds = Field(default_factory=list, max_length=20)


class NoteIn(Strict):
    body: str = Field(min_length=1, max_length=65536)


class StatusIn(Strict):
    status: Status


class PriorityIn(Strict):
    priority: Priority


class AssignmentIn(Strict):
    agent_id: str | None = Field(default=None, max_length=64, description='An agent id or "me"')
    group: str | None = Field(default=None, max_length=200)


class TypeIn(Strict):
    type: TicketType


class ProductIn(Strict):
    product: str = Field(min_length=1, max_length=200)


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int


class Me(BaseModel):
    id: str
    role: str
    name: str
    account_id: str | None


class Health(BaseModel):
    status: str
    database: str
    position: int
    projections: dict[str, dict[str, int]]


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
