"""Counting hits per key in fixed windows, in PostgreSQL, shared by every API process.

The contact form's limits (per client address, per email address) count here.
Keys are stored as SHA-256 digests, never as written: the table holds no client
address or email, only how often an unknown digest was seen in the current
window. Windows that have passed are deleted by the next hit, so a digest is
kept no longer than its window. Which keys and what limits is the desk's affair.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

TABLE = "docket_rate_hits"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class HitCounter(Protocol):
    def hit(self, keys: Sequence[str], window_start: datetime) -> dict[str, int]:
        """Count one hit for each key in the window starting then; the counts after it."""
        ...


class PostgresHitCounter:
    """One statement per hit: upsert the window's counters, drop windows gone by."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(TABLE))
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} (key_digest text NOT NULL, "
                    "window_start timestamptz NOT NULL, hits integer NOT NULL, "
                    "PRIMARY KEY (key_digest, window_start))"
                ).format(table)
            )
        self.statement = SQL(
            "WITH gone AS (DELETE FROM {0} WHERE window_start < %(start)s) "
            "INSERT INTO {0} AS h (key_digest, window_start, hits) "
            "SELECT k, %(start)s, 1 FROM unnest(%(keys)s::text[]) AS k "
            "ON CONFLICT (key_digest, window_start) DO UPDATE SET hits = h.hits + 1 "
            "RETURNING key_digest, hits"
        ).format(table)

    def hit(self, keys: Sequence[str], window_start: datetime) -> dict[str, int]:
        digests = {digest(k): k for k in keys}
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.statement, {"start": window_start, "keys": list(digests)})
            rows = cursor.fetchall()
        return {digests[row["key_digest"]]: int(row["hits"]) for row in rows}


class MemoryHitCounter:
    """The same counting for a desk kept in memory (unit tests)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, datetime], int] = {}
        self._lock = threading.Lock()

    def hit(self, keys: Sequence[str], window_start: datetime) -> dict[str, int]:
        with self._lock:
            for gone in [k for k in self._hits if k[1] < window_start]:
                del self._hits[gone]
            counts = {}
            for key in dict.fromkeys(keys):
                slot = (digest(key), window_start)
                self._hits[slot] = counts[key] = self._hits.get(slot, 0) + 1
            return counts
