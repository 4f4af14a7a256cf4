"""The mail sender's enqueue pass against the size of the outbox.

Usage: ``python -m bench.outbox [--emails 200000] [--new 100]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``), fills an
outbox with ``--emails`` emails that all have a delivery row already, then
times in the same run:

* ``first_pass_ms``: a new sender's first pass, which looks over the whole
  outbox for emails without a delivery (what every pass cost before);
* ``later_pass_ms``: a later pass of the same sender after ``--new`` emails
  arrived, which looks only past the newest email it saw.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from bench.harness import embedded_database
from mail.sender import MailSender, SmtpServer
from projections.kit import Tables
from projections.outbox import DELIVERIES, MAIL, MailIdentity, create_tables
from store.bulk import copy_rows
from store.database import ensure_schema

COLUMNS = ("notification_id", "position", "ticket_id", "number", "reason", "recipient_ids",
           "recipients", "subject", "body", "version", "earlier", "created_at")  # fmt: skip


def emails(first: int, count: int) -> list[tuple[Any, ...]]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    to, body = ["member-1@example.com"], "Could you try again?"
    return [
        (
            f"mail-{n}",
            n,
            uuid.uuid4(),
            f"T-{n:06d}",
            "reply",
            ["member-1"],
            to,
            "Re: Sync",
            body,
            2,
            [],
            at,
        )
        for n in range(first, first + count)
    ]


def fill(conn: psycopg.Connection[Any], t: Tables, first: int, count: int) -> None:
    with conn.transaction(), conn.cursor() as cur:
        copy_rows(cur, t(MAIL), COLUMNS, emails(first, count))


def measure(url: str, schema: str, count: int, new: int) -> dict[str, Any]:
    t = Tables(schema)
    ensure_schema(url, schema)
    with psycopg.connect(url, autocommit=True) as conn:
        create_tables(conn, t)
        fill(conn, t, 1, count)
        conn.execute(
            f'INSERT INTO "{schema}".{DELIVERIES} (notification_id, state) '
            f"SELECT notification_id, 'sent' FROM {t(MAIL)}"
        )
        conn.execute(f"ANALYZE {t(MAIL)}")
        conn.execute(f'ANALYZE "{schema}".{DELIVERIES}')
        identity = MailIdentity()
        sender = MailSender(url, schema, SmtpServer("127.0.0.1", 25), identity)
        began = time.perf_counter()
        first_found = sender.enqueue(conn)
        first_pass = time.perf_counter() - began
        fill(conn, t, count + 1, new)
        began = time.perf_counter()
        later_found = sender.enqueue(conn)
        later_pass = time.perf_counter() - began
    return {
        "emails": count,
        "new": new,
        "first_pass_ms": round(first_pass * 1000, 2),
        "first_pass_enqueued": first_found,
        "later_pass_ms": round(later_pass * 1000, 2),
        "later_pass_enqueued": later_found,
        "ratio": round(first_pass / later_pass, 1) if later_pass else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=200_000)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    with embedded_database() as url:
        print(json.dumps(measure(url, "bench_outbox", args.emails, args.new), indent=2))


if __name__ == "__main__":
    main()
