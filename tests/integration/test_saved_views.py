"""Saved views on PostgreSQL: the saved views' view, and each view's count in the inbox
counting exactly the tickets a walk of its pages lists (up to the cap)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from domain.errors import SharedViewsForAdmins, UnknownSavedView, VersionMismatch
from projections import saved_views
from projections.lists import inbox
from projections.lists.filters import SORTS, ListFilter, count
from projections.runner import ProjectionRunner
from projections.tracking import view_position
from tests.builders import agent, agent_reply, desk_with_account, file, later, new_staff


def test_the_saved_views_view_keeps_each_agents_own_and_the_shared_ones(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    mine = desk.save_view(
        name="Mine", filters={"status": ["open"]}, shared=False, may_share=False,
        stamp=agent(who="agent-1"),
    )  # fmt: skip
    desk.save_view(
        name="Theirs", filters={}, shared=False, may_share=False, stamp=agent(who="agent-2")
    )
    everyones = desk.save_view(
        name="All open", filters={"status": ["open"]}, shared=True, may_share=True,
        stamp=agent(who="admin-1"),
    )  # fmt: skip
    gone = desk.save_view(
        name="Gone", filters={}, shared=False, may_share=False, stamp=agent(who="agent-1")
    )
    desk.change_view(
        mine.view_id, name="Mine, urgent", filters={"priority": ["urgent"]}, may_share=False,
        stamp=agent(who="agent-1"), expected_version=1,
    )  # fmt: skip
    desk.remove_view(gone.view_id, may_share=False, stamp=agent(who="agent-1"))
    runner.catch_up()
    seen = saved_views.visible(conn, runner.tables, "agent-1")
    assert [(r["name"], r["owner_id"], r["filters"], r["version"]) for r in seen] == [
        ("Mine, urgent", "agent-1", {"priority": ["urgent"]}, 2),
        ("All open", None, {"status": ["open"]}, 1),
    ]
    assert [r["name"] for r in saved_views.visible(conn, runner.tables, "agent-2")] == [
        "Theirs",
        "All open",
    ]
    assert saved_views.visible(conn, runner.tables, "agent-2", mine.view_id) == []
    assert desk.has_saved_view(everyones.view_id, "agent-2")
    assert not desk.has_saved_view(mine.view_id, "agent-2")


def test_a_view_is_changed_only_by_who_may_and_at_the_version_named(desk: SupportDesk) -> None:
    mine = desk.save_view(
        name="Mine", filters={}, shared=False, may_share=False, stamp=agent(who="agent-1")
    )
    everyones = desk.save_view(
        name="All", filters={}, shared=True, may_share=True, stamp=agent(who="admin-1")
    )
    with pytest.raises(UnknownSavedView):  # whatever version they name: no view to them
        desk.change_view(
            mine.view_id, name="X", may_share=True, stamp=agent(who="agent-2"),
            expected_version=7,
        )  # fmt: skip
    with pytest.raises(SharedViewsForAdmins):
        desk.remove_view(everyones.view_id, may_share=False, stamp=agent(who="agent-1"))
    with pytest.raises(VersionMismatch):
        desk.change_view(
            mine.view_id, name="X", may_share=False, stamp=agent(who="agent-1"),
            expected_version=2,
        )  # fmt: skip
    with pytest.raises(UnknownSavedView):
        desk.remove_view("not-an-id", may_share=True, stamp=agent(who="admin-1"))


def walked(conn: psycopg.Connection[Any], runner: ProjectionRunner, where: ListFilter) -> int:
    """How many tickets a walk of every page of the inbox, filtered so, lists."""
    found, cursor = 0, None
    while True:
        page = inbox.tickets(conn, runner.tables, where, limit=2, cursor=cursor)
        found += len(page.rows)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


COUNTED = [
    ListFilter(),
    ListFilter(statuses=("open",)),
    ListFilter(statuses=("open", "pending"), groups=("tier-2",)),
    ListFilter(assignees=("none",)),
    ListFilter(priorities=("urgent",), statuses=("open",)),
    ListFilter(needs_answer=True),
    ListFilter(needs_answer=False),
    ListFilter(breaching_within=60 * 24 * 365 * 10, now=later()),
    ListFilter(q="syncing"),
    ListFilter(statuses=("closed",), products=("Dash",)),
]


def test_a_views_count_is_what_a_walk_of_its_pages_lists(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    alex = new_staff(desk, "Alex", "alex@desk.test", groups=["tier-2"])
    tickets = [file(desk, account, at=later(hours=i)) for i in range(9)]
    for i, t in enumerate(tickets):
        if i % 3 == 0:
            desk.assign(t.number, agent_id=alex, group="tier-2", stamp=agent())
        if i % 4 == 1:
            desk.change_priority(t.number, to_priority="urgent", stamp=agent())
        if i % 3 == 1:
            agent_reply(desk, t.number, "On it.", later(hours=i, days=1))
        if i % 5 == 2:
            desk.change_status(t.number, to_status="pending", stamp=agent())
        if i in (4, 8):
            desk.change_status(t.number, to_status="closed", stamp=agent())
    runner.catch_up()
    snapshot = view_position(conn, runner.schema, inbox.NAME)
    mine = [ListFilter(assignees=(alex,)), ListFilter(assignees=(alex, "none"))]
    for where in [*COUNTED, *mine]:
        for sort in SORTS:
            counted = inbox.INBOX.count(conn, runner.tables, where, snapshot, sort=sort)
            assert (counted.tickets, counted.capped) == (walked(conn, runner, where), False), (
                where,
                sort,
            )
    assert {inbox.INBOX.count(conn, runner.tables, w, snapshot).tickets for w in COUNTED} != {9}
    # a change after the snapshot is not counted in it, as a walk begun then does not list it
    desk.change_status(tickets[0].number, to_status="closed", stamp=agent())
    runner.catch_up()
    closed = ListFilter(statuses=("closed",))
    assert inbox.INBOX.count(conn, runner.tables, closed, snapshot).tickets == 2
    assert (
        inbox.INBOX.count(
            conn, runner.tables, closed, view_position(conn, runner.schema, inbox.NAME)
        ).tickets
        == 3
    )


def test_a_count_stops_at_its_cap_and_says_there_are_more(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    for i in range(5):
        file(desk, account, at=later(hours=i))
    runner.catch_up()
    snapshot = view_position(conn, runner.schema, inbox.NAME)
    rows, search = inbox.INBOX.rows, inbox.INBOX.search

    def counted(cap: int) -> tuple[int, bool]:
        found = count(conn, runner.tables, table=rows, search_table=search,
                      where=ListFilter(), snapshot=snapshot, sort=SORTS["attention"],
                      cap=cap)  # fmt: skip
        return found.tickets, found.capped

    assert counted(3) == (3, True)
    assert counted(5) == (5, False)
    assert counted(1000) == (5, False)
