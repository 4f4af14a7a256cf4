"""A ticket and its files are one save: when the append that carries the files fails,
nothing of the ticket is on record (no ticket without its files, no number claimed); an
internal note and its files likewise (no file on the notes without its note).

The failure is made inside the append transaction that holds an ``AttachmentAdded`` (or
``NoteAttachmentAdded``) event, on real PostgreSQL, through the recorder's
``inside_transaction`` hook."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from desk.answers import AttachmentRef
from desk.service import SupportDesk
from mail.intake import MailIntake
from projections.runner import ProjectionRunner
from store.eventstore import GroupCommitRecorder
from tests.builders import agent, desk_with_account, file
from tests.mailserver import IDENTITY

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


FILE_EVENTS = ("Ticket.AttachmentAdded", "Ticket.NoteAttachmentAdded")


@pytest.fixture
def intake_options() -> dict[str, Any]:
    """Room for a screenshot and a log in one email."""
    return {"max_attachment_bytes": 4096}


class Crash(Exception):
    """The process 'dies' inside the append transaction."""


def events_on_record(conn: psycopg.Connection[Any], schema: str, after: int = 0) -> list[str]:
    """The kinds of the events in the log after position ``after``, in log order."""
    rows = conn.execute(
        f'SELECT topic FROM "{schema}".docket_events WHERE notification_id > %s '
        "ORDER BY notification_id",
        (after,),
    ).fetchall()
    return [str(r[0]).rpartition(":")[2] for r in rows]


def log_head(conn: psycopg.Connection[Any], schema: str) -> int:
    row = conn.execute(f'SELECT max(notification_id) FROM "{schema}".docket_events').fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def test_filing_with_files_that_fails_midway_leaves_no_ticket_and_no_number(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(desk)
    before = events_on_record(conn, schema)
    files = [AttachmentRef("a" * 64, "screen.png", "image/png", 72)]
    with pytest.raises(Crash):
        with_crash(desk, lambda: file(desk, account, attachments=files))
    assert events_on_record(conn, schema) == before


def test_filing_with_files_is_one_append_of_the_ticket_its_files_and_its_number(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(desk)
    before = log_head(conn, schema)
    files = [
        AttachmentRef("a" * 64, "screen.png", "image/png", 72),
        AttachmentRef("b" * 64, "log.txt", "text/plain", 10),
    ]
    receipt = file(desk, account, attachments=files)
    assert events_on_record(conn, schema, after=before) == [
        "Ticket.Opened",
        "Ticket.AttachmentAdded",
        "Ticket.AttachmentAdded",
        "TicketNumber.Claimed",
    ]
    assert desk.ticket_facts(receipt.number).version == 3


def test_a_note_with_files_that_fails_midway_leaves_no_note_and_no_file(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    filed = file(desk, desk_with_account(desk))
    before = events_on_record(conn, schema)
    files = [AttachmentRef("a" * 64, "screen.png", "image/png", 72)]
    with pytest.raises(Crash):
        with_crash(
            desk,
            lambda: desk.add_internal_note(
                filed.ticket_id, author_id="agent-1", body="see", attachments=files,
                stamp=agent(),
            ),
        )  # fmt: skip
    assert events_on_record(conn, schema) == before
    assert desk.ticket_facts(filed.ticket_id).version == filed.version


def test_a_note_with_files_is_one_append_of_its_files_and_the_note(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    filed = file(desk, desk_with_account(desk))
    before = log_head(conn, schema)
    files = [
        AttachmentRef("a" * 64, "screen.png", "image/png", 72),
        AttachmentRef("b" * 64, "log.txt", "text/plain", 10),
    ]
    appends = count_appends(
        desk,
        lambda: desk.add_internal_note(
            filed.ticket_id, author_id="agent-1", body="see", attachments=files, stamp=agent()
        ),
    )
    assert appends == 1
    assert events_on_record(conn, schema, after=before) == [
        "Ticket.NoteAttachmentAdded",
        "Ticket.NoteAttachmentAdded",
        "Ticket.InternalNoteAdded",
    ]


@pytest.fixture
def known_sender(desk: SupportDesk, runner: ProjectionRunner) -> None:
    """Acme's requester r@acme.test, whom the directory knows: their emails file tickets."""
    desk_with_account(desk)
    runner.catch_up()


@pytest.mark.usefixtures("known_sender")
def test_an_email_with_files_that_fails_midway_files_nothing(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str, intake: MailIntake
) -> None:
    message = screenshot_mail("help@desk.test", "Screenshot of the failure")
    before = events_on_record(conn, schema)
    with pytest.raises(Crash):
        with_crash(desk, lambda: intake.take(message))
    assert events_on_record(conn, schema) == before


def screenshot_mail(to: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "r@acme.test"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid4()}@acme.test>"
    message.set_content("See the screenshot.")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="screen.png")
    message.add_attachment(b"sync log\n", maintype="text", subtype="plain", filename="sync.log")
    return message.as_bytes()


@pytest.mark.usefixtures("known_sender")
def test_an_email_with_files_is_one_append_of_the_ticket_its_files_and_its_number(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str, intake: MailIntake
) -> None:
    before = log_head(conn, schema)
    appends = count_appends(desk, lambda: intake.take(screenshot_mail("help@desk.test", "Hi")))
    assert appends == 1
    assert events_on_record(conn, schema, after=before) == [
        "Ticket.Opened",
        "Ticket.AttachmentAdded",
        "Ticket.AttachmentAdded",
        "TicketNumber.Claimed",
    ]


def test_an_email_reply_with_files_to_a_closed_ticket_that_fails_midway_leaves_it_closed(
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    schema: str,
    intake: MailIntake,
) -> None:
    """Reopening, the files and the message are one save: none is on record without the
    others (a reopened ticket without the reply that reopened it, say)."""
    account = desk_with_account(desk)
    now = datetime.now(UTC)
    filed = file(desk, account, at=now)
    desk.change_status(filed.ticket_id, to_status="closed", stamp=agent(now))
    runner.catch_up()
    reply = screenshot_mail(IDENTITY.reply_address(filed.number, "req-1"), "Re: Sync fails")
    before = events_on_record(conn, schema)
    with pytest.raises(Crash):
        with_crash(desk, lambda: intake.take(reply))
    assert events_on_record(conn, schema) == before
    assert desk.ticket_facts(filed.ticket_id).status == "closed"
    head = log_head(conn, schema)
    assert count_appends(desk, lambda: intake.take(reply)) == 1
    assert events_on_record(conn, schema, after=head) == [
        "Ticket.Reopened",
        "Ticket.AttachmentAdded",
        "Ticket.AttachmentAdded",
        "Ticket.MessageAdded",
    ]


def count_appends(desk: SupportDesk, act: Callable[[], object]) -> int:
    """How many appends (transactions of the recorder) ``act`` made."""
    recorder = desk.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    write = recorder._write
    appends = 0

    def counted(events: Sequence[StoredEvent]) -> list[int]:
        nonlocal appends
        appends += 1
        return write(events)

    recorder._write = counted  # type: ignore[method-assign]
    try:
        act()
    finally:
        recorder._write = write  # type: ignore[method-assign]
    return appends


def with_crash(desk: SupportDesk, act: Callable[[], object]) -> object:
    recorder = desk.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    write = recorder._write

    def boom() -> None:
        raise Crash

    def failing_write(events: Sequence[StoredEvent]) -> list[int]:
        carries_files = any(e.topic.endswith(FILE_EVENTS) for e in events)
        recorder.inside_transaction = boom if carries_files else None
        try:
            return write(events)
        finally:
            recorder.inside_transaction = None

    recorder._write = failing_write  # type: ignore[method-assign]
    try:
        return act()
    finally:
        recorder._write = write  # type: ignore[method-assign]
