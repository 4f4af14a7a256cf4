"""Time-based automations: the rule book's use cases, and firing one rule on one ticket.

The rules are read from the rule book itself (as the SLA policy is): there are a handful,
and an admin who changes one reads the change at once. Firing is one save on the ticket:
the :class:`~domain.ticket.Ticket.AutomationFired` fact and the rule's actions together,
each event's causation ``rule:<id>:v<version>``. The ticket refuses a second firing for
the same cycle, and a race between two watches is decided by the event store: the loser
folds the winner's events in, and is refused.

An ``apply_macro`` action applies a shared macro (:mod:`desk.macros`) in that same save.
Its events name the rule, not the macro, as their cause: the firing is why they were
written, and the rule's version names the macro it applies. A rule is switched on only
naming a shared macro Docket itself can apply; one archived or changed since refuses the
firing whole (nothing written, the watch logs why), as an unfilled placeholder does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from desk.answers import Receipt
from desk.macros import MacroDesk
from domain.automation import BOOK_ID, DEFAULT_RULES, Rule, RuleBook, slug_for
from domain.errors import InvalidField, NothingChanged, UnknownAutomation, UnknownMacro
from domain.macro import Macro
from domain.messages import Msg
from domain.stamp import Stamp
from domain.ticket import Ticket


class Automations(MacroDesk):
    # --- the rule book ------------------------------------------------------------------

    def automation_rules(self) -> list[Rule]:
        """Every rule, the shipped ones first (switched off until an admin enables them)."""
        book = self._rule_book()
        return book.all_rules() if book else list(DEFAULT_RULES)

    def automation_rule(self, rule_id: str) -> Rule:
        book = self._rule_book()
        if book is not None:
            return book.rule(rule_id)
        for rule in DEFAULT_RULES:
            if rule.id == rule_id:
                return rule
        raise UnknownAutomation(
            Msg(
                "No automation {rule_id}; GET /v1/automations lists the rules.",
                rule_id=repr(rule_id),
            )
        )

    def add_automation_rule(self, *, data: Mapping[str, Any], stamp: Stamp) -> Rule:
        """A new rule (version 1); its id is the one given, or made from its name."""
        data = {**data, "id": data.get("id") or slug_for(str(data.get("name") or ""))}
        return self._write_rule_book(lambda book: book.add_rule(data=data, stamp=stamp), stamp)

    def change_automation_rule(
        self, rule_id: str, *, changes: Mapping[str, Any], stamp: Stamp
    ) -> Rule:
        """Change any of a rule's name, enabled flag, conditions and actions (version + 1)."""
        return self._write_rule_book(
            lambda book: book.change_rule(rule_id=rule_id, changes=changes, stamp=stamp), stamp
        )

    def _write_rule_book(self, change: Callable[[RuleBook], Rule], stamp: Stamp) -> Rule:
        def checked(book: RuleBook) -> Rule:
            rule = change(book)
            if rule.enabled:  # a rule switched on assigns only to groups that exist
                for group in rule.groups_assigned():
                    self.check_assignment(None, group)
                for i, macro_id in rule.macros_applied():
                    self._check_rule_macro(rule, i, macro_id)
            return rule

        _, rule, _ = self._saved_again(
            lambda: self._rule_book() or RuleBook.found(stamp=stamp),
            checked,
            Msg("The automation rule book"),
        )
        return rule

    def _check_rule_macro(self, rule: Rule, i: int, macro_id: str) -> None:
        """A rule switched on applies a shared macro, not archived, that Docket can apply
        to any ticket: its assignee names someone, and a macro that closes comes last."""
        field = f"actions[{i}].macro_id"
        macro = self._rule_macro(macro_id)
        if macro is None or not macro.shared:
            kind = Msg("a personal macro") if macro is not None else Msg("no macro by that id")
            raise InvalidField(
                field,
                Msg(
                    "{field} names {kind}: a rule applies only a shared macro (GET /v1/macros "
                    "lists them; admins share one).",
                    field=field,
                    kind=kind,
                ),
            )
        if macro.archived:
            raise InvalidField(
                field, Msg("{field} names an archived macro: name a current one.", field=field)
            )
        if macro.actions.assignee == "me":
            raise InvalidField(
                field,
                Msg(
                    "{field} assigns to me, whoever applies it; an automation is no one: name "
                    "the agent in the macro, or leave the assignee out.",
                    field=field,
                ),
            )
        if macro.actions.status == "closed" and i != len(rule.actions) - 1:
            raise InvalidField(
                field,
                Msg(
                    "{field} closes the ticket: closing is a rule's last action, so apply the "
                    "macro last.",
                    field=field,
                ),
            )

    def _rule_macro(self, macro_id: str) -> Macro | None:
        try:
            return self._get(Macro, self._macro_id(macro_id), UnknownMacro(macro_id))
        except UnknownMacro:
            return None

    def rule_macros(self, rule: Rule) -> dict[str, Macro]:
        """The shared macros the rule applies, by id (one Docket cannot apply is left out)."""
        found = {m: self._rule_macro(m) for _, m in rule.macros_applied()}
        return {m: macro for m, macro in found.items() if macro and macro.shared
                and not macro.archived}  # fmt: skip

    def _rule_book(self) -> RuleBook | None:
        return self._book(RuleBook, BOOK_ID)

    # --- firing -------------------------------------------------------------------------

    def run_automation(self, ticket: str | UUID, *, rule_id: str, stamp: Stamp) -> Receipt:
        """Fire the rule on the ticket if it is due and has not fired this cycle; else
        :class:`NothingChanged`. ``stamp.at`` is the instant it is decided at."""
        rule = self.automation_rule(rule_id)
        if not rule.enabled:
            raise NothingChanged(Msg("The automation {rule_id} is switched off.", rule_id=rule_id))
        stamp = replace(stamp, causation_id=rule.causation_id)
        macros = {m: self.macro(m, stamp) for _, m in rule.macros_applied()}  # shared only
        return self._change(ticket, None, lambda t: self._fire(t, rule, macros, stamp), stamp)

    def _fire(self, t: Ticket, rule: Rule, macros: dict[str, Macro], stamp: Stamp) -> None:
        notify = next((a for a in rule.actions if a.type == "notify"), None)
        to: list[str] = []
        if notify is not None:
            person = t.requester_id if notify.to == "requester" else t.assignee_id
            to = [person] if person else []
        t.record_automation(rule=rule, notify_to=to, stamp=stamp)
        author = f"rule:{rule.id}"
        for action in rule.actions:
            if action.type == "set_status" and action.status and action.status != t.status:
                t.change_status(to_status=action.status, stamp=stamp)
            elif action.type == "reply" and action.body:
                t.add_message(
                    author_id=author, author_role="agent", body=action.body, attachments=[],
                    stamp=stamp,
                )  # fmt: skip
            elif action.type == "assign_group" and action.group and action.group != t.group:
                self._assign_group(t, action.group, stamp)
            elif action.type == "add_tag" and action.tag:
                t.change_tags(add=[action.tag], remove=[], stamp=stamp)
            elif action.type == "apply_macro" and action.macro_id:
                self.macro_command(macros[action.macro_id], stamp, author_id=author)(t)

    def _assign_group(self, t: Ticket, group: str, stamp: Stamp) -> None:
        """The ticket to ``group``, keeping its agent if they work in that group."""
        self.check_assignment(None, group)
        agent = t.assignee_id
        if agent is not None:
            try:
                if group not in self._staff(agent).groups:
                    agent = None
            except Exception:  # an assignee Docket no longer knows: the group alone
                agent = None
        t.assign(agent_id=agent, group=group, stamp=stamp)
