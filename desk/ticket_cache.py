"""Tickets kept folded in this process, so a write folds only what was written since.

An entry is a ticket as folded from its stored events ``1..version`` once they were
proved whole, with what proving the next ones needs: each version's ``event_hash`` (the
chain and the log seal's head link to them) and the digest of the identities of the
stored rows of those versions (:class:`store.stream_tail.RowsDigest`), which tells
whether they are still the rows that were proved. An entry is only ever made by folding
stored events, never from an aggregate a command changed, and is never handed out: the
desk folds the events written since onto a copy (:meth:`desk.core.DeskCore._ticket`).

Nothing here needs invalidating when another process writes: a stream only grows, so an
entry at version ``v`` stays a true prefix, and every read fetches what lies past it. A
decision made on a fold that another writer overtook meanwhile is refused by the append
itself (the stream's version is taken), and decided again on a fresh fold.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from domain.ticket import Ticket
from store.stream_tail import RowsDigest

DEFAULT_MAXSIZE = 2_000
"""Tickets kept folded per process unless ``DOCKET_TICKET_CACHE_MAXSIZE`` says otherwise
(0 keeps none); the least recently used goes first."""


@dataclass(frozen=True)
class Folded:
    ticket: Ticket
    """The ticket after its first ``version`` events; nobody changes it."""
    hashes: bytes
    """``event_hash`` of each version, 1 first, as 32 bytes each (a 500-event ticket's
    take 16 kB, a ticket's own state about 6 kB)."""
    rows: RowsDigest
    """What :func:`store.stream_tail.read_tail` answers for these versions, unchanged."""

    @property
    def version(self) -> int:
        return len(self.hashes) // 32

    def hash_at(self, version: int) -> str:
        return self.hashes[32 * (version - 1) : 32 * version].hex()

    def then(self, ticket: Ticket, hashes: Sequence[str], identities: Sequence[str]) -> Folded:
        """This entry with the events of these hashes and row identities folded on."""
        more = b"".join(bytes.fromhex(h) for h in hashes)
        return Folded(ticket, self.hashes + more, self.rows.extended(identities))

    @classmethod
    def first(cls, ticket: Ticket, hashes: Sequence[str], identities: Sequence[str]) -> Folded:
        return Folded(ticket, b"", RowsDigest()).then(ticket, hashes, identities)


class TicketCache:
    """At most ``maxsize`` folded tickets, the least recently used dropped first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[UUID, Folded] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        """Reads that started from an entry (tests and benches read it)."""

    def get(self, ticket_id: UUID) -> Folded | None:
        with self._lock:
            found = self._entries.get(ticket_id)
            if found is not None:
                self._entries.move_to_end(ticket_id)
                self.hits += 1
            return found

    def put(self, ticket_id: UUID, folded: Folded) -> None:
        """Keep ``folded`` unless an entry at least as far along is there already."""
        if self.maxsize <= 0:
            return
        with self._lock:
            there = self._entries.get(ticket_id)
            if there is not None and there.version >= folded.version:
                return
            self._entries[ticket_id] = folded
            self._entries.move_to_end(ticket_id)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def drop(self, ticket_id: UUID) -> None:
        with self._lock:
            self._entries.pop(ticket_id, None)

    def __len__(self) -> int:
        return len(self._entries)
