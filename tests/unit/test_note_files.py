"""Files on internal notes: staff put them on the ticket for its notes, in the note's own
save; a public reply never carries one; notes stored before they had files still read."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from eventsourcing.persistence import StoredEvent

from desk.answers import AttachmentRef
from desk.service import SupportDesk
from domain import errors
from domain.stamp import Stamp
from domain.ticket import STAFF_ONLY_EVENTS, Ticket
from projections.kit import Fact
from projections.ticket_detail import detail_as_folded
from tests.builders import agent, agent_note, desk_with_account, file, new_ticket, requester

LOG = "c" * 64
SHOT = "d" * 64
SYNC_LOG = AttachmentRef(LOG, "sync.log", "text/plain", 9)


def kinds(ticket: Ticket) -> list[str]:
    return [type(e).__name__ for e in ticket.collect_events()]


def note_file(ticket: Ticket, ref: AttachmentRef = SYNC_LOG, stamp: Stamp | None = None) -> None:
    """Put the file ``ref`` on the ticket for its notes, as an agent unless told otherwise."""
    ticket.add_note_attachment(**asdict(ref), stamp=stamp or agent())


def test_a_note_carries_the_files_put_on_the_ticket_for_its_notes() -> None:
    ticket = new_ticket()
    note_file(ticket)
    ticket.add_internal_note(author_id="agent-1", body="the log", attachments=[LOG], stamp=agent())
    assert kinds(ticket)[-2:] == ["NoteAttachmentAdded", "InternalNoteAdded"]
    assert ticket.note_attachments == [LOG]
    assert ticket.attachments == []  # nothing customers see


def test_a_note_file_is_staff_only() -> None:
    assert Ticket.NoteAttachmentAdded in STAFF_ONLY_EVENTS
    ticket = new_ticket()
    with pytest.raises(errors.StaffOnly):
        note_file(ticket, AttachmentRef(LOG, "a.log", "text/plain", 1), stamp=requester())


def test_a_note_naming_a_file_that_is_not_a_note_file_of_the_ticket_is_refused() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.InvalidField) as unknown:
        ticket.add_internal_note(author_id="agent-1", body="b", attachments=[LOG], stamp=agent())
    assert unknown.value.field == "attachments"
    ticket.add_attachment(
        attachment_id=SHOT, filename="s.png", content_type="image/png", size=5, stamp=requester()
    )
    with pytest.raises(errors.InvalidField) as public:  # a customer's file is no note's
        ticket.add_internal_note(author_id="agent-1", body="b", attachments=[SHOT], stamp=agent())
    assert public.value.field == "attachments"
    with pytest.raises(errors.InvalidField):  # nor is it put on the notes
        note_file(ticket, AttachmentRef(SHOT, "s.png", "text/plain", 9))


def test_a_public_reply_may_not_cite_a_note_file() -> None:
    ticket = new_ticket()
    note_file(ticket)
    with pytest.raises(errors.InvalidField) as refused:
        ticket.add_message(
            author_id="agent-1", author_role="agent", body="here", attachments=[LOG],
            stamp=agent(),
        )  # fmt: skip
    assert refused.value.field == "attachments"
    assert "internal note" in refused.value.detail
    with pytest.raises(errors.InvalidField):  # nor put it on the ticket for customers
        ticket.add_attachment(
            attachment_id=LOG, filename="sync.log", content_type="text/plain", size=9,
            stamp=agent(),
        )  # fmt: skip
    assert ticket.attachments == []


def test_a_note_file_obeys_the_rules_of_every_file() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.UnsupportedAttachmentType):
        note_file(ticket, AttachmentRef(LOG, "x.exe", "application/x-msdownload", 3))
    with pytest.raises(errors.EmptyAttachment):
        note_file(ticket, AttachmentRef(LOG, "x.log", "text/plain", 0))


def test_files_go_on_a_note_of_a_closed_ticket_too() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    desk.change_status(filed.number, to_status="closed", stamp=agent())
    files = [SYNC_LOG]
    agent_note(desk, filed.number, "after", attachments=files)
    ticket: Ticket = desk.repository.get(filed.ticket_id)
    assert ticket.status == "closed" and ticket.note_attachments == [LOG]


def test_a_note_and_its_files_are_one_save_and_only_staff_read_them() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    files = [SYNC_LOG, AttachmentRef(SHOT, "screen.png", "image/png", 72)]
    note = agent_note(desk, filed.number, "both", attachments=files)
    stored = desk.recorder.select_events(filed.ticket_id)
    topics = [s.topic.rpartition(".")[2] for s in stored][-3:]
    assert topics == ["NoteAttachmentAdded", "NoteAttachmentAdded", "InternalNoteAdded"]
    assert note.version == stored[-1].originator_version
    facts = [Fact(i + 1, desk.mapper.to_domain_event(s)) for i, s in enumerate(stored)]
    staff = detail_as_folded(facts, with_internal_notes=True)
    assert staff is not None
    [shown] = staff["internal_notes"]
    assert [(f["attachment_id"], f["filename"], f["content_type"], f["size"])
            for f in shown["attachments"]] == [
        (LOG, "sync.log", "text/plain", 9), (SHOT, "screen.png", "image/png", 72),
    ]  # fmt: skip
    assert staff["attachments"] == []  # the ticket's own files: none
    customer = detail_as_folded(facts, with_internal_notes=False)
    assert customer is not None and "internal_notes" not in customer
    assert customer["attachments"] == []


def test_a_stored_version_1_note_is_upcast_with_no_files() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    agent_note(desk, filed.number, "old")
    stored = desk.recorder.select_events(filed.ticket_id)[-1]
    state = desk.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    assert state.pop("attachments") == []
    v1 = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=desk.mapper.transcoder.encode(state),
    )
    event = desk.mapper.to_domain_event(v1)
    assert isinstance(event, Ticket.InternalNoteAdded)
    assert (event.body, event.attachments) == ("old", [])
