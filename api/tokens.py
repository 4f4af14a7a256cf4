"""The API's bearer tokens: random strings shown once; only their SHA-256 is stored.

A token has an id of its own, a name, the first characters of the secret (its
``prefix``, so a person can tell their tokens apart), who holds it, who issued it, when
it was created and last used, and an optional expiry. It can be revoked.

**No cache.** Every request looks its token up by primary key, in the table, with the
revocation and the expiry in the ``WHERE``: a token revoked or expired is refused on the
very next request, in every API process, because there is nothing to invalidate. A
cache would need a LISTEN/NOTIFY invalidation that still leaves the instant between a
revoking commit and the notice reaching each process; the lookup costs less than that is
worth (``python -m bench.tokens``, figures in docs/performance.md). ``last_used_at`` is
written at most once a minute per token, in the same statement, so reads stay reads.

Who may do what: anyone issues, lists and revokes their own tokens; Docket admins issue
for a person (a staff member or an account member, as the directory knows them) or a
mail gateway, and list and revoke everyone's. A token someone may not see is answered as
unknown, so ids do not leak.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from desk.access import GATEWAY_ROLE, Principal, may_call, person_principal
from domain.errors import InvalidField, UnknownPerson, UnknownToken
from domain.messages import Msg
from projections import directory, subscriptions
from projections.kit import Tables
from store.tables import SchemaTables

PREFIX_CHARS = 10
"""How much of a token its list shows: ``dkt_`` and six random characters."""
GATEWAY_ID = "mail-gateway"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token as its list shows it: never the secret, never the hash."""

    id: UUID
    name: str
    prefix: str | None
    holder: Principal
    issued_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    """The secret, shown once."""
    info: TokenInfo


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
        );
        ALTER TABLE {schema}.api_tokens
            ADD COLUMN IF NOT EXISTS id uuid NOT NULL DEFAULT gen_random_uuid(),
            ADD COLUMN IF NOT EXISTS token_name text,
            ADD COLUMN IF NOT EXISTS prefix text,
            ADD COLUMN IF NOT EXISTS issued_by text,
            ADD COLUMN IF NOT EXISTS expires_at timestamptz,
            ADD COLUMN IF NOT EXISTS last_used_at timestamptz,
            ADD COLUMN IF NOT EXISTS revoked_at timestamptz,
            ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'api';
        CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_id ON {schema}.api_tokens (id);
        CREATE INDEX IF NOT EXISTS api_tokens_holder ON {schema}.api_tokens (principal_id)
    """
    # ``name`` is the holder's name (as a caller's Principal carries it); ``token_name``
    # the token's own. Tokens from before names and prefixes list as "token" and no prefix.
    # ``kind`` is ``api`` (a bearer token) or ``session`` (a browser's cookie, pages/): each
    # works only where it was issued for, and the token list shows API tokens only.

    def create_tables(self) -> None:
        super().create_tables()
        with self.pool.connection() as conn:  # the lookup asks whose membership ended
            subscriptions.create_tables(conn, Tables(self.schema))
            directory.create_tables(conn, Tables(self.schema))  # and the person's language

    def __init__(self, pool: ConnectionPool, schema: str) -> None:
        super().__init__(pool, schema)
        self.table = f'"{schema}".api_tokens'
        self.departed = Tables(schema)(subscriptions.DEPARTED)
        self.members = Tables(schema)(subscriptions.MEMBERS)
        self.people = Tables(schema)(directory.PEOPLE)
        # the token lookup every request makes, written once
        self._lookup = (
            # a member's role is theirs now (a demoted team admin is a requester), once
            # the subscriptions view knows the member; until then, as issued
            "WITH found AS (SELECT token_hash, principal_id, coalesce((SELECT CASE WHEN "
            "'admin' = ANY(m.roles) THEN 'team_admin' ELSE 'requester' END "
            f"FROM {self.members} m WHERE m.account_id = tok.account_id::text "
            "AND m.member_id = tok.principal_id), role) AS role, name, account_id, "
            # the language the person reads Docket in, once the directory knows them
            f"(SELECT p.language FROM {self.people} p WHERE p.person_id = tok.principal_id) "
            f"AS language, last_used_at FROM {self.table} tok "
            "WHERE token_hash = %s AND kind = %s AND NOT revoked "
            "AND (expires_at IS NULL OR expires_at > now()) "
            "AND (%s::interval IS NULL "
            "OR coalesce(last_used_at, created_at) > now() - %s::interval) "
            # a deactivated staff member's tokens stop with the event (store/staff_status)
            f'AND NOT "{self.schema}".staff_deactivated(principal_id) '
            # a removed member's stop once the subscriptions view has the removal
            f"AND NOT EXISTS (SELECT 1 FROM {self.departed} d WHERE "
            "d.account_id = tok.account_id::text AND d.member_id = tok.principal_id)), "
            f"noted AS (UPDATE {self.table} t SET last_used_at = now() FROM found "
            "WHERE t.token_hash = found.token_hash AND (found.last_used_at IS NULL "
            "OR found.last_used_at < now() - interval '1 minute')) "
            "SELECT principal_id, role, name, account_id, language FROM found"
        )

    def issue(
        self,
        holder: Principal,
        *,
        name: str | None = None,
        expires_at: datetime | None = None,
        issued_by: str | None = None,
        kind: str = "api",
    ) -> IssuedToken:
        token = ("dkt_" if kind == "api" else "dks_") + secrets.token_urlsafe(32)
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"INSERT INTO {self.table} (token_hash, id, principal_id, role, name, account_id, "
                "token_name, prefix, issued_by, expires_at, kind) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                (
                    hash_token(token),
                    uuid.uuid4(),
                    holder.id,
                    holder.role,
                    holder.name,
                    holder.account_id,
                    name or holder.role,
                    token[:PREFIX_CHARS],
                    issued_by,
                    expires_at,
                    kind,
                ),
            ).fetchone()
        assert row is not None
        return IssuedToken(token, _info(row))

    def principal(
        self, token: str, *, kind: str = "api", idle: timedelta | None = None
    ) -> Principal | None:
        """Whose the token is, if it is known, of ``kind``, not revoked and not expired (nor,
        given ``idle``, unused that long); one statement that also notes the use (at most
        once a minute, so most requests write nothing)."""
        with self.pool.connection() as conn:
            row = conn.execute(self._lookup, (hash_token(token), kind, idle, idle)).fetchone()
        if row is None:
            return None
        return Principal(id=row[0], role=row[1], name=row[2], account_id=row[3], language=row[4])

    def listed(self, who: Principal, holder: str | None = None) -> list[TokenInfo]:
        """The tokens not revoked: the caller's own, or (admins) everyone's or a holder's."""
        if not may_call(who, "issue_token_for_others"):
            holder = who.id
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT * FROM {self.table} WHERE NOT revoked AND kind = 'api' "
                "AND (%(holder)s::text IS NULL OR principal_id = %(holder)s) "
                "ORDER BY created_at, id",
                {"holder": holder},
            ).fetchall()
        return [_info(row) for row in rows]

    def revoke(self, token_id: UUID, who: Principal | None) -> None:
        """Revoke one token: the caller's own, or (admins, and the command line: ``who``
        None) anyone's. Revoking a revoked token again changes nothing."""
        everyone = who is None or may_call(who, "issue_token_for_others")
        with self.pool.connection() as conn:
            row = conn.execute(
                f"UPDATE {self.table} SET revoked = true, "
                "revoked_at = coalesce(revoked_at, now()) "
                "WHERE id = %s AND (%s OR principal_id = %s) RETURNING id",
                (token_id, everyone, who.id if who else ""),
            ).fetchone()
        if row is None:
            raise UnknownToken(
                Msg(
                    "No token {token_id} of yours; list them with GET /v1/tokens.",
                    token_id=token_id,
                )
                if who
                else Msg(
                    "No token {token_id}; list them with `docket tokens list`.", token_id=token_id
                )
            )

    def end(self, token: str) -> None:
        """Revoke a token by its secret (a browser session signing out); an unknown one is
        already ended."""
        with self.pool.connection() as conn:
            conn.execute(
                f"UPDATE {self.table} SET revoked = true, "
                "revoked_at = coalesce(revoked_at, now()) "
                "WHERE token_hash = %s",
                (hash_token(token),),
            )


def holder_for(
    who: Principal | None,
    *,
    person: dict[str, Any] | None,
    person_id: str | None,
    mail_gateway: bool,
    name: str,
) -> Principal:
    """Who a new token is for: the caller themself, or the person the directory knows by
    ``person_id`` (``person``, its row), or a mail gateway. Whether the caller may issue
    for someone else is the role matrix's ``issue_token_for_others``, asked by the route;
    the command line (``who`` None) is the operator and may."""
    if person_id is not None and mail_gateway:
        raise InvalidField(
            "mail_gateway", Msg("A token is for a person or a mail gateway, not both.")
        )
    if person_id is None and not mail_gateway:
        if who is None:
            raise InvalidField("person_id", Msg("Name the person (--person) or --mail-gateway."))
        return who
    if mail_gateway:
        return Principal(id=GATEWAY_ID, role=GATEWAY_ROLE, name=name)
    if person is None:
        raise UnknownPerson(
            Msg(
                "Nobody with id {person_id} is in the directory; register them first "
                "(a person just registered may need min_position).",
                person_id=person_id,
            )
        )
    return person_principal(
        str(person["person_id"]), str(person["name"]), str(person["role"]), person["account_id"]
    )


def _info(row: dict[str, Any]) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        name=row["token_name"] or "token",
        prefix=row["prefix"],
        holder=Principal(row["principal_id"], row["role"], row["name"], row["account_id"]),
        issued_by=row["issued_by"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
    )
