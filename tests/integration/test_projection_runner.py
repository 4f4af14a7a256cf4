"""The runner on PostgreSQL: exactly once with two workers, and back after a lost connection."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from projections import ticket_detail
from projections.catalog import VIEWS
from projections.kit import Fact, Tables, View
from projections.lists import inbox
from projections.lists.filters import BadCursor, ListFilter
from projections.runner import ProjectionRunner
from projections.tracking import tracked_errors, tracked_positions
from store.log import kinds_of
from tests.builders import agent, desk_with_account, file, later


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def log_head(database_url: str, schema: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f'SELECT max(notification_id) FROM "{schema}".docket_events').fetchone()
    return int(row[0]) if row and row[0] else 0


def create_tally(conn: psycopg.Connection[Any], t: Tables) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {t('tally')} (position bigint NOT NULL)")


def apply_tally(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {t('tally')} VALUES (%s)", [(f.position,) for f in facts])


# A view with no unique key: only the runner stands between it and a double count.
TALLY = View("tally", VIEWS["audit_feed"].handles, create_tally, apply_tally, ("tally",))


def test_two_workers_on_one_view_apply_every_event_exactly_once(
    database_url: str, schema: str, desk: SupportDesk
) -> None:
    views = [TALLY, VIEWS["inbox"], VIEWS["ticket_detail"], VIEWS["audit_feed"]]
    workers = [ProjectionRunner(database_url, schema, views, batch_size=3) for _ in range(2)]
    workers[0].create_tables()
    for w in workers:
        w.start()
    account = desk_with_account(desk)
    tickets = [file(desk, account) for _ in range(4)]

    def reply(n: int) -> None:
        for i in range(15):
            desk.add_message(tickets[(n + i) % 4].ticket_id, author_id="agent-1",
                             author_role="agent", body=f"reply {n}-{i}",
                             stamp=agent(later(hours=1)))  # fmt: skip

    writers = [threading.Thread(target=reply, args=(n,)) for n in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    head = log_head(database_url, schema)
    try:
        eventually(
            lambda: all(max(w.status[v.name].position for w in workers) >= head for v in views)
        )
    finally:
        for w in workers:
            w.stop()
    with psycopg.connect(database_url) as conn:
        events = conn.execute(f'SELECT topic FROM "{schema}".docket_events').fetchall()
        for view in views:
            kinds = kinds_of(view.handles)
            handled = sum(1 for (topic,) in events if topic.rpartition(":")[2] in kinds)
            applied = [w.status[view.name].events_applied for w in workers]
            assert sum(applied) == handled, (view.name, applied)
        tally = conn.execute(
            f'SELECT count(*), count(DISTINCT position) FROM "{schema}".tally'
        ).fetchone()
        assert tally == (len(events), len(events))
        rows = inbox.tickets(conn, Tables(schema), ListFilter(), limit=10).rows
        assert sorted(r["message_count"] for r in rows) == [16] * 4
        conversation = conn.execute(
            f'SELECT count(*) FROM "{schema}".{ticket_detail.CONVERSATION}'
        ).fetchone()
        assert conversation == (4 + 60,)


def test_a_worker_whose_connection_is_cut_reconnects_and_resumes(
    database_url: str, schema: str, desk: SupportDesk
) -> None:
    runner = ProjectionRunner(database_url, schema, [VIEWS["ticket_detail"]], idle_wait=0.2)
    runner.create_tables()
    runner.start()
    try:
        account = desk_with_account(desk)
        first = file(desk, account)
        eventually(lambda: runner.status["ticket_detail"].position >= first.position)
        with psycopg.connect(database_url, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name LIKE %s",
                (f"docket-projection:{schema}:%",),
            ).fetchone()
        assert cut is not None and cut[0] >= 1
        second = file(desk, account)
        eventually(lambda: runner.status["ticket_detail"].position >= second.position)
    finally:
        runner.stop()
    with psycopg.connect(database_url) as conn:
        found: Any = ticket_detail.detail(
            conn, Tables(schema), second.number, with_internal_notes=False
        )
    assert found["version"] == second.version


def test_a_failing_view_puts_its_error_on_record_for_every_process_until_it_works_again(
    database_url: str, schema: str, desk: SupportDesk
) -> None:
    broken = threading.Event()
    broken.set()

    def apply_unless_broken(
        conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]
    ) -> None:
        if broken.is_set():
            raise ValueError("tally is broken")
        apply_tally(conn, t, facts)

    def on_record() -> dict[str, str]:
        with psycopg.connect(database_url) as conn:
            return tracked_errors(conn, schema)

    view = dataclasses.replace(TALLY, apply=apply_unless_broken)

    def started() -> ProjectionRunner:
        runner = ProjectionRunner(database_url, schema, [view], idle_wait=0.2)
        runner.create_tables()
        runner.start()
        return runner

    account = desk_with_account(desk)
    first = file(desk, account)
    runner = started()
    try:  # the worker that failed works again
        eventually(lambda: on_record() == {"tally": "ValueError: tally is broken"})
        broken.clear()
        eventually(lambda: runner.status["tally"].position >= first.position)
        eventually(lambda: on_record() == {})
        assert runner.status["tally"].last_error is None
    finally:
        runner.stop()
    broken.set()
    second = file(desk, account)
    runner = started()
    try:
        eventually(lambda: on_record() == {"tally": "ValueError: tally is broken"})
    finally:
        runner.stop()
    broken.clear()
    after = started()
    try:  # a worker started after the failing one stopped clears what that one left
        eventually(lambda: after.status["tally"].position >= second.position)
        eventually(lambda: on_record() == {})
    finally:
        after.stop()


def test_docket_project_runs_views_in_a_worker_process_of_its_own(
    database_url: str, schema: str, desk: SupportDesk
) -> None:
    account = desk_with_account(desk)
    filed = file(desk, account)
    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema}
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "project", "inbox", "audit_feed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def applied() -> dict[str, int]:
            with psycopg.connect(database_url) as conn:
                try:
                    return tracked_positions(conn, schema)
                except psycopg.errors.UndefinedTable:  # the worker has not started yet
                    return {}

        eventually(lambda: applied().get("inbox", 0) >= filed.position)
        later_reply = desk.add_message(filed.ticket_id, author_id="agent-1", author_role="agent",
                                       body="On it", stamp=agent(later(hours=1)))  # fmt: skip
        eventually(lambda: applied().get("audit_feed", 0) >= later_reply.position)
        assert "ticket_detail" not in applied()
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0


def test_history_older_than_the_cursor_lifetime_is_pruned_and_its_cursors_expire(
    database_url: str, schema: str, desk: SupportDesk
) -> None:
    runner = ProjectionRunner(database_url, schema, [VIEWS["inbox"]], cursor_lifetime=0)
    runner.create_tables()
    account = desk_with_account(desk)
    tickets = [file(desk, account) for _ in range(3)]
    runner.catch_up()
    for t in tickets:  # a second version of every row
        desk.add_message(t.ticket_id, author_id="agent-1", author_role="agent", body="hi",
                         stamp=agent(later(hours=1)))  # fmt: skip
    with psycopg.connect(database_url, autocommit=True) as conn:
        first = inbox.tickets(conn, Tables(schema), ListFilter(), limit=1)
        assert first.next_cursor is not None
        runner.catch_up()
        table = f'"{schema}".inbox_tickets'
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (6,)
        runner.maintain(conn, VIEWS["inbox"])  # marks where the view is
        time.sleep(0.01)
        assert runner.maintain(conn, VIEWS["inbox"]) == 3  # the superseded versions go
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (3,)
        with pytest.raises(BadCursor):
            inbox.tickets(conn, Tables(schema), ListFilter(), limit=1, cursor=first.next_cursor)
        fresh = inbox.tickets(conn, Tables(schema), ListFilter(), limit=10)
        assert len(fresh.rows) == 3


def test_a_view_found_in_an_older_shape_is_folded_again_and_a_newer_one_refused(
    database_url: str, schema: str, desk: SupportDesk
) -> None:
    account = desk_with_account(desk)
    for _ in range(3):
        file(desk, account)
    old = ProjectionRunner(database_url, schema, [TALLY])
    old.create_tables()
    old.catch_up()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'INSERT INTO "{schema}".tally VALUES (-1)')  # what the old shape held
        head = log_head(database_url, schema)
        reshaped = dataclasses.replace(TALLY, shape=2)
        new = ProjectionRunner(database_url, schema, [reshaped])
        new.create_tables()
        tracked = conn.execute(
            f'SELECT position, pruned_upto, shape FROM "{schema}".projection_tracking '
            "WHERE view = 'tally'"
        ).fetchone()
        assert tracked == (0, head, 2)  # cursors over the old tables expire
        new.catch_up()
        count = conn.execute(f'SELECT count(*), min(position) FROM "{schema}".tally').fetchone()
        assert count is not None and count[0] == head and count[1] > 0
        with pytest.raises(RuntimeError, match="newer"):
            old.create_tables()


def test_a_stop_asked_for_before_the_runner_starts_still_ends_run_forever(
    database_url: str, schema: str
) -> None:
    """A projecting child told to stop while still starting up (its ``docket serve`` gone)
    must not run on for ever."""
    runner = ProjectionRunner(database_url, schema, [])
    runner.create_tables()
    runner.request_stop()
    done = threading.Thread(target=runner.run_forever, daemon=True)
    done.start()
    done.join(timeout=10)
    assert not done.is_alive()
