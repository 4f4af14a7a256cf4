"""Custom field filters at scale: the inbox's ``field=key:value`` reads over N rows.

Usage: ``python -m bench.custom_fields [--tickets 1000000] [--requests 50]``

Fills the inbox's row table (``projections.lists.ticket_rows``, with all its indexes)
with ``--tickets`` synthetic rows straight from SQL — not folded from events: what is
measured is the read, and at this size folding real events takes hours (see
:mod:`bench.scale`) — each with custom field values: ``os`` one of five options on
every row, ``seats`` a number on every other row, ``escalated`` true on one row in a
thousand. Then times the list reads the API sends for ``field=`` filters (first page,
default attention order, the inbox's snapshot condition), p50 and p99, and prints the
plan of the rarest one.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench.harness import embedded_database
from bench.load import percentile
from projections.kit import Tables
from projections.lists import inbox
from projections.lists.filters import ListFilter
from projections.lists.ticket_rows import create_row_table
from projections.tracking import TRACKING_TABLE, create_tracking_table

SCHEMA = "bench_fields"
FILL = """
INSERT INTO {table} (
    ticket_id, valid_from, number, account_id, requester_id, subject, type, priority, product,
    topic, channel, status, created_at, last_activity_at, message_count, note_count, version,
    collaborators, sla_state, custom_fields, needs_answer, priority_rank, attention_rank,
    attention_priority, attention_at, activity_key, created_key, due_key)
SELECT md5(n::text)::uuid, n, 'T-' || n, 'acct-' || n %% 500, 'req-' || n %% 20000, 'Subject',
    'bug', 'normal', 'Files', '', 'web', 'open', now(), now(), 1, 0, 1, '{{}}', '{{}}',
    jsonb_build_object('os', (ARRAY['linux','macos','windows','ios','android'])[1 + n %% 5])
      || CASE WHEN n %% 2 = 0 THEN jsonb_build_object('seats', n %% 50) ELSE '{{}}' END
      || CASE WHEN n %% 1000 = 7 THEN '{{"escalated": true}}'::jsonb ELSE '{{}}'::jsonb END,
    false, 2, n %% 4, 2, -n, -n, -n, 4611686018427387904
FROM generate_series(%s::bigint, %s::bigint) AS n
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    t = Tables(SCHEMA)
    with embedded_database() as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
        create_tracking_table(conn, SCHEMA)
        create_row_table(conn, t, "inbox_tickets", triage=True)
        began = time.perf_counter()
        for first in range(1, args.tickets + 1, 100_000):
            last = min(first + 99_999, args.tickets)
            conn.execute(FILL.format(table=t("inbox_tickets")), (first, last))
        conn.execute(f"ANALYZE {t('inbox_tickets')}")
        conn.execute(
            f'INSERT INTO "{SCHEMA}".{TRACKING_TABLE} (view, position) VALUES (%s, %s)',
            (inbox.NAME, args.tickets),
        )
        print(f"{args.tickets:,} rows in {time.perf_counter() - began:.0f} s")
        asked: dict[str, Callable[[], Any]] = {
            "os=linux (1 in 5)": lambda: inbox.tickets(
                conn, t, ListFilter(custom_fields=(("os", ("linux",)),))
            ),
            "os=linux,macos (2 in 5)": lambda: inbox.tickets(
                conn, t, ListFilter(custom_fields=(("os", ("linux", "macos")),))
            ),
            "seats=7 and os=ios (1 in 250)": lambda: inbox.tickets(
                conn, t, ListFilter(custom_fields=(("os", ("ios",)), ("seats", (7,))))
            ),
            "escalated=true (1 in 1000)": lambda: inbox.tickets(
                conn, t, ListFilter(custom_fields=(("escalated", (True,)),))
            ),
            "seats=999 (none)": lambda: inbox.tickets(
                conn, t, ListFilter(custom_fields=(("seats", (999,)),))
            ),
        }
        for name, ask in asked.items():
            ask()
            took = []
            for _ in range(args.requests):
                began = time.perf_counter()
                ask()
                took.append((time.perf_counter() - began) * 1000)
            print(f"  {name:32s} p50 {percentile(took, 0.5):8.2f} ms  "
                  f"p99 {percentile(took, 0.99):8.2f} ms")  # fmt: skip
        conn.execute(f'DROP SCHEMA "{SCHEMA}" CASCADE')


if __name__ == "__main__":
    main()
