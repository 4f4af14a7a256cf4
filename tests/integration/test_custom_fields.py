"""Custom field values in the views (real PostgreSQL): detail, lists, feed, dashboard; a
change of definition rewrites none of them, and a rebuild folds the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from desk.answers import Receipt
from desk.service import SupportDesk
from importers.tickets_csv import import_tickets_csv
from projections import audit_feed, dashboard, ticket_detail
from projections.catalog import VIEWS
from projections.dashboard import DashboardFilter
from projections.lists import customer_tickets, inbox
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner
from replay.rebuild import rebuild
from replay.verify import verify_log
from store.eventstore import docket_mapper
from tests.builders import (
    SYNC_FAILS,
    admin,
    agent,
    agent_reply,
    csv_rows,
    desk_with_account,
    field_data,
    later,
    requester,
    written_csv,
)

TICKETS_CSV = Path(__file__).parent.parent / "fixtures" / "customer_support_tickets_head.csv.gz"


def file_with(desk: SupportDesk, account: UUID, values: dict[str, Any], hours: float) -> Receipt:
    return desk.file_ticket(
        account_id=account, requester_id="req-1", **SYNC_FAILS, stamp=requester(later(hours=hours)),
        custom_fields=values,
    )  # fmt: skip


@pytest.fixture
def filed(desk: SupportDesk, runner: ProjectionRunner) -> list[Receipt]:
    """Three tickets: os linux with 5 seats, os macos, and one with no value; every view
    caught up."""
    account = desk_with_account(desk)
    desk.define_ticket_field(data=field_data(), stamp=admin())
    desk.define_ticket_field(data=field_data("seats", "number"), stamp=admin())
    tickets = [
        file_with(desk, account, {"os": "linux", "seats": 5}, 1),
        file_with(desk, account, {"os": "macos"}, 2),
        file_with(desk, account, {}, 3),
    ]
    agent_reply(desk, tickets[0].ticket_id, "Looking", later(hours=5))
    runner.catch_up()
    return tickets


def detail_of(conn: psycopg.Connection[Any], runner: ProjectionRunner, r: Receipt) -> Any:
    found = ticket_detail.detail(conn, runner.tables, r.number, with_internal_notes=True)
    assert found is not None
    return found


def test_the_detail_keeps_the_values_and_staff_changes_to_them(
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    filed: list[Receipt],
) -> None:
    assert detail_of(conn, runner, filed[0])["custom_fields"] == {"os": "linux", "seats": 5}
    assert detail_of(conn, runner, filed[2])["custom_fields"] == {}
    changed = desk.set_custom_fields(filed[0].number, changes={"seats": None, "os": "macos"},
                                     stamp=agent(later(hours=6)))  # fmt: skip
    runner.catch_up()
    found = detail_of(conn, runner, filed[0])
    assert found["custom_fields"] == {"os": "macos"}
    assert found["version"] == changed.version


def test_customers_see_the_values_move_their_version(
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    filed: list[Receipt],
) -> None:
    """The values are the customer's own answers on the form: public, like the product."""
    changed = desk.set_custom_fields(filed[1].number, changes={"seats": 9},
                                     stamp=agent(later(hours=6)))  # fmt: skip
    runner.catch_up()
    seen = ticket_detail.detail(
        conn, runner.tables, filed[1].number, with_internal_notes=False, seen_by="customer"
    )
    assert seen is not None
    assert (seen["custom_fields"], seen["version"]) == (
        {"os": "macos", "seats": 9},
        changed.version,
    )
    assert desk._ticket(filed[1].ticket_id).customer_version == changed.version


@pytest.mark.parametrize("list_view", [inbox, customer_tickets], ids=lambda v: v.NAME)
def test_lists_filter_by_field_values_any_of_one_key_all_of_several(
    runner: ProjectionRunner, conn: psycopg.Connection[Any], filed: list[Receipt], list_view: Any
) -> None:
    def numbers(*wanted: tuple[str, tuple[Any, ...]]) -> set[str]:
        where = ListFilter(custom_fields=wanted)
        return {r["number"] for r in list_view.tickets(conn, runner.tables, where).rows}

    assert numbers(("os", ("linux",))) == {filed[0].number}
    assert numbers(("os", ("linux", "macos"))) == {filed[0].number, filed[1].number}
    assert numbers(("os", ("linux", "macos")), ("seats", (5,))) == {filed[0].number}
    assert numbers(("seats", (5.0,))) == {filed[0].number}  # a number is a number
    assert numbers(("os", ("windows",))) == set()
    [row] = list_view.tickets(
        conn, runner.tables, ListFilter(q=None, custom_fields=(("seats", (5,)),))
    ).rows
    assert row["custom_fields"] == {"os": "linux", "seats": 5}


def test_the_list_filter_can_be_answered_from_the_gin_index(
    runner: ProjectionRunner, conn: psycopg.Connection[Any], filed: list[Receipt]
) -> None:
    """Not a full scan: with sequential scans priced out, the plan reads the GIN index."""
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f"EXPLAIN SELECT ticket_id FROM {runner.tables('inbox_tickets')} r "
                'WHERE r.custom_fields @> \'{"os": "linux"}\''
            )
        )
    assert "Index Cond: (custom_fields @> " in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_feed_carries_the_values_on_their_event(
    runner: ProjectionRunner, conn: psycopg.Connection[Any], filed: list[Receipt]
) -> None:
    rows = conn.execute(
        f"SELECT kind, fields FROM {runner.tables(audit_feed.FEED)} WHERE kind LIKE %s",
        ("%CustomFieldsSet",),
    ).fetchall()
    assert sorted(str(fields["values"]) for _, fields in rows) == sorted(
        [str({"os": "linux", "seats": 5}), str({"os": "macos"})]
    )


def test_the_times_dashboard_groups_by_a_dropdown_field(
    runner: ProjectionRunner, conn: psycopg.Connection[Any], filed: list[Receipt]
) -> None:
    rows = dashboard.times(conn, runner.tables, DashboardFilter(), group_by="field.os")
    assert {r["name"]: (r["tickets"], r["first_response_count"]) for r in rows} == {
        "linux": (1, 1),
        "macos": (1, 0),
        None: (1, 0),
    }


def test_changing_a_definition_leaves_stored_values_and_views_as_they_were(
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    filed: list[Receipt],
    database_url: str,
    schema: str,
) -> None:
    def stored() -> list[Any]:
        return [
            ([e.__dict__ for e in desk.events.get(r.ticket_id)], detail_of(conn, runner, r))
            for r in filed
        ]

    before = stored()
    desk.revise_ticket_field(
        "os",
        changes={
            "labels": {"en": "Operating system", "fr": "Système"},
            "options": [{"key": "macos", "labels": {"en": "macOS", "fr": "macOS"}}],
            "required": True,
        },
        stamp=admin(later(days=1)),
    )
    desk.revise_ticket_field("seats", changes={"archived": True}, stamp=admin(later(days=1)))
    runner.catch_up()
    assert stored() == before
    linux = ListFilter(custom_fields=(("os", ("linux",)),))
    assert [r["number"] for r in inbox.tickets(conn, runner.tables, linux).rows] == [
        filed[0].number
    ]
    checked = rebuild(database_url, schema, list(VIEWS.values()), check=True)
    assert checked.differences == {name: [] for name in VIEWS}


def test_an_email_or_an_import_files_with_no_values_whatever_is_required(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """Required applies to the web and API form; the email intake and the importers file
    as before (the intake's own test is in test_inbound_mail.py)."""
    desk.define_ticket_field(data=field_data(required=True), stamp=admin())
    rows = csv_rows(TICKETS_CSV)[:3]
    report = import_tickets_csv(desk, written_csv(tmp_path / "tickets.csv", rows))
    assert report.tickets == 3
    runner.catch_up()
    values = conn.execute(
        f"SELECT DISTINCT custom_fields FROM {runner.tables(ticket_detail.DETAILS)}"
    ).fetchall()
    assert values == [({},)]


def test_tickets_with_values_and_the_field_book_verify(
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    filed: list[Receipt],
    schema: str,
) -> None:
    """The new events are in the canonical form Docket writes: their chains verify."""
    desk.set_custom_fields(filed[2].number, changes={"seats": 2.5}, stamp=agent(later(hours=7)))
    desk.revise_ticket_field("os", changes={"required": True}, stamp=admin(later(days=1)))
    runner.catch_up()
    report = verify_log(conn, schema, docket_mapper().transcoder)
    assert report.ok, report
