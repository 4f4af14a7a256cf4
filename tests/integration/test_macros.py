"""Macros on the desk and in the views (real PostgreSQL): one save, caused by the macro,
in the requester's language, never with a hole, and never an internal note to a customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from desk.answers import Receipt
from desk.service import SupportDesk
from domain import errors
from domain.macro import MacroActions
from domain.stamp import Stamp
from domain.ticket import Ticket
from projections import audit_feed, macros, outbox, ticket_detail
from projections.runner import ProjectionRunner
from store.eventstore import GroupCommitRecorder
from tests.builders import T0, desk_with_account, file, later, new_member, system


def staff(desk: SupportDesk, name: str, role: str = "agent") -> Stamp:
    """A registered staff member's stamp (agents in tier-1)."""
    groups = ["tier-1"] if role == "agent" else []
    made = desk.register_staff(
        name=name, email=f"{name.lower()}@docket.test", role=role, groups=groups, stamp=system()
    )
    return Stamp(str(made.staff_id), role, "web", later(hours=1), causation_id="key-1")


@pytest.fixture
def filed(desk: SupportDesk) -> Receipt:
    """A ticket req-1 filed from the desk's one account (builders.desk_with_account)."""
    return file(desk, desk_with_account(desk))


def stored(desk: SupportDesk, ticket_id: UUID) -> list[Any]:
    return [desk.mapper.to_domain_event(s) for s in desk.recorder.select_events(ticket_id)]


ASK = MacroActions(
    reply={
        "en": "Hello {{requester.name}}, {{agent.name}} here about {{ticket.number}}.",
        "fr": "Bonjour {{requester.name}}, {{agent.name}} pour {{ticket.number}}.",
    },
    status="pending",
    priority="high",
    assignee="me",
    tags_add=("needs-logs",),
)


def test_applying_a_macro_is_one_save_of_every_action_each_caused_by_the_macro(
    desk: SupportDesk, filed: Receipt
) -> None:
    bo = staff(desk, "Bo")
    made = desk.create_macro(title="Ask for logs", shared=False, actions=ASK, stamp=bo)
    recorder = desk.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    write, batches = recorder._write, []

    def counted(events: Sequence[StoredEvent]) -> list[int]:
        batches.append([e.topic.rpartition(".")[2] for e in events])
        return write(events)

    recorder._write = counted  # type: ignore[method-assign]
    try:
        applied = desk.apply_macro(filed.ticket_id, macro_id=made.macro_id, stamp=bo)
    finally:
        recorder._write = write  # type: ignore[method-assign]
    assert batches == [
        ["Assigned", "PriorityRaised", "TagsAdded", "MessageAdded", "StatusChanged"]
    ]  # one append: all of the macro's events, or none

    events = stored(desk, filed.ticket_id)[1:]
    assert [type(e).__name__ for e in events] == [
        "Assigned", "PriorityRaised", "TagsAdded", "MessageAdded", "StatusChanged",
    ]  # fmt: skip
    assert {e.stamp.causation_id for e in events} == {f"macro:{made.macro_id}:v1"}
    assert applied.version == 6
    reply = events[3]
    assert isinstance(reply, Ticket.MessageAdded)
    assert reply.body == f"Hello R, Bo here about {filed.number}."
    assert (reply.author_id, reply.author_role) == (bo.actor_id, "agent")


def test_the_requesters_language_picks_the_text(desk: SupportDesk) -> None:
    account = desk_with_account(desk)
    new_member(desk, account, "fr-1", "f@acme.test", "Zoé", language="fr")
    filed = desk.file_ticket(account_id=account, requester_id="fr-1", subject="Panne",
                             description="Rien ne va.", type="bug", priority="normal",
                             product="Files", stamp=Stamp("fr-1", "requester", "web", T0))  # fmt: skip
    bo = staff(desk, "Bo")
    made = desk.create_macro(title="Ask", shared=False, actions=ASK, stamp=bo)
    preview = desk.preview_macro(filed.ticket_id, macro_id=made.macro_id, stamp=bo)
    assert preview.text is not None and preview.text.language == "fr"
    assert preview.text.body == f"Bonjour Zoé, Bo pour {filed.number}."
    english_only = desk.create_macro(
        title="En", shared=False, actions=MacroActions(note={"en": "See {{ticket.subject}}"}),
        stamp=bo,
    )  # fmt: skip
    preview = desk.preview_macro(filed.ticket_id, macro_id=english_only.macro_id, stamp=bo)
    assert preview.text is not None
    assert (preview.text.language, preview.text.body) == ("en", "See Panne")


def test_a_preview_lists_the_changes_and_writes_nothing(desk: SupportDesk, filed: Receipt) -> None:
    bo = staff(desk, "Bo")
    made = desk.create_macro(title="Ask", shared=False, actions=ASK, stamp=bo)
    preview = desk.preview_macro(filed.ticket_id, macro_id=made.macro_id, stamp=bo)
    assert {c["field"]: (c["from"], c["to"]) for c in preview.changes} == {
        "status": ("open", "pending"),
        "priority": ("normal", "high"),
        "assignee_id": (None, bo.actor_id),
        "tags": ([], ["needs-logs"]),
    }
    assert preview.version == 1
    assert len(desk.recorder.select_events(filed.ticket_id)) == 1


def test_a_placeholder_that_cannot_be_filled_refuses_the_whole_macro_and_writes_nothing(
    desk: SupportDesk, filed: Receipt
) -> None:
    bo = staff(desk, "Bo")
    needs_agent = MacroActions(
        reply={"en": "{{agent.name}} will call you."}, tags_add=("called",), priority="high"
    )
    made = desk.create_macro(title="Call", shared=False, actions=needs_agent, stamp=bo)
    for attempt in (desk.preview_macro, desk.apply_macro):
        with pytest.raises(errors.MacroPlaceholderUnfilled) as refused:
            attempt(filed.ticket_id, macro_id=made.macro_id, stamp=bo)
        assert refused.value.field == "agent.name"
    assert len(desk.recorder.select_events(filed.ticket_id)) == 1  # not even the tags


def test_a_refusal_midway_records_none_of_the_macros_actions(
    desk: SupportDesk, filed: Receipt
) -> None:
    """The tags and the priority come before the reply; the reply is refused (the ticket
    is closed): nothing at all is saved."""
    bo = staff(desk, "Bo")
    desk.change_status(filed.ticket_id, to_status="closed", stamp=bo)
    before = len(desk.recorder.select_events(filed.ticket_id))
    made = desk.create_macro(
        title="Late", shared=False,
        actions=MacroActions(reply={"en": "Hi"}, priority="urgent", tags_add=("late",)), stamp=bo,
    )  # fmt: skip
    with pytest.raises(errors.TicketClosed):
        desk.apply_macro(filed.ticket_id, macro_id=made.macro_id, stamp=bo)
    assert len(desk.recorder.select_events(filed.ticket_id)) == before


def test_personal_macros_are_their_owners_and_shared_ones_are_kept_by_admins(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], filed: Receipt
) -> None:
    bo, cy, admin = staff(desk, "Bo"), staff(desk, "Cy"), staff(desk, "Ad", role="admin")
    mine = desk.create_macro(title="Mine", shared=False, actions=ASK, stamp=bo)
    with pytest.raises(errors.SharedMacroAdminOnly):
        desk.create_macro(title="Ours", shared=True, actions=ASK, stamp=bo)
    ours = desk.create_macro(
        title="Ours", shared=True, actions=MacroActions(tags_add=("x",)), stamp=admin
    )
    with pytest.raises(errors.UnknownMacro):
        desk.apply_macro(filed.ticket_id, macro_id=mine.macro_id, stamp=cy)
    with pytest.raises(errors.UnknownMacro):
        desk.change_macro(mine.macro_id, title="Stolen", stamp=cy)
    with pytest.raises(errors.SharedMacroAdminOnly):
        desk.change_macro(ours.macro_id, title="Renamed", stamp=cy)
    with pytest.raises(errors.VersionMismatch):
        desk.change_macro(ours.macro_id, title="Renamed", stamp=admin, expected_version=5)
    desk.change_macro(ours.macro_id, changes={"status": "pending"}, stamp=admin)
    desk.apply_macro(filed.ticket_id, macro_id=ours.macro_id, stamp=cy)
    runner.catch_up()
    listed = {r["title"] for r in macros.macros_for(conn, runner.tables, bo.actor_id)}
    assert listed == {"Mine", "Ours"}
    assert {r["title"] for r in macros.macros_for(conn, runner.tables, cy.actor_id)} == {"Ours"}
    desk.archive_macro(mine.macro_id, stamp=bo)
    runner.catch_up()
    assert {r["title"] for r in macros.macros_for(conn, runner.tables, bo.actor_id)} == {"Ours"}
    with pytest.raises(errors.UnknownMacro):
        desk.apply_macro(filed.ticket_id, macro_id=mine.macro_id, stamp=bo)


def test_docket_itself_applies_a_shared_macro_with_a_system_stamp(
    desk: SupportDesk, filed: Receipt
) -> None:
    """What the automations' watch does: a system stamp, a shared macro with a note, a
    status and tags; personal macros are no one's but their owner's."""
    admin = staff(desk, "Ad", role="admin")
    reminder = MacroActions(
        note={"en": "Reminded {{requester.name}} about {{ticket.number}}."},
        status="pending",
        tags_add=("reminded",),
    )
    shared = desk.create_macro(title="Remind", shared=True, actions=reminder, stamp=admin)
    robot = Stamp("rule:r1", "system", "system", later(days=4), causation_id="rule:r1:v1")
    applied = desk.apply_macro(filed.ticket_id, macro_id=shared.macro_id, stamp=robot)
    assert applied.version == 4
    events = stored(desk, filed.ticket_id)[1:]
    assert [type(e).__name__ for e in events] == ["TagsAdded", "InternalNoteAdded",
                                                  "StatusChanged"]  # fmt: skip
    assert all(e.stamp.actor_kind == "system" for e in events)
    desk.change_tags(filed.ticket_id, remove=["reminded"], stamp=robot)
    personal = desk.create_macro(title="P", shared=False, actions=reminder, stamp=admin)
    with pytest.raises(errors.UnknownMacro):
        desk.apply_macro(filed.ticket_id, macro_id=personal.macro_id, stamp=robot)


def test_no_macro_carries_an_internal_note_to_a_customer(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], filed: Receipt
) -> None:
    """A macro with a note and field changes, then one with a reply: the customer's detail,
    the analysts' feed and the requester's emails hold the reply, never the note."""
    bo = staff(desk, "Bo")
    secret = "SECRET-NOTE refund approved by finance"
    noting = desk.create_macro(
        title="Note", shared=False, stamp=bo,
        actions=MacroActions(note={"en": secret, "fr": secret}, tags_add=("vip",),
                             assignee="me"),
    )  # fmt: skip
    replying = desk.create_macro(
        title="Reply", shared=False, stamp=bo,
        actions=MacroActions(reply={"en": "Public answer for {{requester.name}}"}),
    )  # fmt: skip
    desk.apply_macro(filed.ticket_id, macro_id=noting.macro_id, stamp=bo)
    desk.apply_macro(filed.ticket_id, macro_id=replying.macro_id, stamp=bo)
    runner.catch_up()
    t = runner.tables
    for seen_by in ("customer", "requester"):
        seen = ticket_detail.detail(conn, t, filed.number, with_internal_notes=False,
                                    seen_by=seen_by)  # fmt: skip
        assert seen is not None
        assert secret not in repr(seen) and "vip" not in repr(seen)
        assert "Public answer for R" in repr(seen)
    feed = audit_feed.events_after(conn, t, after=0, limit=1000, view_position=10**9,
                                   with_staff_only=False)  # fmt: skip
    assert secret not in repr(feed) and "Public answer for R" in repr(feed)
    mails = conn.execute(
        f"SELECT body FROM {t(outbox.MAIL)} WHERE ticket_id = %s", (filed.ticket_id,)
    ).fetchall()
    bodies = "\n".join(m[0] for m in mails)
    assert "Public answer for R" in bodies
    assert secret not in bodies
    staff_view = ticket_detail.detail(conn, t, filed.number, with_internal_notes=True)
    assert staff_view is not None and secret in repr(staff_view["internal_notes"])
