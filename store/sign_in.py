"""Emailed sign-in links: single use, short-lived, stored hashed, mailed by the sender.

A person asks for a link with their address; Docket answers the same whether or not it
knows the address. For each person the directory knows there, a row here holds the
link's id, the SHA-256 of its secret, whom it signs in and until when. The secret itself
is never stored: it is an HMAC of the link's id under the server's ``sign-in`` secret,
written into the email as the sender sends it (like a survey's signed link), so the
table alone signs nobody in.

A link signs in once: using it sets ``used_at`` in the same statement that checks it is
unused and unexpired, so two clicks (or a mail scanner and a person) cannot both sign in.
The mail sender drains the rows still ``queued`` over the same SMTP connection as the
outbox (``mail/sender.py``); without a mail server they wait, and ``docket seed-demo``
prints links directly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from store.tables import SchemaTables

LINK_LIFETIME = timedelta(minutes=15)
"""How long an emailed sign-in link works."""
MAX_LINKS_PER_HOUR = 5
"""Links one address is sent in an hour; asking more sends nothing more (the same answer)."""


@dataclass(frozen=True)
class SignInLink:
    """A link owed by email: whom to, in which language, and its id (the secret is drawn
    from it as it is sent)."""

    link_id: UUID
    person_id: str
    email: str
    name: str
    language: str
    time_zone: str | None


class SignInLinks(SchemaTables):
    ddl = """
        CREATE TABLE IF NOT EXISTS {schema}.sign_in_links (
            link_id uuid PRIMARY KEY,
            link_hash text NOT NULL UNIQUE,
            person_id text NOT NULL,
            email text NOT NULL,
            name text NOT NULL,
            language text NOT NULL DEFAULT 'en',
            time_zone text,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            mail_state text NOT NULL DEFAULT 'queued',
            mail_attempts integer NOT NULL DEFAULT 0,
            mail_error text,
            sent_at timestamptz
        );
        CREATE INDEX IF NOT EXISTS sign_in_links_queued ON {schema}.sign_in_links (created_at)
            WHERE mail_state = 'queued';
        CREATE INDEX IF NOT EXISTS sign_in_links_email ON {schema}.sign_in_links
            (lower(email), created_at)
    """

    def __init__(self, pool: ConnectionPool, schema: str, secret: bytes) -> None:
        super().__init__(pool, schema)
        self.table = f'"{schema}".sign_in_links'
        self.secret = secret

    def token(self, link_id: UUID) -> str:
        return link_token(self.secret, link_id)

    def ask(
        self,
        *,
        person_id: str,
        email: str,
        name: str,
        language: str,
        time_zone: str | None,
        mailed: bool = True,
        lifetime: timedelta = LINK_LIFETIME,
    ) -> str | None:
        """A new link for the person: its secret (for ``docket seed-demo``, which prints it;
        ``mailed=False`` keeps it out of the mail queue), or ``None`` when the address was
        sent its share of links this hour."""
        link_id = uuid.uuid4()
        token = self.token(link_id)
        with self.pool.connection() as conn, conn.transaction():
            # one request per address at a time: two at once cannot both pass the count
            conn.execute(
                "SELECT pg_advisory_xact_lock("
                "hashtextextended('docket:sign-in:' || lower(%s), 0))",
                (email,),
            )
            row = conn.execute(
                f"INSERT INTO {self.table} (link_id, link_hash, person_id, email, name, "
                "language, time_zone, expires_at, mail_state) "
                "SELECT %s, %s, %s, %s, %s, %s, %s, now() + %s, %s "
                f"WHERE %s OR (SELECT count(*) FROM {self.table} WHERE lower(email) = "
                "lower(%s) AND created_at > now() - interval '1 hour' AND mail_state <> "
                "'printed') < %s RETURNING link_id",
                (
                    link_id,
                    hash_secret(token),
                    person_id,
                    email,
                    name,
                    language,
                    time_zone,
                    lifetime,
                    "queued" if mailed else "printed",
                    not mailed,
                    email,
                    MAX_LINKS_PER_HOUR,
                ),
            ).fetchone()
        return token if row is not None else None

    def use(self, token: str) -> str | None:
        """Whom the link signs in, once: ``None`` when it is unknown, used or expired."""
        row = self._while_open(token, f"UPDATE {self.table} SET used_at = now()", "person_id")
        return str(row[0]) if row is not None else None

    def usable(self, token: str) -> bool:
        """Whether the link would sign in now (its page shows the button, or says why not)."""
        return self._while_open(token, f"SELECT 1 FROM {self.table}") is not None

    def _while_open(
        self, token: str, statement: str, returning: str = ""
    ) -> tuple[Any, ...] | None:
        """The row ``statement`` gives for the link ``token`` if it still signs in: known,
        not used, not expired (one rule for the page and the sign-in)."""
        also = f" RETURNING {returning}" if returning else ""
        with self.pool.connection() as conn:
            return conn.execute(
                f"{statement} WHERE link_hash = %s AND used_at IS NULL AND expires_at > now()"
                + also,
                (hash_secret(token),),
            ).fetchone()


class SignInQueue:
    """The mail sender's side: the links still owed by email, in one schema, and the secret
    each link's own is drawn from as it is sent."""

    def __init__(self, schema: str, secret: bytes) -> None:
        self.schema = schema
        self.table = f'"{schema}".sign_in_links'
        self.secret = secret

    def create_tables(self, conn: psycopg.Connection[Any]) -> None:
        """The table, for a sender started before any API process made it."""
        conn.execute(SignInLinks.ddl.replace("{schema}", f'"{self.schema}"'))

    def token(self, link_id: UUID) -> str:
        return link_token(self.secret, link_id)

    def next_queued(self, cur: psycopg.Cursor[Any]) -> SignInLink | None:
        """The oldest link still owed by email, locked for this transaction (another sender
        skips it); links that stopped working while they waited are sent no more."""
        cur.execute(
            f"UPDATE {self.table} SET mail_state = 'expired' "
            "WHERE mail_state = 'queued' AND expires_at <= now()"
        )
        row = cur.execute(
            f"SELECT link_id, person_id, email, name, language, time_zone FROM {self.table} "
            "WHERE mail_state = 'queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"
        ).fetchone()
        if row is None:
            return None
        return SignInLink(*row)

    def mark(self, cur: psycopg.Cursor[Any], link_id: UUID, state: str, error: str = "") -> None:
        """What became of the link's email: ``sent`` or ``failed`` (refused for good)."""
        cur.execute(
            f"UPDATE {self.table} SET mail_state = %s, mail_attempts = mail_attempts + 1, "
            "mail_error = nullif(%s, ''), sent_at = CASE WHEN %s = 'sent' THEN now() END "
            "WHERE link_id = %s",
            (state, error[:1000], state, link_id),
        )


def link_token(secret: bytes, link_id: UUID) -> str:
    """A link's secret: its id and an HMAC of it under the server's secret, URL-safe."""
    signed = hmac.new(secret, b"sign-in\0" + link_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(link_id.bytes + signed[:20]).decode().rstrip("=")


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
