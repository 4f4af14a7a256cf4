"""Staff on PostgreSQL: the roster view, and a deactivated staff member's tokens refused
from the instant the event is stored."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from api.tokens import TokenStore
from desk.access import Principal
from desk.service import SupportDesk
from projections import staff_roster
from projections.lists import inbox
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner
from store.staff_status import StaffStatus
from tests.builders import agent, desk_with_account, file, new_staff, save_an_old_agent, system


def test_the_roster_lists_staff_groups_and_who_was_deactivated(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    alex = desk.register_staff(
        name="Alex", email="alex@desk.test", role="agent", groups=["tier-1"], stamp=system()
    ).staff_id
    save_an_old_agent(desk, "legacy")  # its group is listed as created too
    desk.register_staff(name="Ada", email="ada@desk.test", role="auditor", stamp=system())
    desk.create_group(name="tier-2", stamp=system())
    desk.add_to_group(alex, group="tier-2", stamp=system())
    desk.remove_from_group(alex, group="tier-1", stamp=system())
    desk.deactivate_staff(alex, stamp=system())
    runner.catch_up()
    rows = {r["name"]: r for r in staff_roster.staff(conn, runner.tables)}
    assert [rows[n]["role"] for n in ("Ada", "Alex", "Old")] == ["auditor", "agent", "agent"]
    assert (rows["Alex"]["active"], rows["Alex"]["groups"], rows["Alex"]["version"]) == (
        False,
        ["tier-2"],
        4,
    )
    assert rows["Ada"]["active"] and rows["Alex"]["deactivated_at"] is not None
    assert [r["name"] for r in staff_roster.staff(conn, runner.tables, active=False)] == ["Alex"]
    assert [r["name"] for r in staff_roster.staff(conn, runner.tables, group="legacy")] == ["Old"]
    groups = {
        g["name"]: [a["name"] for a in g["agents"]]
        for g in staff_roster.groups(conn, runner.tables)
    }
    assert groups == {"tier-1": [], "tier-2": ["Alex"], "legacy": ["Old"]}


def test_a_deactivated_agents_open_tickets_stay_theirs_and_are_listed_for_reassignment(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    alex = new_staff(desk, "Alex", "alex@desk.test")
    tickets = [file(desk, account) for _ in range(3)]
    for t in tickets:
        desk.assign(t.number, agent_id=alex, group=None, stamp=agent())
    desk.change_status(tickets[2].number, to_status="closed", stamp=agent())
    desk.deactivate_staff(alex, stamp=system())
    runner.catch_up()
    where = ListFilter(assignees=(alex,), statuses=("open", "pending"))
    listed = inbox.tickets(conn, runner.tables, where).rows
    assert {r["number"] for r in listed} == {tickets[0].number, tickets[1].number}


def test_a_deactivated_staff_members_tokens_are_refused_once_the_event_is_stored(
    desk: SupportDesk, database_url: str, schema: str
) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        tokens = TokenStore(pool, schema)
        tokens.create_tables()
        status = StaffStatus(pool, schema)
        status.create_tables()
        status.create_tables()  # a second process starting finds it there
        alex = desk.register_staff(
            name="Alex", email="alex@desk.test", role="agent", stamp=system()
        ).staff_id
        token = tokens.issue(Principal(str(alex), "agent", "Alex")).token
        customer = tokens.issue(Principal("req-1", "requester", "R")).token
        assert tokens.principal(token) is not None
        desk.deactivate_staff(alex, stamp=system())
        assert tokens.principal(token) is None
        assert status.deactivated(str(alex)) and not status.deactivated("req-1")
        assert tokens.principal(customer) is not None
        later = tokens.issue(
            Principal(str(alex), "agent", "Alex")
        ).token  # issued after: refused too
        assert tokens.principal(later) is None
