"""Time-based automations: reading rules with clear refusals, when a rule holds, its
cycles, the rule book's versions, once per cycle on the ticket, and each action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from desk.service import SupportDesk
from domain import errors
from domain.automation import DEFAULT_RULES, Rule, RuleBook, rule_from_data, slug_for
from domain.macro import MacroActions
from domain.stamp import Stamp
from domain.ticket import Ticket
from tests.builders import (
    T0,
    agent,
    desk_with_account,
    file,
    new_staff,
    new_ticket,
    requester,
    system,
)

H = timedelta(hours=1)


def rule_data(**changes: Any) -> dict[str, Any]:
    return {
        "id": "quiet",
        "name": "Quiet ticket",
        "enabled": True,
        "conditions": {"since": "last_update", "hours": 24},
        "actions": [{"type": "set_status", "status": "pending"}],
        **changes,
    }


def a_rule(conditions: dict[str, Any] | None = None, **changes: Any) -> Rule:
    data = rule_data(**changes)
    if conditions is not None:
        data["conditions"] = {"since": "last_update", "hours": 24, **conditions}
    return rule_from_data(data)


def watch(at: datetime) -> Stamp:
    return Stamp("automations", "system", "system", at)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"conditions": {"since": "last_update", "hours": 1, "status": ["waiting"]}},
         "conditions.status"),
        ({"conditions": {"since": "last_update", "hours": -1}}, "conditions.hours"),
        ({"conditions": {"since": "last_update", "hours": float("nan")}}, "conditions.hours"),
        ({"conditions": {"since": "yesterday", "hours": 1}}, "conditions.since"),
        ({"conditions": {"hours": 1}}, "conditions.since"),
        ({"conditions": {"since": "last_update", "hours": 1, "status": ["closed"]}},
         "conditions.status"),
        ({"conditions": {"since": "last_update", "hours": 1, "priority": ["critical"]}},
         "conditions.priority"),
        ({"conditions": {"since": "last_update", "hours": 1, "tier": ["gold"]}},
         "conditions.tier"),
        ({"conditions": {"since": "last_update", "hours": 1, "colour": ["red"]}},
         "conditions.colour"),
        ({"conditions": {"since": "last_update", "hours": 1, "tags_all": ["a/b"]}},
         "conditions.tags_all"),
        ({"conditions": {"since": "last_update", "hours": 1, "tags_all": ["vip"],
                         "tags_none": ["vip"]}}, "conditions.tags_none"),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "explode"}]}, "actions[0].type"),
        ({"actions": [{"type": "set_status"}]}, "actions[0].status"),
        ({"actions": [{"type": "set_status", "status": "solved"}]}, "actions[0].status"),
        ({"actions": [{"type": "set_status", "status": "open", "tag": "x"}]}, "actions[0].tag"),
        ({"actions": [{"type": "notify", "to": "everyone", "body": "Hi"}]}, "actions[0].to"),
        ({"actions": [{"type": "reply", "body": "  "}]}, "actions[0].body"),
        ({"actions": [{"type": "apply_macro", "macro_id": "m1"}]}, "actions[0].macro_id"),
        ({"actions": [{"type": "apply_macro"}]}, "actions[0].macro_id"),
        ({"actions": [{"type": "apply_macro", "macro_id": str(UUID(int=1))},
                      {"type": "apply_macro", "macro_id": str(UUID(int=2))}]}, "actions"),
        ({"actions": [{"type": "set_status", "status": "closed"},
                      {"type": "reply", "body": "Bye"}]}, "actions"),
        ({"actions": [{"type": "reply", "body": "a"}, {"type": "reply", "body": "b"}]},
         "actions"),
        ({"id": "Not A Slug"}, "id"),
        ({"name": ""}, "name"),
        ({"enabled": "yes"}, "enabled"),
    ],
)  # fmt: skip
def test_a_rule_that_cannot_work_is_refused_naming_its_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        rule_from_data(rule_data(**changes))
    assert refused.value.field == field
    assert refused.value.detail


def test_the_shipped_rules_read_back_and_are_all_switched_off() -> None:
    assert [r.id for r in DEFAULT_RULES] == [
        "pending-reminder",
        "pending-close",
        "urgent-escalation",
    ]
    for shipped in DEFAULT_RULES:
        assert rule_from_data(shipped.as_data()) == shipped
        assert not shipped.enabled
    close = DEFAULT_RULES[1]
    assert [a.type for a in close.actions] == ["reply", "set_status"]
    assert close.conditions.hours == 7 * 24


def test_a_rule_id_is_made_from_its_name() -> None:
    assert slug_for("Close after 7 days — pending!") == "close-after-7-days-pending"
    assert slug_for("!!!") == "rule"


def facts_after(*steps: tuple[str, datetime]) -> Ticket:
    """A ticket filed at T0, then each step (``pending``, ``open``, ``agent``,
    ``requester``, ``urgent``, ``tier-2``) at its instant."""
    t = new_ticket()
    for step, at in steps:
        if step in ("pending", "open"):
            t.change_status(to_status=step, stamp=agent(at))
        elif step in ("agent", "requester"):
            t.add_message(author_id="agent-1" if step == "agent" else "req-1", author_role=step,
                          body="Hello", attachments=[], stamp=agent(at))  # fmt: skip
        elif step == "urgent":
            t.change_priority(to_priority="urgent", stamp=agent(at))
        elif step == "tier-2":
            t.assign(agent_id=None, group="tier-2", stamp=agent(at))
    return t


@pytest.mark.parametrize(
    ("since", "anchor"),
    [
        ("last_update", T0 + 3 * H),
        ("last_customer_message", T0 + 2 * H),
        ("last_agent_reply", T0 + H),
        ("status_entered", T0 + H / 2),
    ],
)
def test_each_time_condition_counts_from_its_own_instant(since: str, anchor: datetime) -> None:
    t = facts_after(("pending", T0 + H / 2), ("agent", T0 + H), ("requester", T0 + 2 * H),
                    ("pending", T0 + 3 * H - H / 2), ("urgent", T0 + 3 * H))  # fmt: skip
    # the requester's reply re-opened it; the agent set it pending again at 2h30
    if since == "status_entered":
        anchor = T0 + 2 * H + H / 2
    rule = a_rule({"since": since, "hours": 10})
    assert rule.conditions.anchor(t.rule_facts) == anchor
    assert not rule.conditions.holds(t.rule_facts, anchor + 10 * H - timedelta(seconds=1))
    assert rule.conditions.holds(t.rule_facts, anchor + 10 * H)


def test_no_agent_reply_yet_counts_from_filing() -> None:
    t = facts_after(("requester", T0 + H))
    assert a_rule({"since": "last_agent_reply"}).conditions.anchor(t.rule_facts) == T0


@pytest.mark.parametrize(
    ("conditions", "holds"),
    [
        ({"status": ["pending"]}, True),
        ({"status": ["open"]}, False),
        ({"priority": ["urgent", "high"]}, True),
        ({"priority": ["low"]}, False),
        ({"group": ["tier-2"]}, True),
        ({"group": ["billing"]}, False),
        ({"tier": ["standard"]}, True),
        ({"tier": ["premium_enhanced"]}, False),
        ({"tags_none": ["vip"]}, True),
        ({"tags_all": ["vip"]}, False),
    ],
)
def test_each_state_condition_must_hold(conditions: dict[str, Any], holds: bool) -> None:
    t = facts_after(("urgent", T0), ("tier-2", T0), ("pending", T0))
    assert a_rule(conditions).conditions.holds(t.rule_facts, T0 + 48 * H) is holds


def test_tag_conditions_read_the_tickets_tags_and_a_tag_change_starts_a_new_cycle() -> None:
    t = new_ticket()
    t.change_tags(add=["VIP", "billing"], remove=[], stamp=agent(T0 + H))
    both = a_rule({"tags_all": ["vip", "billing"]}).conditions
    assert both.holds(t.rule_facts, T0 + 25 * H)
    assert not a_rule({"tags_all": ["vip", "legal"]}).conditions.holds(t.rule_facts, T0 + 25 * H)
    assert not a_rule({"tags_none": ["billing"]}).conditions.holds(t.rule_facts, T0 + 25 * H)
    t.change_tags(add=[], remove=["billing"], stamp=agent(T0 + 2 * H))
    assert t.rule_facts.tags == {"vip"}
    assert a_rule({"tags_none": ["billing"]}).conditions.cycle_start(t.rule_facts) == T0 + 2 * H


def test_a_closed_ticket_is_never_due() -> None:
    t = facts_after(
        ("pending", T0),
    )
    t.change_status(to_status="closed", stamp=agent(T0 + H))
    assert not a_rule({"since": "status_entered"}).conditions.holds(t.rule_facts, T0 + 99 * H)


def test_the_ticket_records_a_rule_once_per_cycle_and_again_in_the_next() -> None:
    t = facts_after(("pending", T0))
    rule = a_rule({"since": "status_entered", "status": ["pending"]})
    with pytest.raises(errors.NothingChanged, match="not due"):
        t.record_automation(rule=rule, notify_to=[], stamp=watch(T0 + 23 * H))
    t.record_automation(rule=rule, notify_to=[], stamp=watch(T0 + 24 * H))
    with pytest.raises(errors.NothingChanged, match="already fired"):
        t.record_automation(rule=rule, notify_to=[], stamp=watch(T0 + 30 * H))
    changed = rule_from_data({**rule.as_data(), "name": "Renamed", "version": 2})
    with pytest.raises(errors.NothingChanged, match="already fired"):  # a new version too
        t.record_automation(rule=changed, notify_to=[], stamp=watch(T0 + 31 * H))
    # leaving pending ends the cycle; coming back starts the next
    t.change_status(to_status="open", stamp=agent(T0 + 32 * H))
    t.change_status(to_status="pending", stamp=agent(T0 + 33 * H))
    t.record_automation(rule=rule, notify_to=[], stamp=watch(T0 + 57 * H))
    fired = [e for e in t.collect_events() if isinstance(e, Ticket.AutomationFired)]
    assert [f.cycle_start for f in fired] == [T0, T0 + 33 * H]


def test_a_change_to_a_field_the_rule_reads_starts_a_new_cycle() -> None:
    t = facts_after(("urgent", T0))
    rule = a_rule({"since": "last_update", "hours": 1, "priority": ["urgent", "high"]})
    t.record_automation(rule=rule, notify_to=[], stamp=watch(T0 + H))
    t.change_priority(to_priority="high", stamp=agent(T0 + 2 * H))
    assert rule.conditions.cycle_start(t.rule_facts) == T0 + 2 * H


def test_firings_are_staff_only_and_no_update_of_the_ticket() -> None:
    t = facts_after(("pending", T0))
    customer_version = t.customer_version
    t.record_automation(rule=a_rule({"since": "status_entered"}), notify_to=[],
                        stamp=watch(T0 + 24 * H))  # fmt: skip
    assert t.customer_version == customer_version
    assert t.rule_facts.updated_at == T0


# --- the rule book ---------------------------------------------------------------------


def test_every_change_of_a_rule_raises_its_version_and_the_same_again_is_refused() -> None:
    book = RuleBook.found(stamp=system())
    assert not book.rule("pending-close").enabled
    on = book.change_rule(rule_id="pending-close", changes={"enabled": True}, stamp=system())
    assert (on.version, on.enabled, on.causation_id) == (2, True, "rule:pending-close:v2")
    with pytest.raises(errors.NothingChanged):
        book.change_rule(rule_id="pending-close", changes={"enabled": True}, stamp=system())
    assert book.rule("pending-close").version == 2
    with pytest.raises(errors.UnknownAutomation):
        book.change_rule(rule_id="nope", changes={"enabled": True}, stamp=system())
    with pytest.raises(errors.InvalidField):
        book.change_rule(rule_id="pending-close", changes={"version": 9}, stamp=system())
    added = book.add_rule(data=rule_data(version=7), stamp=system())
    assert added.version == 1
    with pytest.raises(errors.AlreadyExists):
        book.add_rule(data=rule_data(), stamp=system())


# --- firing through the desk (in memory) ----------------------------------------------


def pending_ticket(desk: SupportDesk) -> UUID:
    t = file(desk, desk_with_account(desk))
    desk.change_status(t.ticket_id, to_status="pending", stamp=agent())
    return t.ticket_id


def events(desk: SupportDesk, ticket_id: UUID) -> list[Any]:
    return [desk.mapper.to_domain_event(s) for s in desk.recorder.select_events(ticket_id)]


def test_the_desk_reads_the_shipped_rules_before_the_book_is_founded() -> None:
    desk = SupportDesk()
    assert desk.automation_rules() == list(DEFAULT_RULES)
    assert desk.automation_rule("pending-reminder") == DEFAULT_RULES[0]
    with pytest.raises(errors.UnknownAutomation):
        desk.automation_rule("nope")


def test_a_switched_off_rule_does_not_fire() -> None:
    desk = SupportDesk()
    ticket_id = pending_ticket(desk)
    with pytest.raises(errors.NothingChanged, match="switched off"):
        desk.run_automation(ticket_id, rule_id="pending-close", stamp=watch(T0 + 200 * H))


def test_firing_writes_the_fact_then_the_actions_each_caused_by_the_rule_version() -> None:
    desk = SupportDesk()
    ticket_id = pending_ticket(desk)
    desk.change_automation_rule("pending-close", changes={"enabled": True}, stamp=system())
    desk.run_automation(ticket_id, rule_id="pending-close", stamp=watch(T0 + 168 * H))
    written = events(desk, ticket_id)[-4:]
    # a closing by a rule asks for a rating, as any closing does
    assert [type(e).__name__ for e in written] == [
        "AutomationFired", "MessageAdded", "StatusChanged", "SurveyOffered",
    ]  # fmt: skip
    assert {e.stamp.causation_id for e in written} == {"rule:pending-close:v2"}
    assert written[1].author_id == "rule:pending-close"
    assert written[2].to_status == "closed"


def test_assigning_a_group_keeps_an_agent_who_works_in_it_and_notifies_the_assignee() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    staffed = new_staff(desk, "Ann", "ann@docket.test", groups=["tier-2"])
    other = new_staff(desk, "Bob", "bob@docket.test", groups=["tier-1"])
    urgent = []
    for agent_id in (staffed, other):
        t = desk.file_ticket(account_id=account, requester_id="req-1", subject="Down",
                             description="All down.", type="bug", priority="urgent",
                             product="Files", stamp=requester())  # fmt: skip
        desk.assign(t.ticket_id, agent_id=agent_id, group=None, stamp=agent())
        urgent.append(t.ticket_id)
    desk.change_automation_rule("urgent-escalation", changes={"enabled": True}, stamp=system())
    for ticket_id in urgent:
        desk.run_automation(ticket_id, rule_id="urgent-escalation", stamp=watch(T0 + H))
    kept, moved = (events(desk, t) for t in urgent)
    assert [type(e).__name__ for e in kept[-3:]] == ["AutomationFired", "TagsAdded", "Assigned"]
    assert (kept[-1].group, kept[-1].agent_id) == ("tier-2", staffed)
    assert (moved[-1].group, moved[-1].agent_id) == ("tier-2", None)
    assert kept[-3].notify_to == [staffed] and "escalated" in kept[-3].notice
    assert kept[-2].tags == ["escalated"]
    # tagged escalated, the rule no longer holds: no second escalation, even much later
    with pytest.raises(errors.NothingChanged, match="not due"):
        desk.run_automation(urgent[0], rule_id="urgent-escalation", stamp=watch(T0 + 99 * H))


def test_enabling_a_rule_that_assigns_to_a_missing_group_is_refused() -> None:
    desk = SupportDesk()
    with pytest.raises(errors.UnknownGroup):
        desk.change_automation_rule("urgent-escalation", changes={"enabled": True},
                                    stamp=system())  # fmt: skip
    assert not desk.automation_rule("urgent-escalation").enabled


# --- applying a shared macro -----------------------------------------------------------

ADMIN = Stamp("admin-9", "admin", "web", T0)


def macro_rule(desk: SupportDesk, macro_id: UUID | str, *, enabled: bool = True) -> Rule:
    return desk.add_automation_rule(
        data=rule_data(
            id="macro-quiet", enabled=enabled,
            conditions={"since": "status_entered", "hours": 24, "status": ["pending"]},
            actions=[{"type": "add_tag", "tag": "nudged"},
                     {"type": "apply_macro", "macro_id": str(macro_id)}],
        ),
        stamp=system(),
    )  # fmt: skip


def shared_macro(desk: SupportDesk, actions: MacroActions) -> UUID:
    return desk.create_macro(title="Nudge", shared=True, actions=actions, stamp=ADMIN).macro_id


NUDGE = MacroActions(reply={"en": "Any news on {{ticket.number}}?"}, priority="high",
                     tags_add=("waiting",), status="open")  # fmt: skip


def test_the_apply_macro_action_reads_back_with_its_macro_id() -> None:
    macro_id = UUID(int=7)
    rule = rule_from_data(rule_data(actions=[{"type": "apply_macro", "macro_id": str(macro_id)}]))
    assert rule.actions[0].macro_id == str(macro_id)
    assert rule_from_data(rule.as_data()) == rule
    assert rule.macros_applied() == [(0, str(macro_id))]


@pytest.mark.parametrize("which", ["unknown", "personal", "archived", "assigns to me"])
def test_switching_on_a_rule_whose_macro_docket_cannot_apply_is_refused_naming_it(
    which: str,
) -> None:
    desk = SupportDesk()
    makers: dict[str, Callable[[], UUID]] = {
        "unknown": uuid4,
        "personal": lambda: desk.create_macro(title="Mine", shared=False, actions=NUDGE,
                                              stamp=ADMIN).macro_id,
        "archived": lambda: archived(desk),
        "assigns to me": lambda: shared_macro(desk, MacroActions(assignee="me")),
    }  # fmt: skip
    macro_id = makers[which]()
    with pytest.raises(errors.InvalidField) as refused:
        macro_rule(desk, macro_id)
    assert refused.value.field == "actions[1].macro_id"
    assert "macro" in refused.value.detail
    saved = macro_rule(desk, macro_id, enabled=False)  # switched off, it may wait for one
    with pytest.raises(errors.InvalidField) as again:
        desk.change_automation_rule(saved.id, changes={"enabled": True}, stamp=system())
    assert again.value.field == "actions[1].macro_id"


def test_a_macro_that_closes_is_a_rules_last_action() -> None:
    desk = SupportDesk()
    closing = shared_macro(desk, MacroActions(note={"en": "Closed by rule."}, status="closed"))
    with pytest.raises(errors.InvalidField, match="last action") as refused:
        desk.add_automation_rule(
            data=rule_data(enabled=True, actions=[
                {"type": "apply_macro", "macro_id": str(closing)},
                {"type": "add_tag", "tag": "closed-by-rule"},
            ]),
            stamp=system(),
        )  # fmt: skip
    assert refused.value.field == "actions[0].macro_id"
    assert macro_rule(desk, closing).enabled  # last, it may close


def archived(desk: SupportDesk) -> UUID:
    macro_id = shared_macro(desk, NUDGE)
    desk.archive_macro(macro_id, stamp=ADMIN)
    return macro_id


def test_firing_applies_the_shared_macro_in_the_same_save_caused_by_the_rule() -> None:
    desk = SupportDesk()
    ticket_id = pending_ticket(desk)
    rule = macro_rule(desk, shared_macro(desk, NUDGE))
    desk.run_automation(ticket_id, rule_id=rule.id, stamp=watch(T0 + 24 * H))
    written = events(desk, ticket_id)[-6:]
    assert [type(e).__name__ for e in written] == [
        "AutomationFired", "TagsAdded", "PriorityRaised", "TagsAdded", "MessageAdded",
        "StatusChanged",
    ]  # fmt: skip
    assert {e.stamp.causation_id for e in written} == {"rule:macro-quiet:v1"}
    reply = written[4]
    assert (reply.author_id, reply.body) == ("rule:macro-quiet", "Any news on T-000001?")
    assert desk.repository.get(ticket_id).status == "open"


def test_a_macro_archived_after_the_rule_was_switched_on_refuses_the_firing_whole() -> None:
    desk = SupportDesk()
    ticket_id = pending_ticket(desk)
    macro_id = shared_macro(desk, NUDGE)
    rule = macro_rule(desk, macro_id)
    desk.archive_macro(macro_id, stamp=ADMIN)
    before = len(events(desk, ticket_id))
    with pytest.raises(errors.UnknownMacro):
        desk.run_automation(ticket_id, rule_id=rule.id, stamp=watch(T0 + 24 * H))
    assert len(events(desk, ticket_id)) == before
