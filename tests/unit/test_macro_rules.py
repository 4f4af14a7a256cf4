"""Macros: what a macro may hold, its placeholders, and how its text is rendered."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain import errors
from domain.macro import PLACEHOLDERS, Macro, MacroActions, render, text_for
from tests.builders import agent


def make(actions: MacroActions, owner: str | None = "agent-1") -> Macro:
    return Macro.create(
        macro_id=uuid4(), title="Ask for logs", owner_id=owner, actions=actions, stamp=agent()
    )


def test_a_macro_records_its_actions_normalised() -> None:
    macro = make(
        MacroActions(
            reply={"en": "Hi {{ requester.name }}"}, status="pending", tags_add=("Needs Logs",)
        )
    )
    (created,) = macro.collect_events()
    assert isinstance(created, Macro.Created)
    assert created.actions["tags_add"] == ["needs-logs"]
    assert created.actions["reply"] == {"en": "Hi {{ requester.name }}"}
    assert macro.cause == f"macro:{macro.id}:v1"


@pytest.mark.parametrize(
    ("actions", "field"),
    [
        (MacroActions(reply={"en": "Hello {{requester.nickname}}"}), "reply.en"),
        (MacroActions(note={"fr": "Voir {{ticket.id}}"}), "note.fr"),
        (MacroActions(reply={"en": "Half {{ticket.number"}), "reply.en"),
        (MacroActions(reply={"en": "x}} y"}), "reply.en"),
        (MacroActions(reply={"de": "Hallo"}), "reply.language"),
        (MacroActions(reply={}), "reply"),
        (MacroActions(reply={"en": "   "}), "reply.en"),
        (MacroActions(reply={"en": "a"}, note={"en": "b"}), "note"),
        (MacroActions(status="solved"), "status"),
        (MacroActions(priority="critical"), "priority"),
        (MacroActions(tags_add=("a/b",)), "tags_add"),
        (MacroActions(tags_add=("a",), tags_remove=("A",)), "tags_remove"),
        (MacroActions(), "reply"),
    ],
)
def test_a_macro_that_cannot_be_applied_as_written_is_refused_when_saved(
    actions: MacroActions, field: str
) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        make(actions)
    assert refused.value.field == field


def test_an_unknown_placeholder_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(errors.InvalidField) as refused:
        make(MacroActions(reply={"en": "Dear {{customer.name}}"}))
    for name in PLACEHOLDERS:
        assert "{{" + name + "}}" in refused.value.detail


def test_rendering_fills_every_placeholder() -> None:
    values = {"requester.name": "Ada", "ticket.number": "T-000042", "agent.name": "Bo"}
    text = "Hi {{requester.name}}, {{ ticket.number }} is with {{agent.name}}."
    assert render("reply.en", text, values) == "Hi Ada, T-000042 is with Bo."


@pytest.mark.parametrize("missing", ["requester.name", "agent.name"])
def test_a_placeholder_that_cannot_be_filled_refuses_naming_it(missing: str) -> None:
    values = {"requester.name": "Ada", "agent.name": "Bo", missing: None}
    with pytest.raises(errors.MacroPlaceholderUnfilled) as refused:
        render("reply.fr", "{{requester.name}} / {{agent.name}}", values)
    assert refused.value.field == missing
    assert isinstance(refused.value, errors.InvalidField)  # a 422, like every bad field


def test_the_requesters_language_is_used_else_the_other_one_written() -> None:
    both = {"en": "Hello", "fr": "Bonjour"}
    assert text_for(both, "fr") == ("fr", "Bonjour")
    assert text_for(both, "en") == ("en", "Hello")
    assert text_for({"en": "Hello"}, "fr") == ("en", "Hello")
    assert text_for({"fr": "Bonjour"}, "en") == ("fr", "Bonjour")


def test_a_personal_macro_reaches_its_owner_only_and_an_archived_one_nobody() -> None:
    macro = make(MacroActions(status="pending"))
    macro.check_reaches(agent(who="agent-1"))
    with pytest.raises(errors.UnknownMacro):
        macro.check_reaches(agent(who="agent-2"))
    shared = make(MacroActions(status="pending"), owner=None)
    shared.check_reaches(agent(who="agent-2"))
    shared.archive(stamp=agent())
    with pytest.raises(errors.UnknownMacro):
        shared.check_reaches(agent(who="agent-2"))


def test_a_change_that_changes_nothing_is_refused() -> None:
    macro = make(MacroActions(status="pending"))
    with pytest.raises(errors.NothingChanged):
        macro.change(title="Ask for logs", actions=MacroActions(status="pending"), stamp=agent())
    macro.change(title="Ask for logs", actions=MacroActions(status="closed"), stamp=agent())
    assert macro.version == 2 and macro.cause.endswith(":v2")
