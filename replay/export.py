"""A ticket's full audit trail as JSON Lines, verifiable offline with its chain hashes.

Each line is one stored event exactly as the log holds it (``state`` is the
stored JSON text, byte for byte), with its position and, for reading, its
hashes. ``replay verify --file`` re-checks such a file without a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from replay.store import StoredAt


def not_utf8(state: bytes) -> bool:
    try:
        state.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def export_lines(entries: Sequence[StoredAt]) -> Iterator[str]:
    """One line per stored event. Damaged bytes are exported too (as text with replacement
    characters where they are not UTF-8, hashes empty where they hold none), so that
    verifying the file names them rather than the export failing."""
    for entry in entries:
        stored = entry.stored
        state = stored.state.decode("utf-8", "replace")
        try:
            decoded = json.loads(state)
        except (ValueError, RecursionError):
            decoded = None
        if not isinstance(decoded, dict):
            decoded = {}
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
