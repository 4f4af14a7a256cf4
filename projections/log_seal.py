"""The log seal: each stream's head and a running hash over the whole log.

Every ticket stream is hash-chained on its own, but a chain cannot tell that
its *last* events were deleted, nor that a whole stream was. This view
remembers, for every stream, the version and hash of its latest event, and
keeps a running SHA-256 over every event of the log in position order, sealed
at each multiple of :data:`SEAL_EVERY` positions and at the current head.
``replay verify`` recomputes both from the stored events: a removed tail shows
as a stream shorter than its recorded head, a removed or inserted event as a
seal that no longer matches.

Seals are deterministic: a seal at ``k * SEAL_EVERY`` covers exactly the events
below that position, however the runner batched them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from domain.chain import GENESIS
from projections.audit_feed import EVERY_EVENT
from projections.kit import Fact, Tables, View
from store.bulk import copy_rows, upsert_rows

NAME = "log_seal"
HEADS = "log_stream_heads"
SEALS = "log_seals"
SEAL_EVERY = 1000


def running_hash(
    previous: str, position: int, stream_id: object, version: int, digest: str
) -> str:
    link = f"{previous}|{position}|{stream_id}|{version}|{digest}"
    return hashlib.sha256(link.encode()).hexdigest()


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    t.create(
        conn,
        {
            HEADS: """
                stream_id uuid PRIMARY KEY,
                version integer NOT NULL,
                event_hash text NOT NULL,
                position bigint NOT NULL
            """,
            SEALS: """
                upto bigint PRIMARY KEY,
                events bigint NOT NULL,
                running_hash text NOT NULL
            """,
        },
    )
    # the head: everything folded so far, under the key -1
    conn.execute(
        f"INSERT INTO {t(SEALS)} (upto, events, running_hash) VALUES (-1, 0, %s) "
        "ON CONFLICT (upto) DO NOTHING",
        (GENESIS,),
    )


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    row = conn.execute(
        f"SELECT events, running_hash FROM {t(SEALS)} WHERE upto = -1 FOR UPDATE"
    ).fetchone()
    assert row is not None
    events, head = int(row[0]), str(row[1])
    last_position = conn.execute(f"SELECT coalesce(max(position), 0) FROM {t(HEADS)}").fetchone()
    previous = int(last_position[0]) if last_position else 0
    seals = []
    heads: dict[Any, tuple[int, str, int]] = {}
    for fact in facts:
        for boundary in range(
            (previous // SEAL_EVERY + 1) * SEAL_EVERY, fact.position + 1, SEAL_EVERY
        ):
            seals.append((boundary, events, head))
        digest = fact.event.event_hash
        head = running_hash(head, fact.position, fact.stream_id, fact.version, digest)
        events += 1
        heads[fact.stream_id] = (fact.version, digest, fact.position)
        previous = fact.position
    with conn.cursor() as cur:
        if seals:
            copy_rows(cur, t(SEALS), ("upto", "events", "running_hash"), seals)
        upsert_rows(
            cur,
            t(HEADS),
            ("stream_id", "version", "event_hash", "position"),
            [(stream, *values) for stream, values in heads.items()],
            "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
            "event_hash = excluded.event_hash, position = excluded.position",
        )
        cur.execute(
            f"UPDATE {t(SEALS)} SET events = %s, running_hash = %s WHERE upto = -1",
            (events, head),
        )


def head_of(conn: psycopg.Connection[Any], t: Tables, stream_id: Any) -> tuple[int, str] | None:
    """The version and hash of the stream's last event as this view recorded it, if it has."""
    try:
        with conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute(
                f"SELECT version, event_hash FROM {t(HEADS)} WHERE stream_id = %s",
                (stream_id,),
                prepare=True,
            ).fetchone()
    except psycopg.errors.UndefinedTable:  # the views were never set up here
        return None
    return None if row is None else (int(row[0]), str(row[1]))


# shape 2: seals count every kind of event (the policy book's and articles' were missed)
VIEW = View(NAME, EVERY_EVENT, create_tables, apply, (HEADS, SEALS), shape=2)
