"""``Idempotency-Key``: a retried write returns its first answer and records nothing new.

A key is claimed (a pending row) before the write runs, so two concurrent
requests with one key cannot both write: the second is told to retry. The
answer is stored once the write is decided; answers of 5xx are not kept, so a
retry after a server fault runs again. The same key with a different body is
refused with 422.

A claim is never simply dropped, because an attempt that failed may still have
committed (the answer to COMMIT can be lost with the connection). A failed
attempt marks its claim stale at once; a claim left by a process that died
(``kill -9`` between committing and storing the answer) goes stale after
:data:`STALE_AFTER_SECONDS`. The next retry takes a stale claim over and first
asks ``recover`` whether the write already happened (every event of a write
carries its key as causation id): if so it answers what the first request
would have, else it runs the write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from store.tables import SchemaTables


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: object
    headers: dict[str, str]


class KeyReused(Exception):
    """The key was first used with another request body."""


class KeyInFlight(Exception):
    """The first request with this key is still running."""


STALE_AFTER_SECONDS = 30


class IdempotencyStore(SchemaTables):
    ddl = """
        CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
            principal_id text NOT NULL,
            key text NOT NULL,
            request_hash text NOT NULL,
            status int,
            body bytea,
            headers bytea,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (principal_id, key)
        )
    """

    def run(
        self,
        principal_id: str,
        key: str,
        request: bytes,
        write: Callable[[], StoredAnswer],
        recover: Callable[[], StoredAnswer | None] | None = None,
    ) -> StoredAnswer:
        request_hash = hashlib.sha256(request).hexdigest()
        table = f'"{self.schema}".idempotency_keys'
        with self.pool.connection() as conn:
            claimed = conn.execute(
                f"INSERT INTO {table} (principal_id, key, request_hash) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING 1",
                (principal_id, key, request_hash),
            ).fetchone()
            if claimed is None:
                row = conn.execute(
                    f"SELECT request_hash, status, body, headers, created_at, "
                    f"created_at < now() - interval '{STALE_AFTER_SECONDS} seconds' "
                    f"FROM {table} WHERE principal_id = %s AND key = %s",
                    (principal_id, key),
                ).fetchone()
                if row is None:  # released between our two statements: try once more
                    return self.run(principal_id, key, request, write, recover)
                if row[0] != request_hash:
                    raise KeyReused(key)
                if row[1] is not None:
                    return StoredAnswer(row[1], json.loads(row[2]), json.loads(row[3]))
                stale = bool(row[5]) and recover is not None
                taken = (
                    stale
                    and conn.execute(
                        f"UPDATE {table} SET created_at = now() WHERE principal_id = %s "
                        "AND key = %s AND status IS NULL AND created_at = %s RETURNING 1",
                        (principal_id, key, row[4]),
                    ).fetchone()
                )
                if not taken:
                    raise KeyInFlight(key)
        if claimed is None:  # a claim taken over: the first attempt may have written
            assert recover is not None
            try:
                found = recover()
            except BaseException:  # keep the claim, stale, so the next retry asks again
                self._give_up(principal_id, key)
                raise
            if found is not None:
                self._store(principal_id, key, found)
                return found
        try:
            answer = write()
        except BaseException:
            self._give_up(principal_id, key)
            raise
        if answer.status >= 500:
            self._give_up(principal_id, key)
            return answer
        self._store(principal_id, key, answer)
        return answer

    def _store(self, principal_id: str, key: str, answer: StoredAnswer) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f'UPDATE "{self.schema}".idempotency_keys SET status = %s, body = %s, '
                "headers = %s WHERE principal_id = %s AND key = %s",
                (answer.status, _dump(answer.body), _dump(answer.headers), principal_id, key),
            )

    def _give_up(self, principal_id: str, key: str) -> None:
        """A failed attempt may still have committed (say, the answer to COMMIT was lost):
        keep the claim but make it stale at once, so the retry checks before writing."""
        try:
            with self.pool.connection() as conn:
                conn.execute(
                    f"UPDATE \"{self.schema}\".idempotency_keys SET created_at = 'epoch' "
                    "WHERE principal_id = %s AND key = %s AND status IS NULL",
                    (principal_id, key),
                )
        except Exception:  # the database is gone too: the claim goes stale by age instead
            pass


def canonical_request(method: str, path: str, body: object) -> bytes:
    return json.dumps([method, path, body], sort_keys=True, default=str).encode()


def _dump(value: object) -> bytes:
    """JSON as bytes: answers may quote text with NUL, which PostgreSQL text refuses."""
    return json.dumps(value).encode()
