"""The audit's ticket as of a version or an instant, on PostgreSQL: the detail people saw
then (conversation, names, roles, SLA clocks at that instant), and `docket replay state`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from api.answers import ticket_as_of
from api.schemas.audit import TicketDetailAsOf
from desk.answers import Receipt
from desk.service import SupportDesk
from domain.errors import AsOfInTheFuture, NotYetFiled, VersionNotReached
from projections.runner import ProjectionRunner
from replay.audit import Audit
from replay.store import StoredAt, stream
from tests.builders import agent, requester, system
from tests.integration.test_sla import MONDAY, H, premium_account

LATER = MONDAY + timedelta(days=30)
"""The moment of asking, well after everything below."""


@pytest.fixture
def audit(database_url: str, schema: str, desk: SupportDesk) -> Iterator[Audit]:
    with ConnectionPool(database_url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        yield Audit(pool, schema, desk.mapper)


def late_reply(desk: SupportDesk) -> Receipt:
    """Premium Enhanced: the first response is due within an hour; the agent replies after
    two, then adds an internal note."""
    account = premium_account(desk)
    author = str(desk.register_staff(name="Ada Agent", email="ada@docket.test", role="agent",
                                     stamp=system(MONDAY)).staff_id)  # fmt: skip
    filed = desk.file_ticket(
        account_id=account, requester_id="req-1", subject="Down", description="All down.",
        type="bug", priority="normal", product="Files", stamp=requester(MONDAY),
    )  # fmt: skip
    desk.add_message(filed.ticket_id, author_id=author, author_role="agent", body="On it",
                     attachments=None, stamp=agent(MONDAY + 2 * H, who=author))  # fmt: skip
    desk.add_internal_note(filed.ticket_id, author_id=author, body="between us",
                           stamp=agent(MONDAY + 3 * H, who=author))  # fmt: skip
    return filed


@pytest.fixture
def entries(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> list[StoredAt]:
    """The late reply's ticket, caught up by the views: its stream as stored."""
    filed = late_reply(desk)
    runner.catch_up()
    return stream(conn, schema, filed.ticket_id)


def answer(
    audit: Audit, entries: list[StoredAt], *, version: int | None = None, **as_of: Any
) -> TicketDetailAsOf:
    found = audit.ticket_as_of(entries, version=version, as_of=as_of.get("as_of"), now=LATER,
                               with_internal_notes=True)  # fmt: skip
    return ticket_as_of(*found, lambda a: f"/v1/attachments/{a}", with_callback=True)


def test_the_ticket_as_of_a_version_shows_the_conversation_then_with_names_and_roles(
    audit: Audit, entries: list[StoredAt]
) -> None:
    first = answer(audit, entries, version=1)
    assert (first.version, first.subject, first.status) == (1, "Down", "open")
    assert [(m.author.name, m.author_role, m.body) for m in first.conversation] == [
        ("R", "requester", "All down.")
    ]
    assert first.internal_notes == [] and first.write_model["version"] == 1
    assert first.as_of == MONDAY
    replied = answer(audit, entries, version=2)
    assert [(m.author.name, m.author_role) for m in replied.conversation] == [
        ("R", "requester"), ("Ada Agent", "agent"),
    ]  # fmt: skip
    assert replied.internal_notes == []
    last = answer(audit, entries, version=3)
    assert [n.body for n in last.internal_notes or []] == ["between us"]
    assert last.conversation == replied.conversation


def test_the_sla_clocks_as_of_an_instant_are_read_at_that_instant(
    audit: Audit, entries: list[StoredAt]
) -> None:
    def first_response(**when: Any) -> Any:
        sla = answer(audit, entries, **when).sla
        assert sla is not None
        return next(c for c in sla.clocks if c.target == "first_response")

    early = first_response(as_of=MONDAY + 0.5 * H)
    assert (early.state, early.breached, early.business_seconds_left) == ("running", False, 1800)
    overdue = first_response(as_of=MONDAY + 1.5 * H)  # past due, no reply yet, nothing on record
    assert (overdue.state, overdue.breached, overdue.breach_recorded) == ("breached", True, False)
    assert overdue.stopped_at is None
    answered = first_response(version=2)  # the late reply stopped it, breached
    assert (answered.stopped_at, answered.breached) == (MONDAY + 2 * H, True)


def test_the_ticket_as_of_refuses_a_version_not_reached_an_instant_to_come_and_before_filing(
    audit: Audit, entries: list[StoredAt]
) -> None:
    with pytest.raises(VersionNotReached) as beyond:
        answer(audit, entries, version=4)
    assert beyond.value.last == 3 and beyond.value.field == "version"
    with pytest.raises(AsOfInTheFuture):
        answer(audit, entries, as_of=LATER + H)
    with pytest.raises(NotYetFiled):
        answer(audit, entries, as_of=MONDAY - H)
    assert answer(audit, entries, as_of=LATER).version == 3  # up to now is the last state


def test_docket_replay_state_prints_the_detail_as_of_and_refuses_a_version_not_reached(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner
) -> None:
    filed = late_reply(desk)
    runner.catch_up()
    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema}

    def state(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "api.cli", "replay", "state", filed.number, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    shown = state("--version", "2")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert (detail["version"], detail["number"]) == (2, filed.number)
    assert [m["author_role"] for m in detail["conversation"]] == ["requester", "agent"]
    assert detail["conversation"][0]["author"] == {"id": "req-1", "name": "R"}
    assert detail["write_model"]["version"] == 2 and "sla" in detail
    beyond = state("--version", "9")
    assert beyond.returncode == 2 and "is at version 3" in beyond.stderr
    to_come = state("--as-of", "2999-01-01T00:00:00+00:00")
    assert to_come.returncode == 2 and "still to come" in to_come.stderr
    before = state("--as-of", (MONDAY - H).isoformat())
    assert before.returncode == 2 and "had not been filed" in before.stderr
