"""Tags through the desk and the views (real PostgreSQL): one save, staff only, indexed."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from domain import errors
from projections import tag_counts, ticket_detail
from projections.lists import customer_tickets, inbox
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner
from tests.builders import agent, desk_with_account, file, later, system


def numbers(page: Any) -> list[str]:
    return sorted(r["number"] for r in page.rows)


def test_tags_are_one_save_and_staff_see_them_in_the_detail_and_inbox(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    a, b, c = (file(desk, account) for _ in range(3))
    desk.change_tags(a.ticket_id, add=["Billing", "VIP"], stamp=agent(later(hours=1)))
    desk.change_tags(b.ticket_id, add=["billing"], stamp=agent(later(hours=1)))
    tagged = desk.change_tags(
        c.ticket_id, add=["vip"], remove=["none-yet"], stamp=system(later(hours=1))
    )
    assert tagged.version == 2  # one event: only the real change
    runner.catch_up()
    t = runner.tables

    staff = ticket_detail.detail(conn, t, a.number, with_internal_notes=True)
    assert staff is not None and staff["tags"] == ["billing", "vip"]
    for seen_by in ("customer", "requester"):
        customer = ticket_detail.detail(
            conn, t, a.number, with_internal_notes=False, seen_by=seen_by
        )
        assert customer is not None and "tags" not in customer
        assert customer["version"] == 1  # the tags moved nothing a customer reads

    every = inbox.tickets(conn, t, ListFilter(tags_all=("billing", "vip")))
    assert numbers(every) == [a.number]
    some = inbox.tickets(conn, t, ListFilter(tags_any=("billing", "vip")))
    assert numbers(some) == sorted([a.number, b.number, c.number])
    assert numbers(inbox.tickets(conn, t, ListFilter(tags_any=("nobody",)))) == []
    mine = customer_tickets.tickets(conn, t, ListFilter(requester_id="req-1"))
    assert all(r.get("tags", []) == [] for r in mine.rows)


def test_a_refused_tag_change_saves_nothing(desk: SupportDesk) -> None:
    account = desk_with_account(desk)
    filed = file(desk, account)
    with pytest.raises(errors.InvalidField):
        desk.change_tags(filed.ticket_id, add=["fine", "not fine!"], stamp=agent())
    assert desk.ticket_facts(filed.ticket_id).version == 1
    with pytest.raises(errors.VersionMismatch):
        desk.change_tags(filed.ticket_id, add=["fine"], stamp=agent(), expected_version=7)


def test_the_tags_dashboard_counts_tickets_per_tag_and_status(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    a, b = file(desk, account), file(desk, account)
    desk.change_tags(a.ticket_id, add=["billing", "vip"], stamp=agent(later(hours=1)))
    desk.change_tags(b.ticket_id, add=["billing"], stamp=agent(later(hours=1)))
    desk.change_status(b.ticket_id, to_status="closed", stamp=agent(later(hours=2)))
    desk.change_tags(a.ticket_id, remove=["vip"], stamp=agent(later(hours=3)))
    runner.catch_up()
    rows = tag_counts.tags_dashboard(conn, runner.tables)
    assert rows == [{"name": "billing", "tickets": 2, "open": 1, "pending": 0, "closed": 1}]
    desk.reopen(b.ticket_id, stamp=agent(later(hours=4)))
    runner.catch_up()
    rows = tag_counts.tags_dashboard(conn, runner.tables)
    assert rows == [{"name": "billing", "tickets": 2, "open": 2, "pending": 0, "closed": 0}]


def test_the_inbox_finds_tags_through_its_gin_index(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    filed = file(desk, account)
    desk.change_tags(filed.ticket_id, add=["billing"], stamp=agent())
    runner.catch_up()
    table = runner.tables("inbox_tickets")
    conn.execute("SET enable_seqscan = off")
    for condition in ("tags @> %s::text[]", "tags && %s::text[]"):
        plan = conn.execute(
            f"EXPLAIN SELECT ticket_id FROM {table} WHERE {condition}", (["billing"],)
        ).fetchall()
        assert any("inbox_tickets_tags" in row[0] for row in plan), plan
