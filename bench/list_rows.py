"""Rows of the inbox's table written straight by SQL, for reads measured at scale.

The bench of saved views (:mod:`bench.views`) and the test that the counts use an index
(``tests/integration/test_saved_view_counts.py``) need a list table of a size the
planner meets on a large desk, and measure the read, not the fold: so the rows are made
by one ``INSERT … SELECT`` over ``generate_series`` (1,000,000 in about a minute), with
the sort keys :meth:`projections.lists.ticket_rows.TicketRow.sort_keys` would give them.

What they hold, like a desk that has worked for a while: the newest tenth of the
tickets (the last rows written) 60 % open, 20 % pending, 20 % closed, the older ones 3 %
open, 3 % pending, the rest closed (so open tickets are not spread evenly through the
table: a plan that hopes to meet them early in a scan does not); half of the open ones
waiting for an answer; priorities low 20 %, normal 50 %, high 20 %,
urgent 10 %; 80 % assigned to one of 50 agents; groups tier-1 60 %, tier-2 25 %,
billing 15 %; an SLA clock running on open tickets, due from 1 hour ago to 3 days on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from domain.sla import SlaState, state_to_data
from projections.kit import Tables
from projections.lists import inbox
from projections.lists.ticket_rows import NO_DUE_KEY
from projections.tracking import create_tracking_table

AGENTS = 50


def us(column: str) -> str:
    """An instant as whole microseconds since 1970, as the sort keys hold it."""
    return f"(extract(epoch FROM {column}) * 1000000)::bigint"


def fill_inbox(conn: psycopg.Connection[Any], schema: str, tickets: int, now: datetime) -> None:
    """``tickets`` rows in the inbox's table (made if missing), the view at their position."""
    t = Tables(schema)
    create_tracking_table(conn, schema)
    inbox.VIEW.create_tables(conn, t)
    conn.execute("SELECT setseed(0.42)")
    conn.execute(
        f"""
        INSERT INTO {t(inbox.INBOX.rows)} (
            ticket_id, valid_from, number, account_id, requester_id, subject, type, priority,
            product, topic, channel, status, assignee_id, support_group, created_at,
            last_activity_at, waiting_since, message_count, note_count, version,
            collaborators, sla_due_at, sla_state, needs_answer, priority_rank,
            attention_rank, attention_priority, attention_at, activity_key, created_key,
            due_key)
        SELECT ticket_id, i, 'T-' || lpad(i::text, 7, '0'), 'account-' || (i %% 500),
            'req-' || (i %% 20000), 'Bench ticket ' || i,
            (ARRAY['question','bug','feature_request','billing','technical','other'])[1 + i %% 6],
            priority, (ARRAY['Files','Dash','Mail','Chat','Docs'])[1 + i %% 5], 'sync', 'web',
            status, assignee, grp, created, active, waiting, 2, 0, 3, '{{}}', due, %(sla)s,
            status = 'open' AND waiting IS NOT NULL, prank, arank,
            CASE WHEN arank <= 1 THEN prank ELSE 0 END,
            CASE WHEN arank = 0 THEN {us('waiting')} ELSE -{us('active')} END,
            -{us('active')}, -{us('created')}, coalesce({us('due')}, %(no_due)s)
        FROM (
            SELECT *, CASE WHEN status = 'open' AND waiting IS NOT NULL THEN 0
                           WHEN status = 'open' THEN 1 WHEN status = 'pending' THEN 2
                           ELSE 3 END AS arank,
                      CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1
                           WHEN 'normal' THEN 2 ELSE 3 END AS prank
            FROM (
                SELECT i, md5('bench-ticket-' || i)::uuid AS ticket_id, status, priority,
                    CASE WHEN r3 < 0.8 THEN 'agent-' || (i %% {AGENTS}) END AS assignee,
                    CASE WHEN r4 < 0.6 THEN 'tier-1' WHEN r4 < 0.85 THEN 'tier-2'
                         ELSE 'billing' END AS grp,
                    created, created + (r5 * interval '30 days') AS active,
                    CASE WHEN status = 'open' AND r5 < 0.5
                         THEN created + (r5 * interval '20 days') END AS waiting,
                    CASE WHEN status = 'open'
                         THEN %(now)s::timestamptz + (r5 * interval '73 hours') - interval '1 hour'
                         END AS due
                FROM (
                    SELECT i, r3, r4, r5,
                        CASE WHEN i > 0.9 * %(tickets)s
                             THEN CASE WHEN r1 < 0.6 THEN 'open' WHEN r1 < 0.8 THEN 'pending'
                                       ELSE 'closed' END
                             ELSE CASE WHEN r1 < 0.03 THEN 'open' WHEN r1 < 0.06 THEN 'pending'
                                       ELSE 'closed' END END AS status,
                        CASE WHEN r2 < 0.2 THEN 'low' WHEN r2 < 0.7 THEN 'normal'
                             WHEN r2 < 0.9 THEN 'high' ELSE 'urgent' END AS priority,
                        %(now)s::timestamptz - ((%(tickets)s - i) * interval '1 minute')
                            AS created
                    FROM (SELECT i, random() AS r1, random() AS r2, random() AS r3,
                                 random() AS r4, random() AS r5
                          FROM generate_series(1, %(tickets)s) AS i) AS draws
                ) AS drawn
            ) AS shaped
        ) AS ranked
        """,
        {"sla": Jsonb(state_to_data(SlaState())), "no_due": NO_DUE_KEY, "now": now,
         "tickets": tickets},
    )  # fmt: skip
    conn.execute(
        f'INSERT INTO "{schema}".projection_tracking (view, position) VALUES (%s, %s) '
        "ON CONFLICT (view) DO UPDATE SET position = excluded.position",
        (inbox.NAME, tickets),
    )
    conn.execute(f"ANALYZE {t(inbox.INBOX.rows)}")
