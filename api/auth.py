"""Who is calling, and what their role lets them do.

Bearer tokens are random strings shown once; only their SHA-256 is stored. The
role matrix below is the one place that says which role reaches which endpoint;
every route names its endpoint key, and the README prints this table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from uuid import UUID

from psycopg_pool import ConnectionPool

ROLES = ("requester", "team_admin", "agent", "auditor", "analyst", "admin")
CUSTOMER_ROLES = frozenset({"requester", "team_admin"})
STAFF_ROLES = frozenset({"agent", "admin"})
GATEWAY_ROLE = "mail_gateway"
"""A mail gateway's token: it posts inbound email, and reaches nothing else."""

# endpoint key -> roles that may call it. Ticket endpoints also check the
# ticket itself: requesters reach their own tickets, team admins their
# account's, staff every ticket (see ``may_see_ticket``).
ROLE_MATRIX: dict[str, frozenset[str]] = {
    "me": frozenset(ROLES),
    "file_ticket": frozenset({"requester", "team_admin"}),
    "request_callback": frozenset({"requester", "team_admin"}),
    "record_callback": STAFF_ROLES,
    "add_message": frozenset({"requester", "team_admin", "agent", "admin"}),
    "add_internal_note": STAFF_ROLES,
    "change_status": frozenset({"requester", "team_admin", "agent", "admin"}),
    "change_priority": STAFF_ROLES,
    "assign": STAFF_ROLES,
    "change_type": STAFF_ROLES,
    "change_product": STAFF_ROLES,
    "reopen": frozenset({"requester", "team_admin", "agent", "admin"}),
    "rate_satisfaction": frozenset({"requester", "team_admin"}),
    "upload_attachment": frozenset({"requester", "team_admin", "agent", "admin"}),
    "download_attachment": frozenset(ROLES) - {"analyst"},
    "list_tickets": frozenset(ROLES) - {"analyst"},
    "ticket_detail": frozenset(ROLES) - {"analyst"},
    "inbox": STAFF_ROLES,
    "account_tickets": frozenset({"team_admin", "agent", "admin", "auditor"}),
    "feed": frozenset({"agent", "admin", "auditor", "analyst"}),
    "audit_history": frozenset({"auditor", "admin", "agent"}),
    "audit_state": frozenset({"auditor", "admin", "agent"}),
    "audit_backlog": frozenset({"auditor", "admin", "analyst"}),
    "audit_verify": frozenset({"auditor", "admin"}),
    "dashboard": frozenset({"analyst", "admin"}),
    "sla_summary": frozenset({"analyst", "admin"}),
    "sla_policy": frozenset({"agent", "admin", "analyst", "auditor"}),
    "sla_policy_change": frozenset({"admin"}),
    "manage_articles": frozenset({"admin"}),
    "read_articles": frozenset(ROLES),
    "open_article": CUSTOMER_ROLES,
    "account_recommendations": frozenset({"requester", "team_admin", "agent", "admin"}),
    "deflection": frozenset({"analyst", "admin"}),
    "outbox": frozenset({"admin"}),
    "rejected_mail": frozenset({"admin"}),
    "inbound_email": frozenset({"mail_gateway"}),
}

# Roles that read internal notes wherever they appear (detail, search, feed).
NOTE_READERS = frozenset({"agent", "admin", "auditor"})


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    name: str
    account_id: UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def actor_kind(self) -> str:
        if self.role == "admin":
            return "admin"
        return "agent" if self.role == "agent" else "requester"


def may_read_notes(principal: Principal) -> bool:
    return principal.role in NOTE_READERS


def may_call(principal: Principal, endpoint: str) -> bool:
    return principal.role in ROLE_MATRIX[endpoint]


def may_see_ticket(principal: Principal, account_id: str, requester_id: str) -> bool:
    if principal.role in ("agent", "admin", "auditor"):
        return True
    if principal.role == "team_admin":
        return str(principal.account_id) == account_id
    if principal.role == "requester":
        return principal.id == requester_id and str(principal.account_id) == account_id
    return False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    def __init__(self, pool: ConnectionPool, schema: str, cache_seconds: float = 5.0) -> None:
        self.pool = pool
        self.schema = schema
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def create_tables(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"""
                CREATE TABLE IF NOT EXISTS "{self.schema}".api_tokens (
                    token_hash text PRIMARY KEY,
                    principal_id text NOT NULL,
                    role text NOT NULL,
                    name text NOT NULL,
                    account_id uuid,
                    revoked boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )

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

    def revoke(self, token: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f'UPDATE "{self.schema}".api_tokens SET revoked = true WHERE token_hash = %s',
                (hash_token(token),),
            )
        with self._lock:
            self._cache.pop(hash_token(token), None)

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
