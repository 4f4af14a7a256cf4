"""Macros: agents' personal ones and admins' shared ones, and applying one to a ticket.

Applying a macro is one save of all its actions on the ticket (a refusal of any of
them writes none), each event's stamp naming ``macro:<id>:v<version>`` as its cause;
a preview runs the very same actions on the ticket as folded, and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from desk.answers import MacroPreview, MacroReceipt, MacroText, Receipt
from desk.core import DeskCore, position, uuid_of
from domain.errors import (
    AlreadyExists,
    InvalidField,
    SharedMacroAdminOnly,
    StaffOnly,
    UnknownAccount,
    UnknownMacro,
    VersionMismatch,
)
from domain.macro import Macro, MacroActions, render, text_for
from domain.messages import Msg
from domain.stamp import Stamp
from domain.ticket import Ticket

FIELDS = ("status", "priority", "assignee_id", "group", "tags")
"""The ticket's fields a macro may change, as its preview lists them."""


class MacroDesk(DeskCore):
    # --- keeping macros ----------------------------------------------------------------

    def create_macro(
        self,
        *,
        title: str,
        shared: bool,
        actions: MacroActions,
        stamp: Stamp,
        macro_id: UUID | None = None,
    ) -> MacroReceipt:
        """A personal macro of the agent who writes it, or (admins only) a shared one."""
        self._check_may_keep(shared, stamp)
        checked = actions.checked()
        self._check_fields(checked)
        macro = Macro.create(
            macro_id=macro_id or uuid4(),
            title=title,
            owner_id=None if shared else stamp.actor_id,
            actions=checked,
            stamp=stamp,
        )
        try:
            recordings = self.save(macro)
        except IntegrityError:  # that id is taken: by this very macro, written before?
            kept = self._get(
                Macro, macro.id, AlreadyExists(Msg("Macro {id} exists.", id=macro.id))
            )
            if kept.owner_id != macro.owner_id:
                raise AlreadyExists(
                    Msg("Macro {id} exists; write yours anew.", id=macro.id)
                ) from None
            return MacroReceipt(kept.id, kept.version, 0)
        return MacroReceipt(macro.id, macro.version, position(recordings))

    def change_macro(
        self,
        macro_id: str | UUID,
        *,
        stamp: Stamp,
        title: str | None = None,
        changes: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> MacroReceipt:
        """A new title and/or actions: each action named in ``changes`` (``reply``,
        ``status``, ``tags_add`` …) replaced, ``None`` clearing it; the others kept."""
        unknown = set(changes or {}) - set(MacroActions().as_data())
        if unknown:
            raise InvalidField(sorted(unknown)[0], Msg("A macro has no such action."))

        def command(macro: Macro) -> None:
            data = {**macro.actions.as_data(), **(changes or {})}
            for listed in ("tags_add", "tags_remove"):
                data[listed] = data[listed] or []
            new = MacroActions.from_data(data).checked()
            self._check_fields(new)
            macro.change(title=title or macro.title, actions=new, stamp=stamp)

        return self._change_macro(macro_id, stamp, expected_version, command)

    def archive_macro(
        self, macro_id: str | UUID, *, stamp: Stamp, expected_version: int | None = None
    ) -> MacroReceipt:
        return self._change_macro(
            macro_id, stamp, expected_version, lambda m: m.archive(stamp=stamp)
        )

    def macro(self, macro_id: str | UUID, stamp: Stamp) -> Macro:
        """The macro, if the author of ``stamp`` may use it (else :class:`UnknownMacro`)."""
        found = self._get(
            Macro,
            self._macro_id(macro_id),
            UnknownMacro(Msg("No macro {macro_id} that you can use.", macro_id=macro_id)),
        )
        found.check_reaches(stamp)
        return found

    def _change_macro(
        self,
        macro_id: str | UUID,
        stamp: Stamp,
        expected_version: int | None,
        command: Callable[[Macro], None],
    ) -> MacroReceipt:
        macro = self.macro(macro_id, stamp)
        self._check_may_keep(macro.shared, stamp)
        if expected_version is not None and expected_version != macro.version:
            raise VersionMismatch(expected_version, macro.version)
        command(macro)
        recordings = self.save(macro)
        return MacroReceipt(macro.id, macro.version, position(recordings))

    @staticmethod
    def _check_may_keep(shared: bool, stamp: Stamp) -> None:
        if stamp.actor_kind not in ("agent", "admin"):
            raise StaffOnly(Msg("Only agents and admins keep macros."))
        if shared and stamp.actor_kind != "admin":
            raise SharedMacroAdminOnly(
                Msg("Only Docket admins write or change shared macros; keep this one personal.")
            )

    def _check_fields(self, actions: MacroActions) -> None:
        """The agent and group a macro assigns to exist (checked again when applied)."""
        agent = None if actions.assignee in (None, "me") else actions.assignee
        if agent is not None or actions.group is not None:
            try:
                self.check_assignment(agent, actions.group)
            except InvalidField as error:
                raise InvalidField("assignee", error.detail) from None

    @staticmethod
    def _macro_id(ref: str | UUID) -> UUID:
        return ref if isinstance(ref, UUID) else uuid_of(ref, UnknownMacro)

    # --- applying one -------------------------------------------------------------------

    def apply_macro(
        self,
        ticket: str | UUID,
        *,
        macro_id: str | UUID,
        stamp: Stamp,
        expected_version: int | None = None,
    ) -> Receipt:
        """Every action of the macro on the ticket, in one save: all on record or none."""
        macro = self.macro(macro_id, stamp)
        return self._change(ticket, expected_version, self._actions_of(macro, stamp), stamp)

    def preview_macro(
        self, ticket: str | UUID, *, macro_id: str | UUID, stamp: Stamp
    ) -> MacroPreview:
        """What :meth:`apply_macro` would write now, refused as it would be; writes nothing."""
        macro = self.macro(macro_id, stamp)
        t = self._ticket(self.find_ticket(ticket))
        before = {f: _field(t, f) for f in FIELDS}
        version = t.version_seen_by(stamp)
        text = self._actions_of(macro, stamp)(t)
        changes = [
            {"field": f, "from": before[f], "to": _field(t, f)}
            for f in FIELDS
            if _field(t, f) != before[f]
        ]
        return MacroPreview(t.id, t.number, version, macro.id, macro.version, text, changes)

    def _actions_of(self, macro: Macro, stamp: Stamp) -> Callable[[Ticket], MacroText | None]:
        """The macro's actions as one command on a ticket, each event caused by the macro."""
        cause = dataclasses.replace(stamp, causation_id=macro.cause)
        return self.macro_command(macro, cause, author_id=stamp.actor_id)

    def macro_command(
        self, macro: Macro, cause: Stamp, *, author_id: str
    ) -> Callable[[Ticket], MacroText | None]:
        """The macro's actions as one command on a ticket, every event stamped ``cause``
        (an automation's firing keeps its rule as the cause); answers the text it wrote,
        written by ``author_id``.

        Field changes first (so ``{{agent.name}}`` names the agent it assigns), a change
        to what the ticket already is left out; then the text; the status last (a reply
        before a macro closes the ticket)."""
        a = macro.actions

        def command(t: Ticket) -> MacroText | None:
            if a.assignee is not None or a.group is not None:
                agent = a.assignee if a.assignee != "me" else self._me(cause)
                agent = agent if a.assignee is not None else t.assignee_id
                group = a.group if a.group is not None else t.group
                if (agent, group) != (t.assignee_id, t.group):
                    self.check_assignment(agent, group)
                    t.assign(agent_id=agent, group=group, stamp=cause)
            if a.priority is not None and a.priority != t.priority:
                t.change_priority(to_priority=a.priority, stamp=cause)
            if a.tags_add or a.tags_remove:
                t.change_tags(add=a.tags_add, remove=a.tags_remove, stamp=cause)
            written = None
            if a.text is not None:
                kind, texts = a.text
                written = self._rendered(t, kind, texts)
                if kind == "reply":
                    t.add_message(
                        author_id=author_id,
                        author_role="agent",
                        body=written.body,
                        attachments=[],
                        stamp=cause,
                    )
                else:
                    t.add_internal_note(author_id=author_id, body=written.body, stamp=cause)
            if a.status is not None and a.status != t.status:
                t.change_status(to_status=a.status, stamp=cause)
            return written

        return command

    @staticmethod
    def _me(stamp: Stamp) -> str:
        if stamp.actor_kind not in ("agent", "admin"):
            raise InvalidField(
                "assignee", Msg("assignee me names whoever applies the macro: an agent.")
            )
        return stamp.actor_id

    def _rendered(self, t: Ticket, kind: str, texts: Any) -> MacroText:
        """The macro's text in the requester's language, every placeholder filled."""
        name, language = self._requester_profile(t)
        used, text = text_for(texts, language)
        agent = self._staff(t.assignee_id).name if t.assignee_id else None
        values = {
            "requester.name": name,
            "ticket.number": t.number,
            "ticket.subject": t.subject,
            "agent.name": agent,
        }
        return MacroText(kind, used, render(f"{kind}.{used}", text, values))

    def _requester_profile(self, t: Ticket) -> tuple[str | None, str]:
        """The requester's name (if on record) and language (English if not)."""
        try:
            account = self._account(UUID(t.account_id))
        except (ValueError, UnknownAccount):
            return None, "en"
        name, language = account.profiles.get(t.requester_id, (None, "en"))
        return name, language


def _field(t: Ticket, name: str) -> Any:
    value = getattr(t, name)
    return list(value) if isinstance(value, tuple) else value
