"""The contact queue: requests from the contact form, for agents, waiting ones first.

One row per request with its state: ``waiting`` (received, not answered yet),
``answered`` (an agent emailed an answer) or ``ticket`` (it became a ticket, whose
number the row names), and each answer in order. Only staff read it. Which
accounts know the request's address is not a fact of the request: a read asks the
directory (:func:`accounts_at`), when an agent looks, never when the form is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from domain.contact import ContactRequest
from projections import directory
from projections.kit import Fact, Layout, Tables, clean_text, each_fact, fetch_all, fetch_one

NAME = "contact_requests"
REQUESTS = "contact_requests"
ANSWERS = "contact_answers"


TABLES = Layout(
    {
        REQUESTS: """
            request_id uuid PRIMARY KEY,
            reference text NOT NULL UNIQUE,
            position bigint NOT NULL,
            version integer NOT NULL,
            state text NOT NULL,
            name text NOT NULL,
            email text NOT NULL,
            subject text NOT NULL,
            description text NOT NULL,
            product text NOT NULL,
            received_at timestamptz NOT NULL,
            answered_at timestamptz,
            ticket_number text,
            ticket_account_id text
        """,
        ANSWERS: """
            request_id uuid NOT NULL,
            version integer NOT NULL,
            author_id text NOT NULL,
            body text NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (request_id, version)
        """,
    },
    indexes=[(REQUESTS, "_queue", "(state, position)")],
)


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    e = fact.event
    match e:
        case ContactRequest.Received():
            cur.execute(
                f"INSERT INTO {t(REQUESTS)} (request_id, reference, position, version, "
                "state, name, email, subject, description, product, received_at) "
                "VALUES (%s, %s, %s, %s, 'waiting', %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (request_id) DO NOTHING",
                (
                    fact.stream_id,
                    e.reference,
                    fact.position,
                    fact.version,
                    clean_text(e.name),
                    clean_text(e.email),
                    clean_text(e.subject),
                    clean_text(e.description),
                    clean_text(e.product),
                    e.timestamp,
                ),
            )
        case ContactRequest.Answered():
            cur.execute(
                f"INSERT INTO {t(ANSWERS)} (request_id, version, author_id, body, at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    fact.stream_id,
                    fact.version,
                    clean_text(e.author_id),
                    clean_text(e.body),
                    e.timestamp,
                ),
            )
            cur.execute(
                f"UPDATE {t(REQUESTS)} SET state = 'answered', version = %s, "
                "answered_at = coalesce(answered_at, %s) WHERE request_id = %s",
                (fact.version, e.timestamp, fact.stream_id),
            )
        case ContactRequest.TurnedIntoTicket():
            cur.execute(
                f"UPDATE {t(REQUESTS)} SET state = 'ticket', version = %s, "
                "ticket_number = %s, ticket_account_id = %s WHERE request_id = %s",
                (fact.version, e.number, e.account_id, fact.stream_id),
            )


VIEW = TABLES.view(
    NAME,
    {ContactRequest.Received, ContactRequest.Answered, ContactRequest.TurnedIntoTicket},
    each_fact(apply_fact),
)

COLUMNS = (
    "request_id, reference, position, version, state, name, email, subject, product, "
    "received_at, answered_at, ticket_number"
)


def queue(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    states: Sequence[str],
    after: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Requests in the given states, the longest waiting first (by log position)."""
    return fetch_all(
        conn,
        f"SELECT {COLUMNS} FROM {t(REQUESTS)} WHERE state = ANY(%s) AND position > %s "
        "ORDER BY position LIMIT %s",
        (list(states), after or 0, limit),
    )


def request(conn: psycopg.Connection[Any], t: Tables, ref: str) -> dict[str, Any] | None:
    """One request by id or reference, with its description and answers."""
    ref = clean_text(ref)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {COLUMNS}, description FROM {t(REQUESTS)} "
            "WHERE reference = upper(%s) OR request_id::text = lower(%s)",
            (ref, ref),
        ).fetchone()
        if row is None:
            return None
        row["answers"] = cur.execute(
            f"SELECT author_id, body, at FROM {t(ANSWERS)} WHERE request_id = %s ORDER BY version",
            (row["request_id"],),
        ).fetchall()
    return row


def accounts_at(conn: psycopg.Connection[Any], t: Tables, email: str) -> list[dict[str, Any]]:
    """The accounts whose members include the address, with their plans (customers only)."""
    people = [p for p in directory.people_by_email(conn, t, email) if p["account_id"]]
    found = []
    for person in people:
        account = fetch_one(
            conn,
            f"SELECT account_id, name, plan FROM {t(directory.ACCOUNTS)} WHERE account_id = %s",
            (person["account_id"],),
        )
        if account is not None:
            found.append({**account, "member_id": person["person_id"]})
    return found
