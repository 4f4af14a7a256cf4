"""Macros: what writing, changing and applying one take, and what they answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import MinPosition, Strict, example
from api.schemas.tickets import Body, TagText
from domain.tags import TAGS_MAX
from domain.vocabulary import NAME_MAX_CHARS, Language, Priority, Status

Texts = dict[Language, Body]
"""A text in English and/or French: ``{"en": …, "fr": …}``, at least one."""
GroupName = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS)]
StaffRef = Annotated[str, Field(min_length=1, max_length=64)]
TagList = Annotated[list[TagText], Field(max_length=TAGS_MAX)]
TEXT_HELP = (
    "In en and/or fr; may hold {{requester.name}}, {{ticket.number}}, {{ticket.subject}}, "
    "{{agent.name}}."
)


class MacroIn(Strict):
    """A macro: at most one text (a public reply or an internal note), and field changes."""

    title: str = Field(min_length=1, max_length=NAME_MAX_CHARS)
    shared: bool = Field(
        default=False, description="Shared with all staff (admins only); else yours alone."
    )
    reply: Texts | None = Field(default=None, description="A public reply. " + TEXT_HELP)
    note: Texts | None = Field(default=None, description="An internal note. " + TEXT_HELP)
    status: Status | None = None
    priority: Priority | None = None
    group: GroupName | None = None
    assignee: StaffRef | None = Field(
        default=None, description='A staff id, or "me": whoever applies the macro.'
    )
    tags_add: TagList = Field(default_factory=list)
    tags_remove: TagList = Field(default_factory=list)

    model_config = example(
        title="Ask for logs",
        reply={
            "en": "Hello {{requester.name}}, could you send the logs for {{ticket.number}}?",
            "fr": "Bonjour {{requester.name}}, pourriez-vous envoyer les journaux ?",
        },
        status="pending",
        tags_add=["needs-logs"],
    )


class MacroChange(Strict):
    """The fields to change; each one given replaces the macro's (null clears it)."""

    title: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_CHARS)
    reply: Texts | None = Field(default=None, description=TEXT_HELP)
    note: Texts | None = Field(default=None, description=TEXT_HELP)
    status: Status | None = None
    priority: Priority | None = None
    group: GroupName | None = None
    assignee: StaffRef | None = None
    tags_add: TagList | None = None
    tags_remove: TagList | None = None

    model_config = example(status="closed")


class MacroOut(BaseModel):
    id: str
    title: str
    scope: Literal["personal", "shared"]
    owner_id: str | None
    reply: dict[str, str] | None
    note: dict[str, str] | None
    status: str | None
    priority: str | None
    group: str | None
    assignee: str | None
    tags_add: list[str]
    tags_remove: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class MacroList(BaseModel):
    macros: list[MacroOut]
    position: int = Field(description="The log position the list reflects.")


class MacroQuery(Strict):
    min_position: MinPosition = None


class MacroReceiptOut(BaseModel):
    """What a macro write answers: version for If-Match, position for min_position."""

    id: str
    version: int
    position: int


class MacroTextOut(BaseModel):
    kind: Literal["reply", "note"]
    language: str
    body: str


class FieldChangeOut(BaseModel):
    field: str
    was: Any
    becomes: Any


class MacroPreviewOut(BaseModel):
    """What applying the macro would write now; nothing is written."""

    ticket: str
    version: int = Field(description="The ticket's version the preview was made on.")
    macro_id: str
    macro_version: int
    text: MacroTextOut | None
    changes: list[FieldChangeOut]
