"""The ticket cache (desk/ticket_cache.py) never lets a write stand on a stale fold: two
real processes writing one cached ticket lose nothing and read each other's writes, a fold
overtaken between reading and saving is refreshed and decided again, and damage to events
a process proved before is still refused."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.queues import Queue
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.utils import resolve_topic

from api.settings import Settings
from desk.service import SupportDesk
from domain.errors import (
    InvalidField,
    NotAMember,
    StatusUnchanged,
    TicketDamaged,
    VersionMismatch,
)
from domain.ticket import Ticket
from projections.runner import ProjectionRunner
from replay.store import stream
from replay.verify import verify_log
from store.eventstore import docket_mapper
from tests.builders import (
    SYNC_FAILS,
    admin,
    agent,
    desk_with_account,
    field_data,
    file,
    later,
    requester,
    system,
)

MAPPER = docket_mapper()
ROUNDS = 8
RACED = 24


def messages(conn: psycopg.Connection[Any], schema: str, ticket: UUID) -> dict[int, str]:
    """Each MessageAdded of the stream, by version: its body."""
    found = {}
    for entry in stream(conn, schema, ticket):
        if resolve_topic(entry.stored.topic) is Ticket.MessageAdded:
            event = MAPPER.to_domain_event(entry.stored)
            assert isinstance(event, Ticket.MessageAdded)
            found[entry.stored.originator_version] = event.body
    return found


def writer(env: dict[str, str], ticket: UUID, name: str, orders: Queue[Any],
           answers: Queue[Any]) -> None:  # fmt: skip
    """One process's desk: reads and writes ``ticket`` as the test orders, answering what
    it read and what each write was acknowledged as."""
    desk = SupportDesk(env)
    n = 0

    def reply_on_what_i_read() -> tuple[int, int]:
        nonlocal n
        while True:
            seen = desk.ticket_facts(ticket).version
            n += 1
            try:
                receipt = desk.add_message(ticket, author_id="agent-1", author_role="agent",
                                           body=f"{name} {n} on v{seen}",
                                           stamp=agent(later(days=1)), expected_version=seen)  # fmt: skip
            except VersionMismatch:
                continue  # the other process wrote since: read again
            return seen, receipt.version

    while True:
        order = orders.get(timeout=120)
        if order[0] == "turn":
            answers.put(reply_on_what_i_read())
        elif order[0] == "race":
            acknowledged = []
            for i in range(order[1]):
                if i % 2:  # no If-Match: the desk decides again itself on a lost race
                    n += 1
                    body = f"{name} {n} plain"
                    receipt = desk.add_message(ticket, author_id="agent-1", author_role="agent",
                                               body=body, stamp=agent(later(days=2)))  # fmt: skip
                    acknowledged.append((receipt.version, body))
                else:
                    seen, version = reply_on_what_i_read()
                    acknowledged.append((version, f"{name} {n} on v{seen}"))
            answers.put(acknowledged)
        else:
            answers.put(desk.ticket_cache.hits)
            desk.close()
            return


def test_two_processes_writing_one_cached_ticket_lose_nothing_and_read_each_others_writes(
    desk: SupportDesk,
    pg_env: dict[str, str],
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    schema: str,
) -> None:
    ticket = file(desk, desk_with_account(desk)).ticket_id
    for n in range(30):  # a history worth caching
        desk.add_message(ticket, author_id="agent-1", author_role="agent", body=f"early {n}",
                         stamp=agent(later(hours=n)))  # fmt: skip
    runner.catch_up()
    spawn = multiprocessing.get_context("spawn")
    answers: Queue[Any] = spawn.Queue()
    orders: dict[str, Queue[Any]] = {name: spawn.Queue() for name in "AB"}
    processes = [
        spawn.Process(target=writer, args=(pg_env, ticket, name, orders[name], answers))
        for name in "AB"
    ]
    for p in processes:
        p.start()
    try:
        version = desk.ticket_facts(ticket).version
        for _ in range(ROUNDS):  # alternately: each reads what the other just wrote
            for name in "AB":
                orders[name].put(("turn",))
                seen, version_now = answers.get(timeout=120)
                assert seen == version, f"{name} read v{seen} after v{version} was written"
                assert version_now == version + 1
                version = version_now
        for name in "AB":  # and at once
            orders[name].put(("race", RACED))
        acknowledged = answers.get(timeout=120) + answers.get(timeout=120)
        for name in "AB":
            orders[name].put(("stop",))
        hits = [answers.get(timeout=120) for _ in "AB"]
    finally:
        for p in processes:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in processes)
    assert all(h >= ROUNDS + RACED for h in hits), (
        f"the writers' folds came from the cache: {hits}"
    )
    stored = messages(conn, schema, ticket)
    # no acknowledged write lost, none written twice
    assert len(acknowledged) == 2 * RACED
    assert len({v for v, _ in acknowledged}) == len(acknowledged)
    for version, body in acknowledged:
        assert stored[version] == body
    # every write with If-Match was decided on the fold of exactly the versions before it
    for version, body in stored.items():
        if " on v" in body:
            assert body.endswith(f" on v{version - 1}"), (version, body)
    assert len(stored) == 30 + 2 * ROUNDS + 2 * RACED
    last = stream(conn, schema, ticket)[-1].stored.originator_version
    assert desk.ticket_facts(ticket).version == last
    runner.catch_up()
    report = verify_log(conn, schema, MAPPER.transcoder, only=ticket)
    assert report.ok, report.damages


def test_a_cached_ticket_overtaken_before_its_save_is_folded_again_and_decided_again(
    desk: SupportDesk, pg_env: dict[str, str], conn: psycopg.Connection[Any], schema: str
) -> None:
    other = SupportDesk(pg_env)  # another process's desk, on the same store
    ticket = file(desk, desk_with_account(desk)).ticket_id
    desk.add_message(ticket, author_id="agent-1", author_role="agent", body="cached",
                     stamp=agent(later(hours=1)))  # fmt: skip
    seen: list[tuple[int, int]] = []

    def overtaken_once(t: Ticket) -> None:
        seen.append((t.version, t.message_count))
        if len(seen) == 1:  # between this desk's fold and its save, the other writes
            other.add_message(ticket, author_id="agent-2", author_role="agent", body="first",
                              stamp=agent(later(hours=2), who="agent-2"))  # fmt: skip
        t.add_message(author_id="agent-1", author_role="agent", body=f"after {t.message_count}",
                      attachments=[], stamp=agent(later(hours=3)))  # fmt: skip

    receipt = desk._change(ticket, None, overtaken_once, agent(later(hours=3)))
    assert seen == [(2, 2), (3, 3)]  # the second decision saw the other's message
    assert receipt.version == 4
    assert messages(conn, schema, ticket) == {2: "cached", 3: "first", 4: "after 3"}
    # with If-Match the overtaken write is refused, naming the version there is now
    with pytest.raises(VersionMismatch) as refused:
        desk._change(ticket, 4, overtaken_once_more(other, ticket), agent(later(hours=4)))
    assert (refused.value.expected, refused.value.actual) == (4, 5)
    assert len(stream(conn, schema, ticket)) == 5
    fresh = SupportDesk({**pg_env, "TICKET_CACHE_MAXSIZE": "0"})
    assert vars(desk._ticket(ticket)) == vars(fresh._ticket(ticket))
    other.close()
    fresh.close()


def overtaken_once_more(other: SupportDesk, ticket: UUID) -> Any:
    def command(t: Ticket) -> None:
        other.add_message(ticket, author_id="agent-2", author_role="agent", body="again",
                          stamp=agent(later(hours=4), who="agent-2"))  # fmt: skip
        t.add_internal_note(author_id="agent-1", body="never saved", stamp=agent(later(hours=4)))

    return command


def test_a_command_refused_midway_leaves_the_cached_ticket_as_stored(
    desk: SupportDesk, pg_env: dict[str, str]
) -> None:
    ticket = file(desk, desk_with_account(desk)).ticket_id
    desk.ticket_facts(ticket)  # folded and kept

    def refused_after_a_change(t: Ticket) -> None:
        t.add_internal_note(author_id="agent-1", body="not kept", stamp=agent(later(hours=1)))
        t.change_status(to_status="open", stamp=agent(later(hours=1)))  # already open: refused

    with pytest.raises(StatusUnchanged):
        desk._change(ticket, None, refused_after_a_change, agent(later(hours=1)))
    assert desk.ticket_facts(ticket).version == 1
    receipt = desk.add_message(ticket, author_id="agent-1", author_role="agent", body="next",
                               stamp=agent(later(hours=2)))  # fmt: skip
    assert receipt.version == 2
    fresh = SupportDesk({**pg_env, "TICKET_CACHE_MAXSIZE": "0"})
    assert vars(desk._ticket(ticket)) == vars(fresh._ticket(ticket))
    fresh.close()


def test_a_ticket_folded_from_the_cache_equals_one_folded_from_its_first_event(
    desk: SupportDesk, pg_env: dict[str, str]
) -> None:
    ticket = file(desk, desk_with_account(desk)).ticket_id
    at = agent(later(hours=1))
    steps: list[Callable[[], object]] = [
        lambda: desk.add_internal_note(ticket, author_id="agent-1", body="n", stamp=at),
        lambda: desk.change_priority(ticket, to_priority="high", stamp=at),
        lambda: desk.change_tags(ticket, add=["sync", "ios"], stamp=at),
        lambda: desk.change_status(ticket, to_status="pending", stamp=at),
        lambda: desk.add_message(ticket, author_id="req-1", author_role="requester", body="r",
                                 stamp=requester(later(hours=2))),
        lambda: desk.change_status(ticket, to_status="closed", stamp=agent(later(hours=3))),
        lambda: desk.reopen(ticket, stamp=requester(later(hours=4))),
        lambda: desk.change_tags(ticket, remove=["ios"], stamp=agent(later(hours=5))),
    ]  # fmt: skip
    fresh = SupportDesk({**pg_env, "TICKET_CACHE_MAXSIZE": "0"})
    for step in steps:
        step()
        assert vars(desk._ticket(ticket)) == vars(fresh._ticket(ticket))
    assert desk.ticket_cache.hits >= len(steps)
    fresh.close()


def test_an_event_this_process_proved_and_kept_folded_is_still_refused_once_edited(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    ticket = file(desk, desk_with_account(desk)).ticket_id
    for n in range(3):
        desk.add_message(ticket, author_id="agent-1", author_role="agent", body=f"reply {n}",
                         stamp=agent(later(hours=n)))  # fmt: skip
    runner.catch_up()
    desk.ticket_facts(ticket)
    assert desk.ticket_cache.get(ticket) is not None
    conn.execute(
        f'UPDATE "{schema}".docket_events SET state = convert_to(replace(convert_from(state, '
        "'UTF8'), 'reply 0', 'reply X'), 'UTF8') "
        "WHERE originator_id = %s AND originator_version = 2",
        (ticket,),
    )
    with pytest.raises(TicketDamaged) as refused:
        desk.add_message(ticket, author_id="agent-1", author_role="agent", body="more",
                         stamp=agent(later(days=1)))  # fmt: skip
    assert "version 2" in refused.value.detail
    assert len(stream(conn, schema, ticket)) == 4


def test_a_member_removed_by_another_process_files_nothing_more_from_this_one(
    desk: SupportDesk, pg_env: dict[str, str]
) -> None:
    """Accounts are not kept folded: a removal elsewhere holds at this desk's next filing."""
    account = desk_with_account(desk)
    file(desk, account)
    other = SupportDesk(pg_env)
    other.remove_member(account, member_id="req-1", stamp=system(later(hours=1)))
    with pytest.raises(NotAMember):
        file(desk, account, at=later(hours=2))
    other.close()


def test_the_setting_says_how_many_tickets_a_serving_desk_keeps_folded(
    database_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.runtime import desk_env
    from api.settings import Settings

    monkeypatch.setenv("DOCKET_TICKET_CACHE_MAXSIZE", "7")
    monkeypatch.setenv("DOCKET_SCHEMA", schema)
    desk = SupportDesk(desk_env(Settings(), database_url, pool_size=1))
    try:
        assert desk.ticket_cache.maxsize == 7
    finally:
        desk.close()
    monkeypatch.setenv("DOCKET_TICKET_CACHE_MAXSIZE", "0")
    off = SupportDesk(desk_env(Settings(), database_url, pool_size=1))
    try:
        assert off.ticket_cache.maxsize == 0
    finally:
        off.close()


@pytest.fixture
def serving_env(pg_env: dict[str, str]) -> dict[str, str]:
    """A desk's settings as ``docket serve`` builds them: its other aggregates kept folded."""
    return {
        **pg_env,
        "AGGREGATE_CACHE_MAXSIZE": str(Settings().aggregate_cache_maxsize),
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }


def test_an_account_and_a_field_book_kept_folded_see_another_process_change_them(
    serving_env: dict[str, str],
) -> None:
    """The account and the custom-field book a filing reads are kept folded by a serving
    desk, and fast-forwarded on each read: a field made required and a member removed by
    another desk hold at this desk's next filing."""
    here, there = SupportDesk(serving_env), SupportDesk(serving_env)
    try:
        account = desk_with_account(here)
        file(here, account)  # folds the account and the books into this desk's cache
        file(here, account, at=later(hours=0.1))
        assert here.repository.cache is not None and here.repository.cache.get(account)
        there.define_ticket_field(data=field_data(required=True), stamp=admin())
        with pytest.raises(InvalidField):
            here.file_ticket(
                account_id=account, requester_id="req-1", **SYNC_FAILS,
                stamp=requester(later(hours=0.2)), custom_fields={},
            )  # fmt: skip
        filed = here.file_ticket(
            account_id=account, requester_id="req-1", **SYNC_FAILS,
            stamp=requester(later(hours=0.3)), custom_fields={"os": "linux"},
        )  # fmt: skip
        assert filed.number
        there.remove_member(account, member_id="req-1", stamp=system(later(hours=1)))
        with pytest.raises(NotAMember):
            file(here, account, at=later(hours=2))
    finally:
        here.close()
        there.close()


def reads_while_written(reader: SupportDesk, writer: SupportDesk, seconds: float) -> Counter[str]:
    """What went wrong while four threads read an account through ``reader`` that
    ``writer`` keeps adding members to (nothing, if the cache is safe for threads)."""
    account = writer.open_account(
        name="Acme", plan="business", seats=100_000, stamp=system()
    ).account_id
    stop = time.monotonic() + seconds
    failures: Counter[str] = Counter()

    def add() -> None:
        n = 0
        while time.monotonic() < stop:
            writer.add_member(account, member_id=f"m{n}", email=f"m{n}@example.com",
                              name="M", role="member", stamp=system())  # fmt: skip
            n += 1

    def read() -> None:
        while time.monotonic() < stop:
            try:
                reader._account(account)
            except Exception as error:
                failures[type(error).__name__] += 1

    switching = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)  # threads interleave often, as on a busy server
    try:
        threads = [threading.Thread(target=add)] + [
            threading.Thread(target=read) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    return failures


def test_threads_reading_a_kept_account_while_it_changes_never_fail(
    serving_env: dict[str, str],
) -> None:
    """The API's threads share the desk: a cached aggregate is folded forward on a copy,
    never in place under a thread copying it (eventsourcing's own cache did that)."""
    here, there = SupportDesk(serving_env), SupportDesk(serving_env)
    try:
        assert reads_while_written(here, there, seconds=4) == Counter()
    finally:
        here.close()
        there.close()
