"""Each view, given events, holds the expected rows (real PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from desk.service import SupportDesk
from projections import audit_feed, directory, ticket_detail
from projections.lists import customer_tickets, inbox
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner
from tests.builders import (
    agent,
    agent_note,
    agent_reply,
    desk_with_account,
    file,
    filed_an_hour_apart,
    later,
    new_staff,
    requester,
)


def test_detail_holds_fields_conversation_files_and_notes_apart(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    filed = file(desk, account)
    agent_reply(desk, filed.ticket_id, "Which version?", later(hours=1))
    agent_note(desk, filed.ticket_id, "Known bug 42", later(hours=2))
    desk.add_message(filed.ticket_id, author_id="admin-1", author_role="collaborator",
                     body="Version 3.2", stamp=requester(later(hours=3), who="admin-1"))  # fmt: skip
    last = desk.change_priority(filed.ticket_id, to_priority="high", stamp=agent(later(hours=4)))
    runner.catch_up()

    public = ticket_detail.detail(conn, runner.tables, filed.number, with_internal_notes=False)
    assert public is not None
    assert (public["version"], public["position"]) == (last.version, last.position)
    assert (public["priority"], public["status"], public["collaborators"]) == (
        "high", "open", ["admin-1"],
    )  # fmt: skip
    assert [(m["author_id"], m["author_role"], m["body"]) for m in public["conversation"]] == [
        ("req-1", "requester", "Files stop syncing."),
        ("agent-1", "agent", "Which version?"),
        ("admin-1", "collaborator", "Version 3.2"),
    ]
    assert "internal_notes" not in public
    staff = ticket_detail.detail(
        conn, runner.tables, str(filed.ticket_id), with_internal_notes=True
    )
    assert staff is not None
    assert [n["body"] for n in staff["internal_notes"]] == ["Known bug 42"]


def test_detail_moves_for_each_reader_only_with_the_events_they_see(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    """Staff: every event. The requester: the public ones and the callback they asked for.
    A colleague: the public ones. So a note or a clock moves nothing a customer reads."""
    account = desk_with_account(desk)
    filed = desk.request_callback(
        account_id=account, requester_id="req-1", subject="Call me", description="Down.",
        product="Files", phone="+14155552671", window_start=later(hours=1),
        window_end=later(hours=3), time_zone=None, stamp=requester(),
    )  # fmt: skip
    reply = agent_reply(desk, filed.ticket_id, "Calling soon", later(hours=0.5))
    called = desk.record_callback_made(filed.ticket_id, outcome="reached",
                                       stamp=agent(later(hours=1.5)))  # fmt: skip
    note = agent_note(desk, filed.ticket_id, "Done", later(hours=2))
    runner.catch_up()

    def seen(by: str) -> tuple[int, int, Any]:
        found = ticket_detail.detail(
            conn, runner.tables, filed.number, with_internal_notes=by == "staff", seen_by=by
        )
        assert found is not None
        return found["version"], found["position"], found["updated_at"]

    assert seen("staff") == (note.version, note.position, later(hours=2))
    assert seen("requester") == (called.version, called.position, later(hours=1.5))
    assert seen("customer") == (reply.version, reply.position, later(hours=0.5))


def test_inbox_puts_unanswered_tickets_first_and_customers_never_see_notes(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    answered, waiting_long, waiting_urgent = filed_an_hour_apart(desk, account, 3)
    agent_reply(desk, answered.ticket_id, "Fixed", later(hours=3))
    desk.change_priority(
        waiting_urgent.ticket_id, to_priority="urgent", stamp=agent(later(hours=3.5))
    )
    agent_note(desk, answered.ticket_id, "zebra crossing", later(hours=4))
    runner.catch_up()

    rows = inbox.tickets(conn, runner.tables, ListFilter()).rows
    assert [r["ticket_id"] for r in rows] == [
        waiting_urgent.ticket_id, waiting_long.ticket_id, answered.ticket_id,
    ]  # fmt: skip
    assert [r["needs_answer"] for r in rows] == [True, True, False]
    staff_hits = inbox.tickets(conn, runner.tables, ListFilter(q="zebra")).rows
    assert [r["ticket_id"] for r in staff_hits] == [answered.ticket_id]
    mine = ListFilter(requester_id="req-1", q="zebra")
    assert customer_tickets.tickets(conn, runner.tables, mine).rows == []
    theirs = customer_tickets.tickets(conn, runner.tables, ListFilter(account_ids=(str(account),)))
    # by latest public activity: the change of priority, the reply, the filing; not the note
    assert [r["ticket_id"] for r in theirs.rows] == [
        waiting_urgent.ticket_id, answered.ticket_id, waiting_long.ticket_id,
    ]  # fmt: skip


def test_a_search_for_a_ticket_number_finds_that_ticket_as_a_person_types_it(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    wanted, other = filed_an_hour_apart(desk, account, 2)
    agent_reply(desk, other.ticket_id, f"Same cause as {wanted.number}", later(hours=2))
    runner.catch_up()
    n = int(wanted.number.removeprefix("T-"))
    for typed in (wanted.number, wanted.number.lower(), f"#{n}", str(n), f" T-{n} "):
        hits = inbox.tickets(conn, runner.tables, ListFilter(q=typed)).rows
        found = {r["ticket_id"] for r in hits}
        assert wanted.ticket_id in found, typed
    by_number = inbox.tickets(conn, runner.tables, ListFilter(q=wanted.number)).rows
    # and the ticket whose words name it, as any word search finds
    assert {r["ticket_id"] for r in by_number} == {wanted.ticket_id, other.ticket_id}
    theirs = ListFilter(account_ids=(str(uuid.uuid4()),), q=wanted.number)  # another account
    assert customer_tickets.tickets(conn, runner.tables, theirs).rows == []


def test_inbox_filters_by_assignee_unassigned_status_and_created_range(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    first = file(desk, account, at=later(days=0))
    second = file(desk, account, at=later(days=2))
    alex = new_staff(desk, "Alex", "alex@desk.test")
    desk.assign(first.ticket_id, agent_id=alex, group=None, stamp=agent(later(days=3)))
    desk.change_status(second.ticket_id, to_status="pending", stamp=agent(later(days=3)))
    runner.catch_up()

    def ids(where: ListFilter) -> list[Any]:
        return [r["ticket_id"] for r in inbox.tickets(conn, runner.tables, where).rows]

    assert ids(ListFilter(assignees=(alex,))) == [first.ticket_id]
    assert ids(ListFilter(assignees=("none",))) == [second.ticket_id]
    assert ids(ListFilter(statuses=("pending",))) == [second.ticket_id]
    assert ids(ListFilter(created_from=later(days=1), created_to=later(days=3))) == [
        second.ticket_id
    ]


def test_directory_and_feed_record_every_event_with_its_actor(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    account = desk_with_account(desk)
    filed = file(desk, account)
    note = agent_note(desk, filed.ticket_id, "private", later(hours=1))
    runner.catch_up()

    assert directory.names(conn, runner.tables, ["req-1", "admin-1", "nobody"]) == {
        "req-1": "R", "admin-1": "A",
    }  # fmt: skip
    assert directory.account_name(conn, runner.tables, str(account)) == "Acme"
    head = note.position
    everything = audit_feed.events_after(
        conn, runner.tables, after=0, limit=100, view_position=head, with_staff_only=True
    )
    assert [e["position"] for e in everything.events] == list(range(1, head + 1))
    assert everything.next_after == head
    last = everything.events[-1]
    assert (last["kind"], last["actor_id"], last["ticket_number"]) == (
        "Ticket.InternalNoteAdded", "agent-1", filed.number,
    )  # fmt: skip
    public = audit_feed.events_after(
        conn, runner.tables, after=0, limit=100, view_position=head, with_staff_only=False
    )
    assert "Ticket.InternalNoteAdded" not in {e["kind"] for e in public.events}
    assert public.next_after == head
