"""Server secrets Docket draws once and keeps: the same in every process, across restarts.

A secret a setting does not give (``DOCKET_MAIL_SECRET``, say) is drawn at random the
first time any process asks for it and kept in ``server_secrets``; every process after
that reads the same one, so an API worker and the ``docket project`` child that mails
sign and check alike. Rotating one is deleting its row (and every reply address signed
with it stops proving its sender).
"""

from __future__ import annotations

import secrets

import psycopg

SECRETS = "server_secrets"


def server_secret(url: str, schema: str, name: str) -> bytes:
    """The secret called ``name``, drawn now if no process has drawn it yet."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".{SECRETS} '
            "(name text PRIMARY KEY, secret bytea NOT NULL, "
            "drawn_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(
            f'INSERT INTO "{schema}".{SECRETS} (name, secret) VALUES (%s, %s) '
            "ON CONFLICT (name) DO NOTHING",
            (name, secrets.token_bytes(32)),
        )
        row = conn.execute(
            f'SELECT secret FROM "{schema}".{SECRETS} WHERE name = %s', (name,)
        ).fetchone()
    assert row is not None
    return bytes(row[0])
