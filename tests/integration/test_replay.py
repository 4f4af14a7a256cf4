"""Replay and audit on PostgreSQL: history, state, backlog, tamper evidence, rebuilds, exports."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest

from desk.answers import AttachmentRef, Receipt
from desk.service import SupportDesk
from domain.chain import event_hash
from projections.catalog import VIEWS
from projections.kit import Tables
from projections.lists import inbox
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner
from replay.export import export_lines
from replay.history import backlog, history, state_at
from replay.rebuild import RebuildInterrupted, rebuild
from replay.shadow_fold import SHADOW, RebuildReport
from replay.spread import bulk_spread, deal
from replay.store import StoredAt, find_ticket_id, stream
from replay.verify import verify_export, verify_log
from store.eventstore import docket_mapper
from store.log import log_head
from tests.builders import T0, agent, agent_note, agent_reply, desk_with_account, file, later
from tests.integration.conftest import worked_tickets

MAPPER = docket_mapper()


def assert_views_equal_a_fold_from_scratch(database_url: str, schema: str) -> None:
    checked = rebuild(database_url, schema, list(VIEWS.values()), check=True)
    assert checked.differences == {name: [] for name in VIEWS}


def test_history_lists_every_event_with_actor_channel_position_and_why(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    [t] = worked_tickets(desk, 1)
    agent_note(desk, t.ticket_id, "between us", later(days=9))
    ticket_id = find_ticket_id(conn, schema, t.number)
    assert ticket_id == t.ticket_id
    events = history(stream(conn, schema, t.ticket_id), MAPPER)
    assert [e["kind"] for e in events] == ["Ticket.Opened"] + ["Ticket.MessageAdded"] * 3 + [
        "Ticket.InternalNoteAdded"
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert events[-1]["actor"] == {"id": "agent-1", "kind": "agent"}
    assert (events[-1]["correlation_id"], events[-1]["causation_id"]) == ("corr-2", "cause-2")
    assert events[-1]["fields"]["body"] == "between us"
    assert sorted(e["position"] for e in events) == [e["position"] for e in events]


def test_state_as_of_a_version_or_an_instant_is_the_ticket_as_it_stood(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    [t] = worked_tickets(desk, 1)
    desk.change_status(t.ticket_id, to_status="closed", stamp=agent(later(days=5)))
    decoded = [MAPPER.to_domain_event(e.stored) for e in stream(conn, schema, t.ticket_id)]
    at_two = state_at(decoded, version=2)
    assert at_two is not None and (at_two["version"], at_two["message_count"]) == (2, 2)
    before_close = state_at(decoded, as_of=later(days=4))
    assert before_close is not None and before_close["status"] == "open"
    assert state_at(decoded)["status"] == "closed"  # type: ignore[index]
    assert state_at(decoded, as_of=T0.replace(year=2000)) is None


def test_backlog_as_of_an_instant_counts_open_and_pending_by_status_priority_and_account(
    desk: SupportDesk, conn: psycopg.Connection[Any], runner: ProjectionRunner
) -> None:
    a, b, c = worked_tickets(desk, 3)
    desk.change_status(a.ticket_id, to_status="pending", stamp=agent(later(days=10)))
    desk.change_status(b.ticket_id, to_status="closed", stamp=agent(later(days=10)))
    desk.change_priority(c.ticket_id, to_priority="urgent", stamp=agent(later(days=10)))
    runner.catch_up()
    before = backlog(conn, runner.tables, later(days=9))
    assert (before["tickets"], before["by_status"], before["by_priority"]) == (
        3, {"open": 3}, {"normal": 3},
    )  # fmt: skip
    after = backlog(conn, runner.tables, later(days=11))
    assert (after["by_status"], after["by_priority"]) == (
        {"open": 1, "pending": 1}, {"normal": 1, "urgent": 1},
    )  # fmt: skip
    assert [x["name"] for x in after["by_account"]] == ["Acme"]


TAMPERS: dict[str, Callable[[psycopg.Connection[Any], str, UUID], None]] = {}


def tamper(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(f: Callable[..., None]) -> Callable[..., None]:
        TAMPERS[name] = f
        return f

    return register


@tamper("edit")
def edit(conn: psycopg.Connection[Any], table: str, ticket: UUID) -> None:
    conn.execute(
        f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'reply', 'REPLY'), 'UTF8') WHERE originator_id = %s AND originator_version = 2",
        (ticket,),
    )


@tamper("delete a middle event")
def delete_middle(conn: psycopg.Connection[Any], table: str, ticket: UUID) -> None:
    conn.execute(
        f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = 2", (ticket,)
    )


@tamper("delete the tail")
def delete_tail(conn: psycopg.Connection[Any], table: str, ticket: UUID) -> None:
    conn.execute(
        f"DELETE FROM {table} WHERE originator_id = %s AND originator_version >= 3", (ticket,)
    )


@tamper("insert")
def insert(conn: psycopg.Connection[Any], table: str, ticket: UUID) -> None:
    conn.execute(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        f"SELECT originator_id, 5, topic, state FROM {table} "
        "WHERE originator_id = %s AND originator_version = 3",
        (ticket,),
    )


@tamper("swap")
def swap(conn: psycopg.Connection[Any], table: str, ticket: UUID) -> None:
    for old, new in ((2, -2), (3, 2), (-2, 3)):
        conn.execute(
            f"UPDATE {table} SET originator_version = %s "
            "WHERE originator_id = %s AND originator_version = %s",
            (new, ticket, old),
        )


@pytest.mark.parametrize("how", list(TAMPERS))
def test_verify_names_exactly_the_ticket_whose_stored_events_were_tampered_with(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str, how: str
) -> None:
    tickets = worked
    assert verify_log(conn, schema, MAPPER.transcoder).ok
    victim = tickets[1]
    TAMPERS[how](conn, f'"{schema}".docket_events', victim.ticket_id)
    report = verify_log(conn, schema, MAPPER.transcoder)
    assert report.damaged_streams() == [f"ticket {victim.number}"], report.damages
    alone = verify_log(conn, schema, MAPPER.transcoder, only=victim.ticket_id)
    assert (
        alone.damages
        and not verify_log(conn, schema, MAPPER.transcoder, only=tickets[0].ticket_id).damages
    )


def test_verify_catches_a_whole_stream_removed_and_the_seal_it_broke(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str
) -> None:
    tickets = worked
    conn.execute(
        f'DELETE FROM "{schema}".docket_events WHERE originator_id = %s', (tickets[2].ticket_id,)
    )
    report = verify_log(conn, schema, MAPPER.transcoder)
    assert [d.stream_id for d in report.damages] == [str(tickets[2].ticket_id)]
    assert report.seal_failures and "log head" in report.seal_failures[-1]


def test_an_exported_trail_verifies_offline_and_an_edited_line_is_named(
    desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    [t] = worked_tickets(desk, 1)
    lines = list(export_lines(stream(conn, schema, t.ticket_id)))
    assert len(lines) == 4
    assert verify_export(lines, MAPPER.transcoder) == []
    lines[2] = lines[2].replace("reply", "REPLY")
    assert [d.version for d in verify_export(lines, MAPPER.transcoder)] == [3]


@pytest.mark.parametrize("processes", [1, 3])
def test_a_rebuild_while_tickets_are_written_swaps_in_a_view_equal_to_a_fold_from_scratch(
    processes: int,
    database_url: str,
    schema: str,
    desk: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    worked: list[Receipt],
) -> None:
    tickets = worked
    runner.start()
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            agent_reply(desk, tickets[n % 3].ticket_id, f"during rebuild {n}", later(days=20))
            n += 1

    def read() -> None:
        with psycopg.connect(database_url, autocommit=True) as reader:
            while not stop.is_set():
                try:
                    rows = inbox.tickets(reader, Tables(schema), ListFilter()).rows
                    assert len(rows) == 3
                except BaseException as error:  # any failure of a reader counts
                    errors.append(error)
                    return

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        swapped = rebuild(
            database_url, schema, list(VIEWS.values()), batch_size=7, processes=processes
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        runner.stop()
    assert errors == []
    assert swapped.events > 0
    runner.catch_up()
    assert_views_equal_a_fold_from_scratch(database_url, schema)
    assert verify_log(conn, schema, MAPPER.transcoder).ok


def test_a_rebuild_whose_folding_process_dies_says_which_views_and_swaps_nothing_in(
    database_url: str, schema: str, conn: psycopg.Connection[Any], worked: list[Receipt]
) -> None:
    def detail_rows() -> list[Any]:
        return conn.execute(f'SELECT * FROM "{schema}".ticket_details ORDER BY number').fetchall()

    before = detail_rows()
    killed: list[int] = []

    def kill_one(_: object) -> None:  # the first time the rebuild looks at its processes
        if not killed:
            victim = multiprocessing.active_children()[0]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    with pytest.raises(RebuildInterrupted) as refused:
        rebuild(database_url, schema, list(VIEWS.values()), processes=2, progress=kill_one)
    assert killed
    assert "failed: its process ended (exit code -9)" in str(refused.value)
    assert "Nothing was swapped in" in str(refused.value)
    assert multiprocessing.active_children() == []  # the other process was stopped too
    assert detail_rows() == before
    left = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename LIKE '%%__shadow'",
        (schema,),
    ).fetchone()
    shadow_tracking = conn.execute(
        f"SELECT count(*) FROM \"{schema}\".projection_tracking WHERE view LIKE '%%__shadow'"
    ).fetchone()
    assert (left, shadow_tracking) == ((0,), (0,))
    again = rebuild(database_url, schema, list(VIEWS.values()), processes=2)  # starts over
    assert again.swapped and again.events >= len(worked)
    assert_views_equal_a_fold_from_scratch(database_url, schema)


@pytest.mark.usefixtures("worked")
def test_every_process_of_a_spread_rebuild_folds_to_exactly_the_position_it_was_given(
    database_url: str, schema: str, conn: psycopg.Connection[Any]
) -> None:
    """The groups' shadows must stand at one position for the swap: no batch passes it."""
    head = log_head(conn, schema)
    target = head - 3  # in the middle of a batch: a batch holds the whole log
    shadow = Tables(schema, SHADOW)
    views = list(VIEWS.values())
    for view in views:
        view.create_tables(conn, shadow)
        conn.execute(
            f'INSERT INTO "{schema}".projection_tracking (view, position) VALUES (%s, 0) '
            "ON CONFLICT (view) DO UPDATE SET position = 0",
            (view.name + SHADOW,),
        )
    report = RebuildReport([v.name for v in views], failures={v.name: [] for v in views})
    groups = deal(views, 2)
    reached = bulk_spread(database_url, schema, groups, 1000, report, lambda *_: None,
                          start=0, target=target)  # fmt: skip
    tracked = conn.execute(
        f"SELECT DISTINCT position FROM \"{schema}\".projection_tracking WHERE view LIKE '%%__shadow'"
    ).fetchall()
    assert (reached, tracked) == (target, [(target,)])
    rows = conn.execute(
        f'SELECT count(*) FROM "{schema}".docket_events WHERE notification_id <= %s', (target,)
    ).fetchone()
    assert rows == (report.events,)  # counted once, not once per process


@pytest.mark.usefixtures("worked")
def test_rebuild_check_reports_a_live_row_that_differs_from_the_fold(
    database_url: str, schema: str, conn: psycopg.Connection[Any]
) -> None:
    conn.execute(
        f"UPDATE \"{schema}\".ticket_details SET subject = 'edited by hand' WHERE number = 'T-000002'"
    )
    checked = rebuild(database_url, schema, [VIEWS["ticket_detail"]], check=True)
    assert any("edited by hand" in line for line in checked.differences["ticket_detail"])


@dataclass(frozen=True)
class OldEvents:
    """The test schema's stored log, for writing an event back as an older version of the
    desk wrote it, and checking that every reader of the log still takes it."""

    database_url: str
    schema: str
    conn: psycopg.Connection[Any]

    def store_as_version_1(
        self, ticket_id: UUID, version: int, kind: str, current: int, added_since: tuple[str, ...]
    ) -> None:
        """Rewrite a stored event (now at class version ``current``) as version 1 wrote it:
        without the fields added since, hashed as a version 1 event."""
        stored = next(
            e.stored for e in self.stream(ticket_id) if e.stored.originator_version == version
        )
        fields = dict(MAPPER.transcoder.decode(stored.state))
        assert fields.pop("class_version") == current
        for name in added_since:
            del fields[name]
        fields["event_hash"] = event_hash(
            kind, 1, {**fields, "originator_id": ticket_id, "originator_version": version}
        )
        self.conn.execute(
            f'UPDATE "{self.schema}".docket_events SET state = %s '
            "WHERE originator_id = %s AND originator_version = %s",
            (MAPPER.transcoder.encode(fields), ticket_id, version),
        )

    def stream(self, ticket_id: UUID) -> list[StoredAt]:
        return stream(self.conn, self.schema, ticket_id)

    def assert_verified_and_folded_alike(self) -> None:
        """The log verifies, and the views equal a fold of it from scratch."""
        assert verify_log(self.conn, self.schema, MAPPER.transcoder).ok
        assert_views_equal_a_fold_from_scratch(self.database_url, self.schema)


@pytest.fixture
def old_events(database_url: str, schema: str, conn: psycopg.Connection[Any]) -> OldEvents:
    return OldEvents(database_url, schema, conn)


def test_stored_version_1_events_replay_through_history_state_rebuild_and_verify(
    desk: SupportDesk, runner: ProjectionRunner, old_events: OldEvents
) -> None:
    account = desk_with_account(desk)
    filed = file(desk, account)
    old_events.store_as_version_1(
        filed.ticket_id, 1, "Ticket.Opened", 4, ("follow_up_of", "sla_terms", "support_group")
    )
    reply = agent_reply(desk, filed.ticket_id, "on it", later(hours=1))
    runner.catch_up()
    entries = old_events.stream(filed.ticket_id)
    assert history(entries, MAPPER)[0]["fields"]["follow_up_of"] is None
    state = state_at([MAPPER.to_domain_event(e.stored) for e in entries])
    assert state is not None and (state["follow_up_of"], state["version"]) == (None, reply.version)
    old_events.assert_verified_and_folded_alike()


def test_a_stored_version_1_note_and_a_note_with_files_replay_and_verify(
    desk: SupportDesk, runner: ProjectionRunner, old_events: OldEvents
) -> None:
    """A note stored before notes carried files (version 1) reads as a note with none,
    beside a note with files, through history, state, the views' rebuild and verify."""
    account = desk_with_account(desk)
    filed = file(desk, account)
    old = agent_note(desk, filed.ticket_id, "old note", later(hours=1))
    old_events.store_as_version_1(
        filed.ticket_id, old.version, "Ticket.InternalNoteAdded", 2, ("attachments",)
    )
    log = AttachmentRef("e" * 64, "sync.log", "text/plain", 9)
    new = agent_note(desk, filed.ticket_id, "with a log", later(hours=2), attachments=[log])
    runner.catch_up()
    entries = old_events.stream(filed.ticket_id)
    told = history(entries, MAPPER)
    assert [(e["kind"], e["fields"].get("attachments")) for e in told[-3:]] == [
        ("Ticket.InternalNoteAdded", []),
        ("Ticket.NoteAttachmentAdded", None),
        ("Ticket.InternalNoteAdded", ["e" * 64]),
    ]
    state = state_at([MAPPER.to_domain_event(e.stored) for e in entries])
    assert state is not None and state["version"] == new.version
    old_events.assert_verified_and_folded_alike()


def test_docket_replay_verify_exits_non_zero_naming_the_damaged_ticket(
    database_url: str, schema: str, conn: psycopg.Connection[Any], worked: list[Receipt]
) -> None:
    tickets = worked
    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema}
    command = [sys.executable, "-m", "api.cli", "replay", "verify"]
    clean = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    edit(conn, f'"{schema}".docket_events', tickets[0].ticket_id)
    damaged = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert damaged.returncode == 1
    assert f"DAMAGED ticket {tickets[0].number} version 2" in damaged.stdout
    assert tickets[1].number not in damaged.stdout


def test_a_rebuild_ends_even_when_writers_outpace_it(
    database_url: str,
    schema: str,
    desk: SupportDesk,
    runner: ProjectionRunner,
    worked: list[Receipt],
) -> None:
    """Every batch the rebuild folds, more than a batch is written: it still swaps.

    It folds to the head as it stands when it looks, and leaves what came after
    to the live workers; the views then equal a fold from scratch.
    """
    tickets = worked
    batch = 7
    calls = 0

    def write_more_than_a_batch(_: object) -> None:
        nonlocal calls
        calls += 1
        assert calls < 500, "the rebuild chases the head and never ends"
        for n in range(batch + 1):
            agent_reply(desk, tickets[n % 3].ticket_id, f"outpacing {calls}.{n}", later(days=20))

    swapped = rebuild(
        database_url, schema, list(VIEWS.values()), batch_size=batch,
        progress=write_more_than_a_batch,
    )  # fmt: skip
    assert swapped.events > batch * calls  # it folded what was written meanwhile too
    runner.catch_up()
    assert_views_equal_a_fold_from_scratch(database_url, schema)
