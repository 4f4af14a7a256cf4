"""The token table on PostgreSQL: tables of the old shape keep working, expiry and
revocation are decided by the lookup itself, and use is noted without a write per request."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from api.tokens import TokenStore
from desk.access import Principal
from desk.service import SupportDesk
from domain.errors import UnknownToken
from store.staff_status import StaffStatus
from tests.builders import with_tables

AGENT = Principal("agent-1", "agent", "Alex Agent")
ADMIN = Principal("admin-1", "admin", "Ada Admin")


@pytest.fixture(autouse=True)
def staff_status(pool: ConnectionPool, schema: str, desk: SupportDesk) -> StaffStatus:
    """On a schema with the event store: the token lookup asks it whether the holder is a
    deactivated staff member (store/staff_status.py)."""
    return with_tables(StaffStatus(pool, schema))


@pytest.fixture
def tokens(pool: ConnectionPool, schema: str) -> TokenStore:
    return with_tables(TokenStore(pool, schema))


def test_a_token_table_of_the_old_shape_gains_the_new_columns_and_its_tokens_keep_working(
    pool: ConnectionPool, schema: str, conn: psycopg.Connection[Any]
) -> None:
    conn.execute(
        f'CREATE TABLE "{schema}".api_tokens (token_hash text PRIMARY KEY, principal_id text '
        "NOT NULL, role text NOT NULL, name text NOT NULL, account_id uuid, revoked boolean "
        "NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now())"
    )
    old = "dkt_from-before"
    conn.execute(
        f'INSERT INTO "{schema}".api_tokens (token_hash, principal_id, role, name) '
        "VALUES (%s, 'agent-1', 'agent', 'Alex Agent')",
        (hashlib.sha256(old.encode()).hexdigest(),),
    )
    store = TokenStore(pool, schema)
    store.create_tables()
    store.create_tables()  # and again, as every start does
    assert store.principal(old) == AGENT
    [listed] = store.listed(ADMIN)
    assert (listed.name, listed.prefix, listed.holder) == ("token", None, AGENT)
    store.revoke(listed.id, ADMIN)
    assert store.principal(old) is None


def test_a_token_is_refused_from_its_expiry_on(tokens: TokenStore) -> None:
    soon = tokens.issue(AGENT, name="soon", expires_at=datetime.now(UTC) + timedelta(hours=1))
    gone = tokens.issue(AGENT, name="gone", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert tokens.principal(soon.token) == AGENT
    assert tokens.principal(gone.token) is None


def test_a_revoked_token_is_refused_by_the_next_lookup(tokens: TokenStore) -> None:
    issued = tokens.issue(AGENT, name="laptop")
    assert tokens.principal(issued.token) == AGENT
    tokens.revoke(issued.info.id, AGENT)
    assert tokens.principal(issued.token) is None
    assert tokens.listed(AGENT) == []


def test_a_person_cannot_revoke_or_list_anothers_token_but_an_admin_can(
    tokens: TokenStore,
) -> None:
    theirs = tokens.issue(ADMIN, name="theirs")
    with pytest.raises(UnknownToken):
        tokens.revoke(theirs.info.id, AGENT)
    assert tokens.listed(AGENT, holder=ADMIN.id) == []
    assert tokens.principal(theirs.token) == ADMIN
    mine = tokens.issue(AGENT, name="mine")
    assert [t.id for t in tokens.listed(ADMIN)] == [theirs.info.id, mine.info.id]
    tokens.revoke(mine.info.id, ADMIN)
    assert tokens.principal(mine.token) is None
    with pytest.raises(UnknownToken):
        tokens.revoke(uuid4(), ADMIN)


def test_use_is_noted_at_most_once_a_minute(
    tokens: TokenStore, schema: str, conn: psycopg.Connection[Any]
) -> None:
    issued = tokens.issue(AGENT, name="busy")
    assert tokens.listed(AGENT)[0].last_used_at is None
    tokens.principal(issued.token)
    first = tokens.listed(AGENT)[0].last_used_at
    assert first is not None
    tokens.principal(issued.token)
    assert tokens.listed(AGENT)[0].last_used_at == first
    conn.execute(f"UPDATE \"{schema}\".api_tokens SET last_used_at = now() - interval '2 minutes'")
    tokens.principal(issued.token)
    noted = tokens.listed(AGENT)[0].last_used_at
    assert noted is not None and noted > first - timedelta(minutes=1)
