"""Prove that the stored log is exactly what Docket wrote, and name what is not.

Four kinds of evidence, each naming the ticket (by number when the views or the
events know it), the versions and the positions it finds damaged, and what was
done to them (edited, reordered, removed, inserted, replaced):

* **Chains.** Each stored event is decoded without upcasting, re-encoded (Docket
  always writes one canonical form, so other bytes were written by someone
  else), hashed, and linked to the one before it (:mod:`domain.chain`): an
  altered, removed, inserted or reordered event names its stream and version.
* **Heads.** The log-seal view remembers each stream's last version, hash and
  position: a stream now shorter lost its tail, a last event with another hash
  was edited (its chain recomputed) or replaced, one at another position moved,
  and a stream now missing lost everything.
* **Witness.** The audit feed recorded every event's stream, version and hash at
  its position when it read the log. Where the log no longer agrees, the
  difference says which event was edited in place, moved to another position,
  renumbered, replaced by another, removed, or slipped in.
* **Seals.** A running hash over the whole log in position order, sealed every
  1,000 positions. Each stretch between two seals is checked on its own, so a
  failure names the positions it spans; it says whether events went missing,
  were added, or (the counts equal) were changed or reordered.

A whole-log verify walks the log twice (by stream, by position); a one-ticket
verify reads that ticket's events, its head, what the feed witnessed of it, and
only the sealed stretches that hold its positions.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

from domain.chain import GENESIS, HASH_FIELD, ChainLink, Damage, verify_chain
from projections.audit_feed import FEED, STREAMS
from projections.audit_feed import NAME as FEED_VIEW
from projections.kit import Tables
from projections.log_seal import HEADS, NAME, SEALS, running_hash
from projections.ticket_detail import DETAILS
from projections.tracking import view_position
from replay.store import StoredAt, events_table, every_event, stream

RECHAINED = "; its hash chain still verifies, so the chain was recomputed to hide the edit"
POSITIONS_SHOWN = 5
"""How many positions a report line lists before it says how many more."""


def verify_stored_stream(events: Iterable[StoredEvent], transcoder: Transcoder) -> list[Damage]:
    damages: list[Damage] = []
    links: list[ChainLink] = []
    unreadable: list[int] = []
    for stored in events:
        try:
            kind = resolve_topic(stored.topic).__qualname__
            fields = dict(transcoder.decode(stored.state))
            canonical_bytes = transcoder.encode(fields)
        except Exception as error:  # any undecodable event was not written by Docket
            reason = f"undecodable stored bytes (edited): {type(error).__name__}: {error}"
            damages.append(Damage(stored.originator_version, reason[:300]))
            unreadable.append(stored.originator_version)
            continue
        if canonical_bytes != stored.state:
            damages.append(Damage(stored.originator_version, "stored bytes altered (edited)"))
        class_version = fields.pop("class_version", 1)
        fields["originator_id"] = stored.originator_id
        fields["originator_version"] = stored.originator_version
        links.append(ChainLink(stored.originator_version, kind, class_version, fields))
    damages.extend(verify_chain(links, unreadable=unreadable))
    return sorted(damages, key=lambda d: d.version)


@dataclass(frozen=True)
class StreamDamage:
    stream_id: str
    label: str
    """``ticket T-000123``, ``account <id>``, … or ``stream <id>`` when nothing names it."""
    version: int
    reason: str
    kind: str = "edited"
    """edited, reordered, removed, inserted or replaced (see :data:`domain.chain.DAMAGE_KINDS`)."""
    position: int | None = None
    """Where in the log, when the evidence says."""


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


@dataclass(frozen=True)
class Entry:
    """One event as a walk in position order sees it: the log's, or the feed's record."""

    position: int
    stream_id: str
    version: int
    digest: str


def digest_of(state: bytes) -> str:
    """The event hash a stored event records, or ``""`` when its bytes say none."""
    try:
        decoded = json.loads(state)
    except (ValueError, RecursionError):
        return ""
    value = decoded.get(HASH_FIELD) if isinstance(decoded, dict) else None
    return value if isinstance(value, str) else ""


def label_of(entries: list[StoredEvent]) -> str:
    """How a person names the stream: ``ticket T-000123`` for tickets."""
    if not entries:
        return "stream"
    aggregate = entries[0].topic.rpartition(":")[2].partition(".")[0] or "stream"
    for stored in entries:
        if not stored.topic.rpartition(":")[2].startswith("Ticket."):
            continue
        try:
            decoded = json.loads(stored.state)
        except (ValueError, RecursionError):
            continue
        number = decoded.get("number") if isinstance(decoded, dict) else None
        if isinstance(number, str):
            return f"ticket {number}"
    return f"{aggregate.lower()} {entries[0].originator_id}"


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def view_labels(conn: psycopg.Connection[Any], schema: str, streams: set[str]) -> dict[str, str]:
    """What the views (written when the events were whole) call these streams."""
    if not streams:
        return {}
    t = Tables(schema)
    ids = sorted(streams)
    found: dict[str, str] = {}
    if _exists(conn, t(FEED)):
        for stream_id, kind in conn.execute(
            f"SELECT DISTINCT ON (stream_id) stream_id::text, kind FROM {t(FEED)} "
            "WHERE stream_id = ANY(%s::uuid[]) ORDER BY stream_id, position",
            (ids,),
        ):
            found[stream_id] = f"{str(kind).partition('.')[0].lower()} {stream_id}"
    for table, query in (
        (STREAMS, "SELECT stream_id::text, ticket_number FROM {} WHERE stream_id = ANY(%s::uuid[])"
         " AND ticket_number IS NOT NULL"),
        (DETAILS, "SELECT ticket_id::text, number FROM {} WHERE ticket_id = ANY(%s::uuid[])"),
    ):  # fmt: skip
        if _exists(conn, t(table)):
            for stream_id, number in conn.execute(query.format(t(table)), (ids,)):
                found[stream_id] = f"ticket {number}"
    return found


# --- walking the log and the witness in position order -----------------------------------


def log_entries(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    lo: int = 0,
    hi: int | None = None,
    batch: int = 5000,
) -> Iterator[Entry]:
    """The log's events with positions in [lo, hi], in position order."""
    with conn.cursor(name="docket_verify_log") as cur:
        cur.itersize = batch
        cur.execute(
            f"SELECT notification_id, originator_id::text, originator_version, state "
            f"FROM {events_table(schema)} WHERE notification_id >= %s "
            "AND (%s::bigint IS NULL OR notification_id <= %s) ORDER BY notification_id",
            (lo, hi, hi),
        )
        for r in cur:
            yield Entry(int(r[0]), str(r[1]), int(r[2]), digest_of(bytes(r[3])))


def feed_entries(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    upto: int,
    lo: int = 0,
    hi: int | None = None,
    stream_id: UUID | None = None,
    batch: int = 5000,
) -> Iterator[Entry]:
    """What the audit feed recorded at each position up to ``upto`` (in [lo, hi])."""
    t = Tables(schema)
    if not _exists(conn, t(FEED)):
        return
    with conn.cursor(name="docket_verify_feed") as cur:
        cur.itersize = batch
        cur.execute(
            f"SELECT position, stream_id::text, version, event_hash FROM {t(FEED)} "
            "WHERE position >= %s AND position <= %s AND (%s::bigint IS NULL OR position <= %s) "
            "AND (%s::uuid IS NULL OR stream_id = %s) ORDER BY position",
            (lo, upto, hi, hi, stream_id, stream_id),
        )
        for r in cur:
            yield Entry(int(r[0]), str(r[1]), int(r[2]), str(r[3]))


def _positions(entries: list[Entry]) -> str:
    shown = ", ".join(str(e.position) for e in entries[:POSITIONS_SHOWN])
    more = len(entries) - POSITIONS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def witnessed(
    log: Iterable[Entry],
    feed: Iterable[Entry],
    upto: int,
    now_at: Callable[[str], dict[int, tuple[int, str]]] | None = None,
) -> list[StreamDamage]:
    """Where the log (in position order) differs from what the feed recorded up to ``upto``.

    Both walks are in position order; only the entries that differ are kept. ``now_at``
    tells where a stream's versions are stored now and their hashes (version to position
    and hash), to tell an event removed from one moved, or replaced by another of the
    same version.
    """
    found: list[StreamDamage] = []
    log_only: list[Entry] = []
    feed_only: list[Entry] = []
    by_hash: dict[tuple[str, str], Entry] = {}
    by_version: dict[tuple[str, int], Entry] = {}
    indexed = False
    feed_walk = iter(feed)
    f = next(feed_walk, None)
    for e in log:
        while f is not None and f.position < e.position:
            feed_only.append(f)
            f = next(feed_walk, None)
        if f is not None and f.position == e.position:
            if (f.stream_id, f.version) != (e.stream_id, e.version):
                log_only.append(e)
                feed_only.append(f)
            elif f.digest != e.digest:
                found.append(
                    StreamDamage(
                        e.stream_id, "", e.version,
                        f"version {e.version} at position {e.position} is not the event the "
                        "audit feed read there: its hash changed (edited)",
                        "edited", e.position,
                    )
                )  # fmt: skip
            f = next(feed_walk, None)
        elif e.position <= upto:
            log_only.append(e)
        else:  # newer than the feed: only what it saw elsewhere can tell about it
            if not indexed:
                by_hash = {(x.stream_id, x.digest): x for x in feed_only}
                by_version = {(x.stream_id, x.version): x for x in feed_only}
                indexed = True
            if (e.stream_id, e.digest) in by_hash or (e.stream_id, e.version) in by_version:
                log_only.append(e)
    while f is not None:
        feed_only.append(f)
        f = next(feed_walk, None)
    by_hash = {(x.stream_id, x.digest): x for x in feed_only}
    by_version = {(x.stream_id, x.version): x for x in feed_only}
    used: set[int] = set()
    for e in log_only:
        was = by_hash.get((e.stream_id, e.digest)) if e.digest else None
        if was is not None and was.position not in used:
            used.add(was.position)
            if was.version == e.version:
                reason = (
                    f"version {e.version} was at position {was.position}, it is now at "
                    f"position {e.position} (positions swapped or moved)"
                )
            else:
                reason = (
                    f"the event the audit feed read as version {was.version} at position "
                    f"{was.position} is now stored as version {e.version} at position "
                    f"{e.position} (renumbered)"
                )
            found.append(StreamDamage(e.stream_id, "", e.version, reason, "reordered", e.position))
            continue
        was = by_version.get((e.stream_id, e.version))
        if was is not None and was.position not in used:
            used.add(was.position)
            found.append(
                StreamDamage(
                    e.stream_id, "", e.version,
                    f"version {e.version} read by the audit feed at position {was.position} "
                    f"is gone, and another event was stored as version {e.version} at "
                    f"position {e.position} (replaced)",
                    "replaced", e.position,
                )
            )  # fmt: skip
            continue
        found.append(
            StreamDamage(
                e.stream_id, "", e.version,
                f"version {e.version} at position {e.position} was not in the log when the "
                "audit feed read that position (inserted)",
                "inserted", e.position,
            )
        )  # fmt: skip
    gone = [x for x in feed_only if x.position not in used]
    for stream_id in sorted({x.stream_id for x in gone}) if now_at else []:
        stored_at = now_at(stream_id) if now_at else {}
        for x in [x for x in gone if x.stream_id == stream_id]:
            now = stored_at.get(x.version)
            if now is None or now[0] == x.position:
                continue
            used.add(x.position)
            at = now[0]
            if now[1] == x.digest:
                reason, kind = (
                    f"version {x.version} was at position {x.position}, it is now at position "
                    f"{at} (moved: removed and stored again)",
                    "reordered",
                )
            else:
                reason, kind = (
                    f"version {x.version} read by the audit feed at position {x.position} "
                    f"was removed, and another event stored as version {x.version} at "
                    f"position {at} (replaced)",
                    "replaced",
                )
            found.append(StreamDamage(x.stream_id, "", x.version, reason, kind, at))
    found.extend(_removed([x for x in gone if x.position not in used]))
    return found


def _removed(gone: list[Entry]) -> list[StreamDamage]:
    """Removed events, one line per run of consecutive versions of a stream."""
    runs: list[list[Entry]] = []
    for e in sorted(gone, key=lambda x: (x.stream_id, x.version)):
        last = runs[-1][-1] if runs else None
        if last is not None and last.stream_id == e.stream_id and last.version + 1 == e.version:
            runs[-1].append(e)
        else:
            runs.append([e])
    out = []
    for run in runs:
        first, last = run[0], run[-1]
        versions = (
            f"version {first.version}"
            if len(run) == 1
            else f"versions {first.version}..{last.version}"
        )
        where = "position" if len(run) == 1 else "positions"
        out.append(
            StreamDamage(
                first.stream_id, "", first.version,
                f"{versions} (read by the audit feed at {where} {_positions(run)}) "
                f"{'was' if len(run) == 1 else 'were'} removed",
                "removed", first.position,
            )
        )  # fmt: skip
    return out


# --- heads -------------------------------------------------------------------------------

Head = tuple[int, str, int]
"""A stream's head as the seal view recorded it: version, event hash, position."""


def recorded_heads(
    conn: psycopg.Connection[Any], schema: str, stream_id: UUID | None = None
) -> dict[str, Head]:
    t = Tables(schema)
    if not _exists(conn, t(HEADS)):
        return {}
    rows = conn.execute(
        f"SELECT stream_id::text, version, event_hash, position FROM {t(HEADS)} "
        "WHERE %s::uuid IS NULL OR stream_id = %s",
        (stream_id, stream_id),
    )
    return {str(r[0]): (int(r[1]), str(r[2]), int(r[3])) for r in rows}


def head_damages(
    stream_id: str, entries: list[StoredAt], head: Head | None, sealed_upto: int
) -> list[StreamDamage]:
    """What the stream's recorded head says of the events now stored."""
    if head is None:
        return []
    version, digest, at = head
    if not entries:
        return [
            StreamDamage(
                stream_id, "", 1,
                f"all {version} events were removed (the log seal recorded its head at "
                f"version {version}, position {at})",
                "removed", at,
            )
        ]  # fmt: skip
    found: list[StreamDamage] = []
    last = entries[-1].stored.originator_version
    if last < version:
        found.append(
            StreamDamage(
                stream_id, "", last + 1,
                f"versions {last + 1}..{version} were removed (the log seal recorded the "
                f"stream's head at version {version}, position {at})",
                "removed", at,
            )
        )  # fmt: skip
    for entry in entries:
        v, p = entry.stored.originator_version, entry.position
        if v == version:
            now = digest_of(entry.stored.state)
            if now != digest and p == at:
                reason, kind = (
                    f"the stream's last event (version {v}, position {p}) is not the one the "
                    "log seal recorded: its hash changed, so it or an event before it was "
                    "edited",
                    "edited",
                )
            elif now != digest:
                reason, kind = (
                    f"version {v}, recorded by the log seal at position {at}, is now another "
                    f"event at position {p} (replaced)",
                    "replaced",
                )
            elif p != at:
                reason, kind = (
                    f"version {v} was at position {at}, it is now at position {p} (moved)",
                    "reordered",
                )
            else:
                continue
            found.append(StreamDamage(stream_id, "", v, reason, kind, p))
        elif v > version and p <= sealed_upto:
            found.append(
                StreamDamage(
                    stream_id, "", v,
                    f"version {v} at position {p} lies past the head the log seal recorded "
                    f"(version {version}) though the seal read that position (inserted)",
                    "inserted", p,
                )
            )  # fmt: skip
    return found


# --- seals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealStretch:
    """The stretch of positions between two seals that no longer matches."""

    k: int
    lo: int
    hi: int
    label: str
    sealed: int
    found: int

    def describe(self, blamed: list[str]) -> str:
        where = f"{self.label} (positions {self.lo}..{self.hi})"
        if self.found == self.sealed:
            what = (
                f"{self.sealed} events sealed and {self.found} found, but not the same ones: "
                "events there were edited, replaced or reordered"
            )
        elif self.found < self.sealed:
            what = (
                f"{self.sealed} events sealed, {self.found} found: "
                f"{self.sealed - self.found} removed"
            )
        else:
            what = (
                f"{self.sealed} events sealed, {self.found} found: "
                f"{self.found - self.sealed} inserted"
            )
        who = f"; damage found there: {', '.join(blamed)}" if blamed else ""
        return f"{where}: {what}{who}"


class Seals:
    """The seal view's seals, each stretch between two of them checkable on its own."""

    def __init__(self, seals: dict[int, tuple[int, str]], sealed_upto: int) -> None:
        self.seals = seals
        self.upto = sealed_upto
        self.bounds = [0, *sorted(u for u in seals if 0 < u <= sealed_upto + 1)]

    @classmethod
    def read(cls, conn: psycopg.Connection[Any], schema: str) -> Seals:
        t = Tables(schema)
        if not _exists(conn, t(SEALS)):
            return cls({}, 0)
        seals = {
            int(r[0]): (int(r[1]), str(r[2]))
            for r in conn.execute(f"SELECT upto, events, running_hash FROM {t(SEALS)}")
        }
        return cls(seals, view_position(conn, schema, NAME))

    def stretch_of(self, position: int) -> int:
        return bisect.bisect_right(self.bounds, position) - 1

    def span(self, k: int) -> tuple[int, int]:
        hi = self.bounds[k + 1] - 1 if k + 1 < len(self.bounds) else self.upto
        return self.bounds[k], hi

    def check(self, k: int, entries: Iterable[Entry]) -> SealStretch | None:
        """Stretch ``k`` recomputed from the seal that opens it; its failure, if any."""
        events, head = (0, GENESIS) if k == 0 else self.seals[self.bounds[k]]
        expected = self.seals.get(self.bounds[k + 1] if k + 1 < len(self.bounds) else -1)
        found = 0
        for e in entries:
            head = running_hash(head, e.position, e.stream_id, e.version, e.digest)
            found += 1
        if expected is None or expected == (events + found, head):
            return None
        lo, hi = self.span(k)
        label = f"seal at {self.bounds[k + 1]}" if k + 1 < len(self.bounds) else "log head"
        return SealStretch(k, lo, hi, label, expected[0] - events, found)

    def sealed(self, k: int) -> int | None:
        """How many events the seal view counted in stretch ``k``."""
        start = 0 if k == 0 else self.seals[self.bounds[k]][0]
        end = self.seals.get(self.bounds[k + 1] if k + 1 < len(self.bounds) else -1)
        return None if end is None else end[0] - start

    def witnessed_whole(
        self,
        conn: psycopg.Connection[Any],
        schema: str,
        feed_upto: int,
        stretches: Iterable[int] | None = None,
    ) -> set[int]:
        """The stretches (of ``stretches``, or all) the audit feed read whole: it holds as
        many events in each as the seal counted. Only there is the feed's word taken on
        what the log held: a feed behind, emptied or edited itself cannot make the log look
        damaged."""
        feed = Tables(schema)(FEED)
        if not self.upto or not _exists(conn, feed):
            return set()
        wanted = range(len(self.bounds)) if stretches is None else sorted(set(stretches))
        lo, hi = (self.span(min(wanted))[0], self.span(max(wanted))[1]) if wanted else (0, -1)
        counts = {
            int(r[0]) - 1: int(r[1])
            for r in conn.execute(
                f"SELECT width_bucket(position, %s::bigint[]), count(*) FROM {feed} "
                "WHERE position <= %s AND position BETWEEN %s AND %s GROUP BY 1",
                (self.bounds, min(feed_upto, self.upto), lo, hi),
            )
        }
        return {
            k
            for k in wanted
            if self.span(k)[1] <= feed_upto and counts.get(k, 0) == self.sealed(k)
        }

    def keep(
        self, damages: list[StreamDamage], whole: set[int], failed: set[int]
    ) -> list[StreamDamage]:
        """The feed's findings where the seals say the log changed and the feed read it
        whole, or past what the seals cover."""

        def seen(k: int) -> bool:
            return k in failed and k in whole

        return [
            d
            for d in damages
            if d.position is None or d.position > self.upto or seen(self.stretch_of(d.position))
        ]

    def head(self) -> str:
        return self.seals.get(-1, (0, GENESIS))[1]


# --- the whole log, or one ticket --------------------------------------------------------


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
    """Check every stream (or only one): its chain, its recorded head, what the audit feed
    witnessed of it, and the log's seals (for one stream, the stretches that hold it).

    Everything is read in one snapshot, so events written meanwhile cannot pass for damage.
    """
    if not conn.autocommit:  # already inside the caller's transaction
        return _verify(conn, schema, transcoder, only)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify(conn, schema, transcoder, only)


def _verify(
    conn: psycopg.Connection[Any], schema: str, transcoder: Transcoder, only: UUID | None
) -> VerifyReport:
    report = VerifyReport()
    seals = Seals.read(conn, schema)
    feed_upto = (
        view_position(conn, schema, FEED_VIEW) if _exists(conn, Tables(schema)(FEED)) else 0
    )
    heads = recorded_heads(conn, schema, only)
    labels: dict[str, str] = {}
    found: list[StreamDamage] = []
    chained: set[str] = set()
    """Streams whose own chain fails."""
    streams = (
        [stream(conn, schema, only)]
        if only
        else _by_stream(every_event(conn, schema, order="stream"))
    )
    seen: set[str] = set()
    for entries in streams:
        stored = [e.stored for e in entries]
        stream_id = str(stored[0].originator_id) if stored else str(only)
        seen.add(stream_id)
        if stored:
            labels[stream_id] = label_of(stored)
            report.streams += 1
            report.events += len(stored)
        positions = {e.stored.originator_version: e.position for e in entries}
        for damage in verify_stored_stream(stored, transcoder):
            chained.add(stream_id)
            found.append(
                StreamDamage(stream_id, "", damage.version, damage.reason, damage.kind,
                             positions.get(damage.version))
            )  # fmt: skip
        found.extend(head_damages(stream_id, entries, heads.get(stream_id), seals.upto))
    if only is None:
        for stream_id, head in heads.items():
            if stream_id not in seen:
                found.extend(head_damages(stream_id, [], head, seals.upto))
        more, failures = _walk_positions(conn, schema, seals, feed_upto)
    else:
        more, failures = _one_stream(conn, schema, seals, feed_upto, only, found)
    found = [  # the witness first: it names positions
        replace(d, reason=d.reason + RECHAINED)
        if d.kind == "edited" and d.stream_id not in chained
        else d
        for d in more + found
    ]
    report.head_hash, report.head_position = seals.head(), seals.upto
    named = view_labels(conn, schema, {d.stream_id for d in found})
    report.damages = sorted(
        _distinct(
            replace(d, label=named.get(d.stream_id) or labels.get(d.stream_id)
                    or f"stream {d.stream_id}")
            for d in found
        ),
        key=lambda d: (d.label, d.version, d.kind),
    )  # fmt: skip
    report.seal_failures = [_describe(s, report.damages) for s in failures]
    return report


def _distinct(damages: Iterable[StreamDamage]) -> list[StreamDamage]:
    """One line per stream, version and kind of damage, saying what each evidence found."""
    kept: dict[tuple[str, int, str], StreamDamage] = {}
    for d in damages:
        key = (d.stream_id, d.version, d.kind)
        first = kept.get(key)
        if first is None:
            kept[key] = d
        elif d.reason not in first.reason:
            kept[key] = replace(
                first,
                reason=f"{first.reason}; {d.reason}",
                position=first.position if first.position is not None else d.position,
            )
    return list(kept.values())


def _describe(stretch: SealStretch, damages: list[StreamDamage]) -> str:
    blamed = sorted(
        {
            f"{d.label} version {d.version} ({d.kind})"
            for d in damages
            if d.position is not None and stretch.lo <= d.position <= stretch.hi
        }
    )
    return stretch.describe(blamed)


def _walk_positions(
    conn: psycopg.Connection[Any],
    schema: str,
    seals: Seals,
    feed_upto: int,
) -> tuple[list[StreamDamage], list[SealStretch]]:
    """The whole log in position order: each sealed stretch, the witness, versions in order."""
    found: list[StreamDamage] = []
    last_seen: dict[str, tuple[int, int]] = {}
    stretch: list[Entry] = []
    k = 0
    failures: list[SealStretch] = []

    def close_until(target: int) -> None:
        nonlocal k, stretch
        while k < target:
            failure = seals.check(k, stretch)
            if failure is not None:
                failures.append(failure)
            stretch = []
            k += 1

    def walk() -> Iterator[Entry]:
        for e in log_entries(conn, schema):
            before = last_seen.get(e.stream_id)
            if before is not None and before[0] >= e.version:
                found.append(
                    StreamDamage(
                        e.stream_id, "", e.version,
                        f"version {e.version} is stored at position {e.position}, after "
                        f"version {before[0]} at position {before[1]} (positions reordered)",
                        "reordered", e.position,
                    )
                )  # fmt: skip
            last_seen[e.stream_id] = (e.version, e.position)
            if e.position <= seals.upto:
                close_until(seals.stretch_of(e.position))
                stretch.append(e)
            yield e

    said = witnessed(
        walk(), feed_entries(conn, schema, upto=feed_upto), feed_upto, _now_at(conn, schema)
    )
    if seals.upto:
        close_until(len(seals.bounds))
    whole = seals.witnessed_whole(conn, schema, feed_upto)
    return found + seals.keep(said, whole, {f.k for f in failures}), failures


def _now_at(
    conn: psycopg.Connection[Any], schema: str
) -> Callable[[str], dict[int, tuple[int, str]]]:
    def versions(stream_id: str) -> dict[int, tuple[int, str]]:
        rows = conn.execute(
            f"SELECT originator_version, notification_id, state FROM {events_table(schema)} "
            "WHERE originator_id = %s",
            (UUID(stream_id),),
        )
        return {int(r[0]): (int(r[1]), digest_of(bytes(r[2]))) for r in rows}

    return versions


def _one_stream(
    conn: psycopg.Connection[Any],
    schema: str,
    seals: Seals,
    feed_upto: int,
    stream_id: UUID,
    found: list[StreamDamage],
) -> tuple[list[StreamDamage], list[SealStretch]]:
    """What the witness says of one stream, and the sealed stretches that hold it."""
    mine = sorted(
        (
            Entry(
                e.position, str(stream_id), e.stored.originator_version, digest_of(e.stored.state)
            )
            for e in stream(conn, schema, stream_id)
        ),
        key=lambda e: e.position,
    )
    witness = list(feed_entries(conn, schema, upto=feed_upto, stream_id=stream_id))
    said = witnessed(
        mine, witness, feed_upto, lambda _: {e.version: (e.position, e.digest) for e in mine}
    )
    positions = {e.position for e in mine + witness} | {
        d.position for d in found + said if d.position is not None
    }
    stretches = sorted({seals.stretch_of(p) for p in positions if 0 < p <= seals.upto})
    failing: list[SealStretch] = []
    for k in stretches:
        lo, hi = seals.span(k)
        failure = seals.check(k, log_entries(conn, schema, lo=lo, hi=hi))
        if failure is not None:
            failing.append(failure)
    whole = seals.witnessed_whole(conn, schema, feed_upto, (f.k for f in failing))
    more = seals.keep(said, whole, {f.k for f in failing})
    damages = found + more
    failures: list[SealStretch] = []
    for failure in failing:
        if any(d.position is not None and failure.lo <= d.position <= failure.hi for d in damages):
            failures.append(failure)
            continue
        if failure.k in whole:  # not this ticket's own evidence: another stream's damage?
            around = witnessed(
                log_entries(conn, schema, lo=failure.lo, hi=failure.hi),
                feed_entries(conn, schema, upto=feed_upto, lo=failure.lo, hi=failure.hi),
                min(feed_upto, failure.hi),
            )
            if any(d.stream_id != str(stream_id) for d in around):
                continue
        failures.append(failure)
    return more, failures


def verify_export(lines: Iterable[str], transcoder: Transcoder) -> list[StreamDamage]:
    """Check an exported audit trail (JSON Lines from ``replay export``) offline."""
    stored: list[StoredEvent] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            stored.append(
                StoredEvent(
                    UUID(row["stream_id"]),
                    int(row["version"]),
                    str(row["topic"]),
                    str(row["state"]).encode(),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            return [StreamDamage("", "export", n, f"line {n} is not an exported event: {error}")]
    if not stored:
        return [StreamDamage("", "export", 1, "the file holds no events")]
    label = label_of(stored)
    return [
        StreamDamage(str(stored[0].originator_id), label, d.version, d.reason, d.kind)
        for d in verify_stored_stream(stored, transcoder)
    ]
