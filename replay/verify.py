"""Prove that the stored log is exactly what Docket wrote.

Three checks, each naming what it finds:

* **Chains.** Each stored event is decoded without upcasting, re-encoded (Docket
  always writes one canonical form, so other bytes were written by someone
  else), hashed, and linked to the one before it (:mod:`domain.chain`): an
  altered, removed, inserted or reordered event names its stream and version.
* **Heads.** The log-seal view remembers each stream's last version and hash;
  a stream now shorter than that lost its tail, a stream now missing lost
  everything.
* **Seals.** A running hash over the whole log in position order, sealed every
  1,000 positions: an event removed or slipped in between shows as a seal that
  no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

from domain.chain import GENESIS, ChainLink, Damage, verify_chain
from projections.kit import Tables
from projections.log_seal import HEADS, NAME, SEALS, running_hash
from projections.tracking import view_position
from replay.store import StoredAt, every_event, stream


def verify_stored_stream(events: Iterable[StoredEvent], transcoder: Transcoder) -> list[Damage]:
    damages: list[Damage] = []
    links: list[ChainLink] = []
    for stored in events:
        try:
            kind = resolve_topic(stored.topic).__qualname__
            fields = dict(transcoder.decode(stored.state))
            canonical_bytes = transcoder.encode(fields)
        except Exception as error:  # any undecodable event was not written by Docket
            damages.append(Damage(stored.originator_version, f"undecodable: {error}"))
            continue
        if canonical_bytes != stored.state:
            damages.append(Damage(stored.originator_version, "stored bytes altered"))
        class_version = fields.pop("class_version", 1)
        fields["originator_id"] = stored.originator_id
        fields["originator_version"] = stored.originator_version
        links.append(ChainLink(stored.originator_version, kind, class_version, fields))
    damages.extend(verify_chain(links))
    return sorted(damages, key=lambda d: d.version)


@dataclass(frozen=True)
class StreamDamage:
    stream_id: str
    label: str
    """``ticket T-000123``, ``account <id>``, … or the stream id when unreadable."""
    version: int
    reason: str


@dataclass
class VerifyReport:
    streams: int = 0
    events: int = 0
    damages: list[StreamDamage] = field(default_factory=list)
    seal_failures: list[str] = field(default_factory=list)
    head_hash: str = GENESIS
    head_position: int = 0
    """The running hash covers the log up to here (where the seal view has read)."""

    @property
    def ok(self) -> bool:
        return not self.damages and not self.seal_failures

    def damaged_streams(self) -> list[str]:
        return sorted({d.label for d in self.damages})


def label_of(entries: list[StoredEvent]) -> str:
    """How a person names the stream: ``ticket T-000123`` for tickets."""
    for stored in entries:
        kind = stored.topic.rpartition(":")[2]
        aggregate = kind.partition(".")[0]
        try:
            number = json.loads(stored.state).get("number")
        except ValueError:
            number = None
        if aggregate == "Ticket" and isinstance(number, str):
            return f"ticket {number}"
        return f"{aggregate.lower()} {stored.originator_id}"
    return "stream"


def _by_stream(walk: Iterator[StoredAt]) -> Iterator[list[StoredAt]]:
    current: list[StoredAt] = []
    for entry in walk:
        if current and entry.stored.originator_id != current[0].stored.originator_id:
            yield current
            current = []
        current.append(entry)
    if current:
        yield current


def verify_log(
    conn: psycopg.Connection[Any],
    schema: str,
    transcoder: Transcoder,
    *,
    only: UUID | None = None,
) -> VerifyReport:
    """Check every stream's chain (or only one), its recorded head, and the log's seals."""
    report = VerifyReport()
    t = Tables(schema)
    heads = {
        str(r[0]): (int(r[1]), str(r[2]))
        for r in conn.execute(f"SELECT stream_id, version, event_hash FROM {t(HEADS)}")
    }
    streams = (
        [stream(conn, schema, only)]
        if only
        else _by_stream(every_event(conn, schema, order="stream"))
    )
    seen: set[str] = set()
    for entries in streams:
        if not entries:
            continue
        stored = [e.stored for e in entries]
        stream_id = str(stored[0].originator_id)
        seen.add(stream_id)
        label = label_of(stored)
        report.streams += 1
        report.events += len(stored)
        for damage in verify_stored_stream(stored, transcoder):
            report.damages.append(StreamDamage(stream_id, label, damage.version, damage.reason))
        head = heads.get(stream_id)
        if head is not None and stored[-1].originator_version < head[0]:
            report.damages.append(
                StreamDamage(
                    stream_id,
                    label,
                    stored[-1].originator_version + 1,
                    f"events {stored[-1].originator_version + 1}..{head[0]} were removed "
                    "(the stream's recorded head is further)",
                )
            )
    if only is None:
        for stream_id, (version, _) in heads.items():
            if stream_id not in seen:
                report.damages.append(
                    StreamDamage(
                        stream_id, f"stream {stream_id}", 1, f"all {version} events were removed"
                    )
                )
        report.seal_failures, report.head_hash, report.head_position = check_seals(conn, schema)
    report.damages.sort(key=lambda d: (d.label, d.version))
    return report


def check_seals(conn: psycopg.Connection[Any], schema: str) -> tuple[list[str], str, int]:
    """Recompute the running hash over the log; every seal that no longer matches.

    Seals, the seal view's position and the walk are read in one snapshot, so a
    seal committed meanwhile cannot pass for damage.
    """
    if not conn.autocommit:  # already inside the caller's transaction
        return _check_seals(conn, schema)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _check_seals(conn, schema)


def _check_seals(conn: psycopg.Connection[Any], schema: str) -> tuple[list[str], str, int]:
    t = Tables(schema)
    seals = {
        int(r[0]): (int(r[1]), str(r[2]))
        for r in conn.execute(f"SELECT upto, events, running_hash FROM {t(SEALS)}")
    }
    sealed_upto = view_position(conn, schema, NAME)
    failures: list[str] = []
    head, events, last_upto = GENESIS, 0, 0

    def check(upto: int, label: str) -> None:
        expected = seals.get(upto)
        if expected is not None and expected != (events, head):
            failures.append(
                f"{label}: {expected[0]} events sealed, {events} found; the log between "
                f"positions {last_upto} and {upto} was altered (events removed or inserted)"
            )

    boundaries = sorted(u for u in seals if u > 0)
    b = 0
    for entry in every_event(conn, schema, order="position"):
        if entry.position > sealed_upto:
            break
        while b < len(boundaries) and entry.position >= boundaries[b]:
            check(boundaries[b], f"seal at {boundaries[b]}")
            last_upto = boundaries[b]
            b += 1
        try:
            digest = str(json.loads(entry.stored.state).get("event_hash"))
        except ValueError:
            digest = ""
        head = running_hash(
            head,
            entry.position,
            entry.stored.originator_id,
            entry.stored.originator_version,
            digest,
        )
        events += 1
    check(-1, "log head")
    return failures, head, sealed_upto


def verify_export(lines: Iterable[str], transcoder: Transcoder) -> list[StreamDamage]:
    """Check an exported audit trail (JSON Lines from ``replay export``) offline."""
    stored: list[StoredEvent] = []
    for line in lines:
        if line.strip():
            row = json.loads(line)
            stored.append(
                StoredEvent(
                    UUID(row["stream_id"]),
                    int(row["version"]),
                    row["topic"],
                    row["state"].encode(),
                )
            )
    if not stored:
        return [StreamDamage("", "export", 1, "the file holds no events")]
    label = label_of(stored)
    return [
        StreamDamage(str(stored[0].originator_id), label, d.version, d.reason)
        for d in verify_stored_stream(stored, transcoder)
    ]
