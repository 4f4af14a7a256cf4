"""The API's bearer tokens: random strings shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from psycopg_pool import ConnectionPool

from desk.access import Principal
from store.tables import SchemaTables


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore(SchemaTables):
    ddl = """
        CREATE TABLE IF NOT EXISTS {schema}.api_tokens (
            token_hash text PRIMARY KEY,
            principal_id text NOT NULL,
            role text NOT NULL,
            name text NOT NULL,
            account_id uuid,
            revoked boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """

    def __init__(self, pool: ConnectionPool, schema: str, cache_seconds: float = 5.0) -> None:
        super().__init__(pool, schema)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def issue(self, principal: Principal) -> str:
        token = "dkt_" + secrets.token_urlsafe(32)
        with self.pool.connection() as conn:
            conn.execute(
                f'INSERT INTO "{self.schema}".api_tokens '
                "(token_hash, principal_id, role, name, account_id) VALUES (%s, %s, %s, %s, %s)",
                (
                    hash_token(token),
                    principal.id,
                    principal.role,
                    principal.name,
                    principal.account_id,
                ),
            )
        return token

    def remembered(self, token: str) -> tuple[bool, Principal | None]:
        """Whether the token's principal is cached (and fresh), and that principal.

        Never touches the database, so the event loop may ask."""
        with self._lock:
            cached = self._cache.get(hash_token(token))
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return True, cached[1]
        return False, None

    def principal(self, token: str) -> Principal | None:
        hit, found = self.remembered(token)
        if hit:
            return found
        digest = hash_token(token)
        now = time.monotonic()
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT token_hash, principal_id, role, name, account_id, revoked "
                f'FROM "{self.schema}".api_tokens WHERE token_hash = %s',
                (digest,),
            ).fetchone()
        found = None
        if row is not None and hmac.compare_digest(row[0], digest) and not row[5]:
            found = Principal(id=row[1], role=row[2], name=row[3], account_id=row[4])
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, found)
        return found
