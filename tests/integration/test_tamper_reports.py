"""Damage done to a real PostgreSQL store the way someone with database access would do it,
and what each report then says: which ticket, which versions and positions, what was done."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.utils import resolve_topic

from desk.answers import Receipt
from desk.service import SupportDesk
from domain.chain import event_hash
from domain.errors import TicketDamaged
from domain.ticket import Ticket
from projections import log_seal
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner
from projections.tracking import tracked_failures
from replay.rebuild import rebuild
from replay.store import StoredAt, stream
from replay.verify import StreamDamage, VerifyReport, verify_log
from store.eventstore import docket_mapper
from tests.builders import agent, agent_reply, later
from tests.integration.conftest import worked_tickets

MAPPER = docket_mapper()
T = MAPPER.transcoder


def events(schema: str) -> str:
    return f'"{schema}".docket_events'


def rewrite_from(
    conn: psycopg.Connection[Any],
    schema: str,
    ticket: UUID,
    version: int,
    change: Callable[[dict[str, Any]], None],
) -> None:
    """Edit one stored event and recompute the hash chain from there to the stream's end,
    as someone who knows how Docket hashes would."""
    entries = stream(conn, schema, ticket)
    previous = dict(T.decode(entries[version - 2].stored.state))["event_hash"]
    for entry in entries[version - 1 :]:
        fields = dict(T.decode(entry.stored.state))
        class_version = fields.pop("class_version", 1)
        if entry.stored.originator_version == version:
            change(fields)
        fields["prev_hash"] = previous
        fields["event_hash"] = previous = event_hash(
            resolve_topic(entry.stored.topic).__qualname__,
            class_version,
            {**fields, "originator_id": ticket,
             "originator_version": entry.stored.originator_version},
        )  # fmt: skip
        if class_version > 1:
            fields["class_version"] = class_version
        conn.execute(
            f"UPDATE {events(schema)} SET state = %s WHERE notification_id = %s",
            (T.encode(fields), entry.position),
        )


def verified(conn: psycopg.Connection[Any], schema: str, only: UUID | None = None) -> VerifyReport:
    return verify_log(conn, schema, T, only=only)


def of(report: VerifyReport, receipt: Receipt) -> list[StreamDamage]:
    return [d for d in report.damages if d.label == f"ticket {receipt.number}"]


def no_claim_of_removed_or_inserted(report: VerifyReport) -> None:
    text = " ".join(report.seal_failures)
    assert "removed or inserted" not in text
    assert "removed" not in text and "inserted" not in text, text


def test_an_edit_whose_chain_was_recomputed_is_named_by_ticket_version_and_position(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str
) -> None:
    tickets = worked
    victim = tickets[1]
    position = stream(conn, schema, victim.ticket_id)[1].position
    rewrite_from(conn, schema, victim.ticket_id, 2, lambda f: f.update(body="we owe you nothing"))
    whole = verified(conn, schema)
    assert whole.damaged_streams() == [f"ticket {victim.number}"], whole.damages
    edited = [(d.kind, d.version, d.position) for d in of(whole, victim)]
    assert ("edited", 2, position) in edited
    assert whole.seal_failures and "not the same ones" in whole.seal_failures[0]
    assert f"ticket {victim.number} version 2 (edited)" in whole.seal_failures[0]
    no_claim_of_removed_or_inserted(whole)
    alone = verified(conn, schema, victim.ticket_id)
    assert not alone.ok and ("edited", 2, position) in [
        (d.kind, d.version, d.position) for d in alone.damages
    ]
    assert alone.seal_failures, "a one-ticket verify checks the seals that hold the ticket"
    assert verified(conn, schema, tickets[0].ticket_id).ok


def test_an_edit_with_its_chain_recomputed_is_caught_by_the_head_alone_without_the_feed(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str
) -> None:
    tickets = worked
    victim = tickets[0]
    conn.execute(f'TRUNCATE "{schema}".audit_feed')  # the witness gone too
    rewrite_from(conn, schema, victim.ticket_id, 3, lambda f: f.update(body="edited"))
    alone = verified(conn, schema, victim.ticket_id)
    assert [(d.kind, d.version) for d in alone.damages] == [("edited", 4)], alone.damages
    assert "or an event before it was edited" in alone.damages[0].reason
    assert "chain was recomputed" in alone.damages[0].reason


def test_two_swapped_positions_are_named_as_reordered_with_both_positions(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str
) -> None:
    tickets = worked
    a = stream(conn, schema, tickets[0].ticket_id)[2]
    b = stream(conn, schema, tickets[2].ticket_id)[1]
    for old, new in ((a.position, -1), (b.position, a.position), (-1, b.position)):
        conn.execute(
            f"UPDATE {events(schema)} SET notification_id = %s WHERE notification_id = %s",
            (new, old),
        )
    whole = verified(conn, schema)
    assert whole.damaged_streams() == sorted(
        [f"ticket {tickets[0].number}", f"ticket {tickets[2].number}"]
    ), whole.damages
    moved = {(d.label, d.kind, d.version, d.position) for d in whole.damages}
    assert (f"ticket {tickets[0].number}", "reordered", 3, b.position) in moved
    assert (f"ticket {tickets[2].number}", "reordered", 2, a.position) in moved
    assert any(str(a.position) in d.reason and str(b.position) in d.reason for d in whole.damages)
    no_claim_of_removed_or_inserted(whole)
    for t in (tickets[0], tickets[2]):
        alone = verified(conn, schema, t.ticket_id)
        assert [d.kind for d in alone.damages] == ["reordered"], alone.damages
    assert verified(conn, schema, tickets[1].ticket_id).ok


def test_a_last_event_removed_and_its_version_written_again_is_named_as_replaced(
    database_url: str, reused_version: ReusedVersion, conn: psycopg.Connection[Any], schema: str
) -> None:
    victim, last = reused_version.victim, reused_version.removed
    new = stream(conn, schema, victim.ticket_id)[-1]
    assert new.stored.originator_version == last.stored.originator_version
    whole = verified(conn, schema)
    assert whole.damaged_streams() == [f"ticket {victim.number}"], whole.damages
    replaced = [d for d in of(whole, victim) if d.kind == "replaced"]
    assert replaced and replaced[0].version == 4 and replaced[0].position == new.position
    assert str(last.position) in replaced[0].reason
    assert not verified(conn, schema, victim.ticket_id).ok
    # the seal and the feed take the new event in (the detail view stops on it: see
    # test_a_view_stuck_on_one_position_makes_health_degraded_naming_it)
    ProjectionRunner(database_url, schema, [VIEWS["log_seal"], VIEWS["audit_feed"]]).catch_up()
    after = verified(conn, schema)
    assert [d.kind for d in of(after, victim)] == ["replaced"], after.damages
    # the seal counted the removed event and the new one: one fewer is in the log now
    assert "1 removed" in " ".join(after.seal_failures), after.seal_failures
    assert f"ticket {victim.number} version 4 (replaced)" in " ".join(after.seal_failures)


def test_a_whole_ticket_removed_is_named_by_its_number(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str
) -> None:
    tickets = worked
    victim = tickets[2]
    conn.execute(f"DELETE FROM {events(schema)} WHERE originator_id = %s", (victim.ticket_id,))
    whole = verified(conn, schema)
    assert whole.damaged_streams() == [f"ticket {victim.number}"], whole.damages
    assert {d.kind for d in whole.damages} == {"removed"}
    assert any("versions 1..4" in d.reason for d in whole.damages)
    assert "4 removed" in whole.seal_failures[-1]
    alone = verified(conn, schema, victim.ticket_id)
    assert not alone.ok and {d.kind for d in alone.damages} == {"removed"}


def test_undecodable_stored_bytes_are_a_report_line_not_a_crash(
    worked: list[Receipt], conn: psycopg.Connection[Any], schema: str
) -> None:
    tickets = worked
    for version, state in ((2, b"\xff\xfe not json"), (3, b'["a", "list"]'), (4, b'"text"')):
        conn.execute(
            f"UPDATE {events(schema)} SET state = %s "
            "WHERE originator_id = %s AND originator_version = %s",
            (state, tickets[0].ticket_id, version),
        )
    whole = verified(conn, schema)
    damaged = {d.version for d in of(whole, tickets[0]) if "undecodable" in d.reason}
    assert damaged == {2, 3, 4}, whole.damages
    assert not verified(conn, schema, tickets[0].ticket_id).ok


@pytest.mark.parametrize(
    "damage",
    [
        "edit",
        "edit, chain recomputed",
        "last event removed",
        "middle event removed",
        "undecodable",
    ],
)
def test_a_write_to_a_damaged_ticket_is_refused_and_the_chain_is_not_extended(
    desk: SupportDesk,
    conn: psycopg.Connection[Any],
    schema: str,
    runner: ProjectionRunner,
    damage: str,
) -> None:
    tickets = worked_tickets(desk)
    victim = tickets[0]
    agent_reply(desk, victim.ticket_id, "proved whole before the damage", later(days=8))
    runner.catch_up()
    if damage == "edit":  # the bytes this desk proved before change: it hashes them again
        conn.execute(
            f"UPDATE {events(schema)} SET state = convert_to(replace(convert_from(state, "
            "'UTF8'), 'reply', 'REPLY'), 'UTF8') "
            "WHERE originator_id = %s AND originator_version = 2",
            (victim.ticket_id,),
        )
    elif damage == "edit, chain recomputed":
        rewrite_from(conn, schema, victim.ticket_id, 2, lambda f: f.update(body="edited"))
    elif damage == "undecodable":
        conn.execute(
            f"UPDATE {events(schema)} SET state = 'garbage' "
            "WHERE originator_id = %s AND originator_version = 3",
            (victim.ticket_id,),
        )
    else:
        version = 5 if damage == "last event removed" else 2
        conn.execute(
            f"DELETE FROM {events(schema)} WHERE originator_id = %s AND originator_version = %s",
            (victim.ticket_id, version),
        )
    before = len(stream(conn, schema, victim.ticket_id))
    with pytest.raises(TicketDamaged) as refused:
        agent_reply(desk, victim.ticket_id, "more", later(days=9))
    assert victim.number in refused.value.detail and "replay verify" in refused.value.detail
    assert len(stream(conn, schema, victim.ticket_id)) == before
    agent_reply(desk, tickets[1].ticket_id, "the others still take writes", later(days=9))


def reuse_the_last_version(desk: SupportDesk, conn: psycopg.Connection[Any], schema: str,
                           victim: Receipt) -> int:  # fmt: skip
    """Delete the ticket's last event and write another at its version, as a write did
    before the desk checked heads; the new event's position."""
    last = stream(conn, schema, victim.ticket_id)[-1]
    conn.execute(f"DELETE FROM {events(schema)} WHERE notification_id = %s", (last.position,))
    ticket: object = desk.repository.get(victim.ticket_id)
    assert isinstance(ticket, Ticket)
    ticket.add_message(author_id="agent-1", author_role="agent", body="on it",
                       attachments=[], stamp=agent(later(days=9)))  # fmt: skip
    desk.save(ticket)
    return stream(conn, schema, victim.ticket_id)[-1].position


@dataclass(frozen=True)
class ReusedVersion:
    """The second worked ticket, whose last event was deleted and another written at its
    version: the ticket, the event removed, and the position of the one written."""

    victim: Receipt
    removed: StoredAt
    position: int


@pytest.fixture
def reused_version(
    worked: list[Receipt], desk: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> ReusedVersion:
    victim = worked[1]
    removed = stream(conn, schema, victim.ticket_id)[-1]
    return ReusedVersion(victim, removed, reuse_the_last_version(desk, conn, schema, victim))


def test_a_view_stuck_on_one_position_is_on_record_logs_once_and_backs_off(
    database_url: str,
    worked: list[Receipt],
    reused_version: ReusedVersion,
    desk: SupportDesk,
    conn: psycopg.Connection[Any],
    schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tickets, bad = worked, reused_version.position
    for n in range(3):  # more after it, so the first failing batch is wider than the event
        agent_reply(desk, tickets[0].ticket_id, f"after {n}", later(days=10))
    caplog.set_level(logging.WARNING, logger="docket.projections")
    live = ProjectionRunner(database_url, schema, [VIEWS["ticket_detail"]], idle_wait=0.2)
    live.start()
    try:
        status = live.status["ticket_detail"]
        deadline = time.monotonic() + 30
        while not status.stuck:
            assert time.monotonic() < deadline, "never stuck"
            time.sleep(0.05)
        assert status.failing_at == bad and status.position < bad
        time.sleep(3.0)
        attempts = status.failures
    finally:
        live.stop()
    assert attempts <= 12, f"{attempts} attempts in about 3 s: no back-off"
    tracebacks = [r for r in caplog.records if r.exc_info and "ticket_detail" in r.getMessage()]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert any("is stuck at position" in r.getMessage() for r in caplog.records)
    recorded = tracked_failures(conn, schema)["ticket_detail"]
    assert recorded.stuck and recorded.failing_at == bad
    assert "UniqueViolation" in recorded.error


def garble(conn: psycopg.Connection[Any], schema: str, ticket: UUID, version: int) -> int:
    """Bytes no one could decode in place of a stored event; its position."""
    row = conn.execute(
        f"UPDATE {events(schema)} SET state = %s WHERE originator_id = %s "
        "AND originator_version = %s RETURNING notification_id",
        (b"\xff\xfe garbage", ticket, version),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("processes", [1, 2])
def test_rebuild_check_of_a_damaged_log_reports_each_event_left_out_and_never_crashes(
    processes: int,
    database_url: str,
    worked: list[Receipt],
    reused_version: ReusedVersion,  # the live detail view stops on the event written again
    conn: psycopg.Connection[Any],
    schema: str,
) -> None:
    tickets = worked
    unreadable = garble(conn, schema, tickets[2].ticket_id, 3)
    numbered_twice = conn.execute(  # two tickets with one number: no fold from scratch
        f"UPDATE {events(schema)} e SET state = first.state FROM {events(schema)} first "
        "WHERE first.originator_id = %s AND first.originator_version = 1 "
        "AND e.originator_id = %s AND e.originator_version = 1 RETURNING e.notification_id",
        (tickets[0].ticket_id, tickets[2].ticket_id),
    ).fetchone()
    assert numbered_twice is not None
    twice = int(numbered_twice[0])
    views = [VIEWS["ticket_detail"], VIEWS["inbox"]]
    checked = rebuild(database_url, schema, views, check=True, batch_size=4, processes=processes)
    assert set(checked.unreadable) == {unreadable}
    detail = checked.differences["ticket_detail"]
    assert any(line.startswith(f"position {twice}:") for line in detail), detail
    assert any("cannot reach position" in line for line in detail), detail
    assert any("only live" in line and "reply 1.2" in line for line in detail), detail
    assert checked.damaged and not checked.swapped
    before = conn.execute(f'SELECT count(*) FROM "{schema}".ticket_details').fetchone()
    kept = rebuild(database_url, schema, views, batch_size=4, processes=processes)
    assert not kept.swapped and kept.damaged
    assert any(line.startswith(f"position {twice}:") for line in kept.differences["ticket_detail"])
    after = conn.execute(f'SELECT count(*) FROM "{schema}".ticket_details').fetchone()
    assert before == after  # the live view kept, no shadow left behind
    shadows = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename LIKE '%%__shadow'",
        (schema,),
    ).fetchone()
    assert shadows == (0,)


def docket(database_url: str, schema: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "replay", *args],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_the_replay_commands_report_damaged_rows_as_lines_not_tracebacks(
    database_url: str,
    worked: list[Receipt],
    conn: psycopg.Connection[Any],
    schema: str,
    tmp_path: Any,
) -> None:
    tickets = worked
    number = tickets[0].number
    position = garble(conn, schema, tickets[0].ticket_id, 2)
    rewrite_from(conn, schema, tickets[1].ticket_id, 3, lambda f: f.update(body="edited"))
    shown = docket(database_url, schema, "history", number)
    assert shown.returncode == 1 and "Traceback" not in shown.stderr, shown.stderr
    assert f"DAMAGED ticket {number} version 2 (position {position})" in shown.stderr
    assert "Ticket.Opened" in shown.stdout and "v3" in shown.stdout  # the rest still shown
    state = docket(database_url, schema, "state", number)
    assert state.returncode == 1 and "Traceback" not in state.stderr, state.stderr
    assert f"DAMAGED ticket {number} version 2 (position {position})" in state.stderr
    trail = tmp_path / "t.jsonl"
    exported = docket(database_url, schema, "export", "--ticket", number, "--out", str(trail))
    assert exported.returncode == 1 and "Traceback" not in exported.stderr, exported.stderr
    offline = docket(database_url, schema, "verify", "--file", str(trail))
    assert offline.returncode == 1 and f"DAMAGED ticket {number} version 2" in offline.stdout
    verified_all = docket(database_url, schema, "verify")
    assert verified_all.returncode == 1, verified_all.stderr
    assert f"DAMAGED ticket {number} version 2 (edited, position {position}):" in (
        verified_all.stdout
    )
    assert f"DAMAGED ticket {tickets[1].number} version 3 (edited, position" in (
        verified_all.stdout
    )
    assert "removed or inserted" not in verified_all.stdout
    checked = docket(database_url, schema, "rebuild", "--check", "ticket_detail")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert f"UNREADABLE position {position}:" in checked.stdout


def test_only_the_sealed_stretch_that_holds_the_damage_fails_and_names_it(
    desk: SupportDesk,
    conn: psycopg.Connection[Any],
    schema: str,
    runner: ProjectionRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(log_seal, "SEAL_EVERY", 4)  # many stretches from a few events
    tickets = worked_tickets(desk)
    runner.catch_up()
    victim = tickets[1]
    gone = stream(conn, schema, victim.ticket_id)[2]
    conn.execute(f"DELETE FROM {events(schema)} WHERE notification_id = %s", (gone.position,))
    whole = verified(conn, schema)
    assert len(whole.seal_failures) == 1, whole.seal_failures
    lo, hi = gone.position // 4 * 4, gone.position // 4 * 4 + 3
    assert whole.seal_failures[0].startswith(f"seal at {lo + 4} (positions {lo}..{hi}): ")
    assert "1 removed" in whole.seal_failures[0]
    assert f"ticket {victim.number} version 3 (removed)" in whole.seal_failures[0]
    assert [(d.kind, d.version, d.position) for d in whole.damages] == [
        ("removed", 3, gone.position)
    ], whole.damages
    alone = verified(conn, schema, victim.ticket_id)
    assert len(alone.seal_failures) == 1 and [d.kind for d in alone.damages] == ["removed"]
    for other in (tickets[0], tickets[2]):
        assert verified(conn, schema, other.ticket_id).ok
