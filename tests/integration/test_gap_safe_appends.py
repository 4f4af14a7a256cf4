"""Appends scale with writers, and a follower of the log never skips an event.

Several recorders stand for several processes writing one events table; each
sleeps a random while inside its append transaction, so commits finish in a
different order from the one their ids were drawn in unless the recorder keeps
them in order. A follower tails the log the whole time, exactly as projections
do ("give me what comes after the last position I saw").
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore

from store.database import connection_kwargs
from store.eventstore import GroupCommitRecorder
from tests.builders import write_while_following

WRITERS_PER_RECORDER = 4
RECORDERS = 3
SAVES_PER_WRITER = 60


def make_recorder(database_url: str, schema: str) -> GroupCommitRecorder:
    kw = connection_kwargs(database_url)
    datastore = PostgresDatastore(
        kw["dbname"], kw["host"], kw["port"], kw["user"], kw["password"],
        schema=schema, pool_size=WRITERS_PER_RECORDER, max_overflow=2,
    )  # fmt: skip
    recorder = GroupCommitRecorder(datastore, events_table_name="docket_events")
    recorder.create_table()
    return recorder


@pytest.fixture
def recorders(database_url: str, schema: str) -> Iterator[list[GroupCommitRecorder]]:
    made = [make_recorder(database_url, schema) for _ in range(RECORDERS)]
    yield made
    for r in made:
        r.datastore.close()


def events_for_one_save() -> list[StoredEvent]:
    aggregate = uuid4()
    return [
        StoredEvent(originator_id=aggregate, originator_version=v, topic="t:T", state=b"{}")
        for v in range(1, random.randint(1, 3) + 1)
    ]


def test_a_follower_sees_exactly_the_committed_events_while_writers_race(
    database_url: str,
    recorders: list[GroupCommitRecorder],
) -> None:
    for recorder in recorders:
        recorder.inside_transaction = lambda: time.sleep(random.random() * 0.004)
    acknowledged: list[int] = []
    ack_lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    seen: list[int] = []
    follower_error: list[BaseException] = []

    def write(recorder: GroupCommitRecorder) -> None:
        for _ in range(SAVES_PER_WRITER):
            time.sleep(random.random() * 0.002)
            ids = recorder.insert_events(events_for_one_save())
            with ack_lock:
                acknowledged.extend(ids)

    def follow() -> None:
        try:
            position = 0
            while True:
                still_writing = writing.is_set()
                batch = recorders[0].select_notifications(
                    start=position, limit=50, inclusive_of_start=False
                )
                seen.extend(n.id for n in batch)
                if batch:
                    position = batch[-1].id
                elif not still_writing:
                    return
        except BaseException as error:  # pragma: no cover - reported below
            follower_error.append(error)

    follower = threading.Thread(target=follow)
    writers = [
        threading.Thread(target=write, args=(r,))
        for r in recorders
        for _ in range(WRITERS_PER_RECORDER)
    ]
    write_while_following(follower, writers, writing)

    assert not follower_error
    with psycopg.connect(database_url) as conn:
        stored = [
            row[0]
            for row in conn.execute(
                f'SELECT notification_id FROM "{recorders[0].datastore.schema}".docket_events '
                "ORDER BY notification_id"
            )
        ]
    assert len(seen) == len(set(seen)), "the follower saw an event twice"
    assert seen == stored, "the follower skipped an event or saw one out of order"
    assert sorted(acknowledged) == stored, "an acknowledged append is missing"
    assert len(stored) >= RECORDERS * WRITERS_PER_RECORDER * SAVES_PER_WRITER


def test_a_second_writer_waits_while_the_first_holds_uncommitted_ids(
    recorders: list[GroupCommitRecorder],
) -> None:
    first, second, follower = recorders
    release = threading.Event()
    inside = threading.Event()

    def hold() -> None:
        inside.set()
        release.wait(timeout=10)

    first.inside_transaction = hold
    results: dict[str, list[int]] = {}
    t1 = threading.Thread(
        target=lambda: results.update(a=list(first.insert_events(events_for_one_save())))
    )
    t1.start()
    assert inside.wait(timeout=10)
    t2 = threading.Thread(
        target=lambda: results.update(b=list(second.insert_events(events_for_one_save())))
    )
    t2.start()
    time.sleep(0.3)
    assert "b" not in results, "the second append committed while the first held smaller ids"
    assert follower.select_notifications(start=0, limit=10, inclusive_of_start=False) == []
    release.set()
    t1.join()
    t2.join()
    assert max(results["a"]) < min(results["b"])
    seen = [
        n.id for n in follower.select_notifications(start=0, limit=10, inclusive_of_start=False)
    ]
    assert seen == results["a"] + results["b"]


def test_without_the_lock_a_plain_insert_lets_a_follower_skip_an_event(
    database_url: str, recorders: list[GroupCommitRecorder]
) -> None:
    """The hazard the recorder exists to prevent, shown with two raw connections."""
    table = f'"{recorders[0].datastore.schema}".docket_events'
    insert = (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, 't:T', '') RETURNING notification_id"
    )
    with psycopg.connect(database_url) as slow, psycopg.connect(database_url) as fast:
        slow_id = slow.execute(insert, (uuid4(),)).fetchone()
        fast_id = fast.execute(insert, (uuid4(),)).fetchone()
        fast.commit()
        assert slow_id is not None and fast_id is not None and slow_id[0] < fast_id[0]
        follower = recorders[0]
        first_read = follower.select_notifications(start=0, limit=10, inclusive_of_start=False)
        position = first_read[-1].id
        slow.commit()
        after = follower.select_notifications(start=position, limit=10, inclusive_of_start=False)
        assert [n.id for n in first_read] == [fast_id[0]]
        assert after == [], "the slow transaction's event is behind the follower for ever"
