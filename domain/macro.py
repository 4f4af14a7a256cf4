"""Macros: a canned answer and the field changes that go with it, applied in one save.

A macro has a title, an owner and its actions. A *personal* macro belongs to the agent
who wrote it: only they see, use and change it. A *shared* macro (no owner) is kept by
Docket admins and used by all staff (and by Docket itself: automations apply them).

Its actions are at most one text, a public ``reply`` or an internal ``note``, written in
English and/or French (``{"en": …, "fr": …}``; the requester's language is used, the
other when only one is written), and field changes: ``status``, ``priority``, ``group``,
``assignee`` (a staff id, or ``me``: whoever applies it), ``tags_add``, ``tags_remove``.

A text may hold the placeholders of :data:`PLACEHOLDERS`, written ``{{ticket.number}}``.
One Docket does not know is refused when the macro is saved; one that cannot be filled
for a ticket (a requester with no name on record, no agent assigned) refuses the whole
application, naming the placeholder: a text is never sent with a hole in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import (
    InvalidField,
    MacroPlaceholderUnfilled,
    NothingChanged,
    UnknownMacro,
)
from domain.messages import Msg
from domain.staff import checked_group
from domain.stamp import Stamp
from domain.tags import normalised_tags
from domain.vocabulary import (
    BODY_MAX_BYTES,
    LANGUAGES,
    NAME_MAX_CHARS,
    PRIORITIES,
    STATUSES,
    checked_choice,
    checked_text,
)

PLACEHOLDERS: dict[str, str] = {
    "requester.name": "the name of the ticket's requester",
    "ticket.number": "the ticket's number, e.g. T-000042",
    "ticket.subject": "the ticket's subject",
    "agent.name": "the name of the agent the ticket is assigned to (after the macro's own "
    "assignment)",
}
"""Every placeholder a macro's text may hold, and what fills it."""
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TEXT_KINDS = ("reply", "note")


def checked_macro_text(field: str, text: object) -> str:
    """A text of a macro: within a message's size, each placeholder one Docket fills."""
    if not isinstance(text, str):
        raise InvalidField(field, Msg("{field} is text.", field=field))
    checked_text(field, text, max_bytes=BODY_MAX_BYTES)
    known = ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise InvalidField(
                field,
                Msg(
                    "{field} holds the unknown placeholder {{{{{name}}}}}; use one of {known}.",
                    field=field,
                    name=name,
                    known=known,
                ),
            )
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise InvalidField(
            field,
            Msg(
                "{field} has braces that make no placeholder; write one as {{{{ticket.number}}}}.",
                field=field,
            ),
        )
    return text


def checked_texts(field: str, texts: object) -> dict[str, str]:
    """A macro text in one or both languages: ``{"en": …, "fr": …}``, at least one."""
    if not isinstance(texts, Mapping) or not texts:
        raise InvalidField(
            field, Msg('{field} is {{"en": …, "fr": …}}, with at least one of them.', field=field)
        )
    for language in texts:
        checked_choice(f"{field}.language", language, LANGUAGES)
    return {lang: checked_macro_text(f"{field}.{lang}", texts[lang]) for lang in LANGUAGES
            if lang in texts}  # fmt: skip


def render(field: str, text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with each placeholder filled, or :class:`MacroPlaceholderUnfilled`."""

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        value = values.get(name)
        if not value:
            raise MacroPlaceholderUnfilled(name, field)
        return value

    return _PLACEHOLDER.sub(fill, text)


def text_for(texts: Mapping[str, str], language: str) -> tuple[str, str]:
    """The language used and its text: the requester's, else the other one written."""
    if language in texts:
        return language, texts[language]
    other = next(lang for lang in LANGUAGES if lang in texts)
    return other, texts[other]


@dataclass(frozen=True)
class MacroActions:
    """What a macro does to a ticket; ``None`` (or empty) leaves that field as it is."""

    reply: Mapping[str, str] | None = None
    note: Mapping[str, str] | None = None
    status: str | None = None
    priority: str | None = None
    group: str | None = None
    assignee: str | None = None
    """A staff id, or ``me``: whoever applies the macro."""
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()

    def checked(self) -> MacroActions:
        """The actions normalised, or :class:`InvalidField` naming the action."""
        if self.reply is not None and self.note is not None:
            raise InvalidField(
                "note",
                Msg("A macro writes a public reply or an internal note, not both; keep one."),
            )
        if self.status is not None:
            checked_choice("status", self.status, STATUSES)
        if self.priority is not None:
            checked_choice("priority", self.priority, PRIORITIES)
        if self.group is not None:
            checked_group(self.group)
        if self.assignee is not None:
            checked_text("assignee", self.assignee, max_chars=NAME_MAX_CHARS)
        adding = normalised_tags("tags_add", self.tags_add)
        removing = normalised_tags("tags_remove", self.tags_remove)
        if set(adding) & set(removing):
            raise InvalidField(
                "tags_remove", Msg("A tag is both added and removed; keep it in one.")
            )
        checked = MacroActions(
            reply=checked_texts("reply", self.reply) if self.reply is not None else None,
            note=checked_texts("note", self.note) if self.note is not None else None,
            status=self.status,
            priority=self.priority,
            group=self.group,
            assignee=self.assignee,
            tags_add=tuple(adding),
            tags_remove=tuple(removing),
        )
        if checked == MacroActions():
            raise InvalidField(
                "reply",
                Msg("A macro does something: give it a reply or a note, or a field to change."),
            )
        return checked

    @property
    def text(self) -> tuple[str, Mapping[str, str]] | None:
        """``reply`` or ``note`` and its texts, if the macro writes one."""
        if self.reply is not None:
            return "reply", self.reply
        if self.note is not None:
            return "note", self.note
        return None

    def as_data(self) -> dict[str, Any]:
        return {
            "reply": dict(self.reply) if self.reply is not None else None,
            "note": dict(self.note) if self.note is not None else None,
            "status": self.status,
            "priority": self.priority,
            "group": self.group,
            "assignee": self.assignee,
            "tags_add": list(self.tags_add),
            "tags_remove": list(self.tags_remove),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> MacroActions:
        return cls(
            reply=data.get("reply"),
            note=data.get("note"),
            status=data.get("status"),
            priority=data.get("priority"),
            group=data.get("group"),
            assignee=data.get("assignee"),
            tags_add=tuple(data.get("tags_add") or ()),
            tags_remove=tuple(data.get("tags_remove") or ()),
        )


class Macro(ChainedAggregate):
    """A macro: its title, its owner (``None``: shared) and its actions, as events."""

    class Created(ChainedAggregate.Created):
        title: str
        owner_id: str | None
        actions: dict[str, Any]

    class Changed(ChainedAggregate.Event):
        title: str
        actions: dict[str, Any]

    class Archived(ChainedAggregate.Event):
        """Deleted: no longer listed nor applied; its events stay, as every event does."""

    @classmethod
    def create(
        cls,
        *,
        macro_id: UUID,
        title: str,
        owner_id: str | None,
        actions: MacroActions,
        stamp: Stamp,
    ) -> Macro:
        checked_text("title", title, max_chars=NAME_MAX_CHARS)
        return cls(
            id=macro_id,
            title=title,
            owner_id=owner_id,
            actions=actions.checked().as_data(),
            stamp=stamp,
        )

    @event(Created)
    def __init__(
        self, id: UUID, title: str, owner_id: str | None, actions: dict[str, Any], stamp: Stamp
    ) -> None:
        self.title = title
        self.owner_id = owner_id
        self.actions = MacroActions.from_data(actions)
        self.archived = False

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    @property
    def cause(self) -> str:
        """What each event a macro's application records names as its cause."""
        return f"macro:{self.id}:v{self.version}"

    def check_reaches(self, stamp: Stamp) -> None:
        """A personal macro is its owner's alone; others are told it does not exist, as
        for one archived. Docket itself (a system stamp) reaches shared ones only."""
        if self.archived or (not self.shared and stamp.actor_id != self.owner_id):
            raise UnknownMacro(Msg("No macro {id} that you can use.", id=self.id))

    def change(self, *, title: str, actions: MacroActions, stamp: Stamp) -> None:
        self.check_reaches(stamp)
        checked_text("title", title, max_chars=NAME_MAX_CHARS)
        data = actions.checked().as_data()
        if (title, data) == (self.title, self.actions.as_data()):
            raise NothingChanged(Msg("Macro {title} already reads so.", title=repr(self.title)))
        self._changed(title=title, actions=data, stamp=stamp)

    @event(Changed)
    def _changed(self, title: str, actions: dict[str, Any], stamp: Stamp) -> None:
        self.title = title
        self.actions = MacroActions.from_data(actions)

    def archive(self, *, stamp: Stamp) -> None:
        self.check_reaches(stamp)
        self._archived(stamp=stamp)

    @event(Archived)
    def _archived(self, stamp: Stamp) -> None:
        self.archived = True
