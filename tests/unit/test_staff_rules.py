"""Docket's staff and support groups on the in-memory store: who may be assigned a
ticket, which groups exist, joining and leaving them, deactivation."""

from __future__ import annotations

import pytest

from desk.service import SupportDesk
from domain import errors
from domain.staff import StaffMember
from tests.builders import agent, desk_with_account, file, save_an_old_agent, system


def register(
    desk: SupportDesk, name: str, role: str = "agent", groups: list[str] | None = None
) -> str:
    email = f"{name.lower()}@docket.test"
    return str(
        desk.register_staff(
            name=name, email=email, role=role, groups=groups, stamp=system()
        ).staff_id
    )


def test_an_assignment_names_an_agent_not_an_auditor_analyst_or_admin() -> None:
    desk = SupportDesk()
    ticket = file(desk, desk_with_account(desk)).number
    for role in ("auditor", "analyst", "admin"):
        someone = register(desk, f"Some{role}", role=role)
        with pytest.raises(errors.NotAnAgent):
            desk.assign(ticket, agent_id=someone, group=None, stamp=agent())


def test_a_deactivated_agent_is_assigned_no_new_ticket_but_keeps_those_assigned() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    first, second = file(desk, account).number, file(desk, account).number
    alex = register(desk, "Alex", groups=["tier-1"])
    desk.assign(first, agent_id=alex, group="tier-1", stamp=agent())
    desk.deactivate_staff(alex, stamp=system())
    with pytest.raises(errors.StaffDeactivated):
        desk.assign(second, agent_id=alex, group=None, stamp=agent())
    assert desk.ticket_facts(first).assignee_id == alex


def test_an_assignment_to_a_group_that_does_not_exist_is_refused() -> None:
    desk = SupportDesk()
    ticket = file(desk, desk_with_account(desk)).number
    with pytest.raises(errors.UnknownGroup):
        desk.assign(ticket, agent_id=None, group="no-such-group", stamp=agent())
    alex = register(desk, "Alex", groups=["tier-1"])
    with pytest.raises(errors.UnknownGroup):
        desk.assign(ticket, agent_id=alex, group="no-such-group", stamp=agent())
    desk.create_group(name="tier-2", stamp=system())
    with pytest.raises(errors.InvalidField):  # it exists, but Alex is not in it
        desk.assign(ticket, agent_id=alex, group="tier-2", stamp=agent())
    desk.assign(ticket, agent_id=None, group="tier-2", stamp=agent())
    assert desk.ticket_facts(ticket).assignee_id is None


def test_groups_named_when_an_agent_was_registered_exist_even_without_a_stream() -> None:
    desk = SupportDesk()
    ticket = file(desk, desk_with_account(desk)).number
    save_an_old_agent(desk, "tier-9")
    desk.assign(ticket, agent_id=None, group="tier-9", stamp=agent())
    with pytest.raises(errors.AlreadyExists):
        desk.create_group(name="tier-9", stamp=system())
    newcomer = register(desk, "New")
    desk.add_to_group(newcomer, group="tier-9", stamp=system())


def test_registering_an_agent_creates_the_groups_it_names() -> None:
    desk = SupportDesk()
    register(desk, "Alex", groups=["billing"])
    with pytest.raises(errors.AlreadyExists):
        desk.create_group(name="billing", stamp=system())


def test_an_email_address_is_registered_once() -> None:
    desk = SupportDesk()
    register(desk, "Alex")
    with pytest.raises(errors.AlreadyExists):
        desk.register_staff(name="Alex", email="ALEX@docket.test", role="agent", stamp=system())


def test_only_active_agents_join_groups_that_exist_and_leave_the_ones_they_are_in() -> None:
    desk = SupportDesk()
    desk.create_group(name="tier-2", stamp=system())
    alex, ada = register(desk, "Alex"), register(desk, "Ada", role="auditor")
    with pytest.raises(errors.UnknownGroup):
        desk.add_to_group(alex, group="nowhere", stamp=system())
    with pytest.raises(errors.NotAnAgent):
        desk.add_to_group(ada, group="tier-2", stamp=system())
    joined = desk.add_to_group(alex, group="tier-2", stamp=system())
    with pytest.raises(errors.NothingChanged):
        desk.add_to_group(alex, group="tier-2", stamp=system())
    with pytest.raises(errors.VersionMismatch):
        desk.remove_from_group(alex, group="tier-2", stamp=system(), expected_version=1)
    desk.remove_from_group(alex, group="tier-2", stamp=system(), expected_version=joined.version)
    with pytest.raises(errors.NothingChanged):
        desk.remove_from_group(alex, group="tier-2", stamp=system())
    desk.deactivate_staff(alex, stamp=system())
    with pytest.raises(errors.StaffDeactivated):
        desk.add_to_group(alex, group="tier-2", stamp=system())
    with pytest.raises(errors.NothingChanged):
        desk.deactivate_staff(alex, stamp=system())


def test_staff_changes_are_named_past_tense_events_on_the_staff_member() -> None:
    desk = SupportDesk()
    alex = register(desk, "Alex", groups=["tier-1"])
    desk.create_group(name="tier-2", stamp=system())
    desk.add_to_group(alex, group="tier-2", stamp=system())
    desk.remove_from_group(alex, group="tier-1", stamp=system())
    desk.deactivate_staff(alex, stamp=system())
    kinds = [type(e).__qualname__ for e in desk.events.get(StaffMember.id_for("alex@docket.test"))]
    assert kinds == [
        "StaffMember.Registered",
        "StaffMember.JoinedGroup",
        "StaffMember.LeftGroup",
        "StaffMember.Deactivated",
    ]
    member: StaffMember = desk.repository.get(StaffMember.id_for("alex@docket.test"))
    assert (member.groups, member.active) == (["tier-2"], False)
