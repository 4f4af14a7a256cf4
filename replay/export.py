"""A ticket's full audit trail as JSON Lines, verifiable offline with its chain hashes.

Each line is one stored event exactly as the log holds it (``state`` is the
stored JSON text, byte for byte), with its position and, for reading, its
hashes. ``replay verify --file`` re-checks such a file without a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from replay.store import StoredAt


def export_lines(entries: Sequence[StoredAt]) -> Iterator[str]:
    for entry in entries:
        stored = entry.stored
        state = stored.state.decode("utf-8")
        decoded = json.loads(state)
        yield json.dumps(
            {
                "position": entry.position,
                "stream_id": str(stored.originator_id),
                "version": stored.originator_version,
                "topic": stored.topic,
                "prev_hash": decoded.get("prev_hash"),
                "event_hash": decoded.get("event_hash"),
                "state": state,
            },
            ensure_ascii=False,
        )
