"""Ticket detail: a ticket's fields, its conversation in order, its files, and,
in a separate table only staff reads reach, its internal notes.

The detail carries the ticket's version (every event counts, so it equals the
version writes compare ``If-Match`` against) and the log position of its
latest event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from domain.numbers import format_number, parse_number
from projections.runner import Fact, Tables, View, clean_text
from projections.ticket_rows import ALL_TICKET_EVENTS

NAME = "ticket_detail"
DETAILS = "ticket_details"
CONVERSATION = "ticket_conversation"
NOTES = "ticket_internal_notes"
FILES = "ticket_files"


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(DETAILS)} (
            ticket_id uuid PRIMARY KEY,
            number text NOT NULL UNIQUE,
            account_id text NOT NULL,
            requester_id text NOT NULL,
            subject text NOT NULL,
            type text NOT NULL,
            priority text NOT NULL,
            product text NOT NULL,
            topic text NOT NULL,
            channel text NOT NULL,
            status text NOT NULL,
            cycle integer NOT NULL,
            assignee_id text,
            support_group text,
            follow_up_of text,
            rating smallint,
            rating_comment text,
            collaborators text[] NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            closed_at timestamptz,
            version integer NOT NULL,
            position bigint NOT NULL
        )
        """
    )
    for table in (CONVERSATION, NOTES):
        extra = (
            "author_role text NOT NULL, attachments text[] NOT NULL,"
            if table == CONVERSATION
            else ""
        )
        conn.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {t(table)} (
                ticket_id uuid NOT NULL,
                version integer NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                author_id text NOT NULL,
                {extra}
                via text NOT NULL,
                body text NOT NULL,
                PRIMARY KEY (ticket_id, version)
            )
            """
        )
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(FILES)} (
            ticket_id uuid NOT NULL,
            attachment_id text NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            size bigint NOT NULL,
            added_at timestamptz NOT NULL,
            version integer NOT NULL,
            PRIMARY KEY (ticket_id, attachment_id)
        )
        """
    )


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    with conn.cursor() as cur:
        for fact in facts:
            e = fact.event
            kind = fact.kind
            tid = fact.stream_id
            if kind == "Ticket.Opened":
                cur.execute(
                    f"INSERT INTO {t(DETAILS)} (ticket_id, number, account_id, requester_id, "
                    "subject, type, priority, product, topic, channel, status, cycle, "
                    "follow_up_of, collaborators, created_at, updated_at, version, position) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'open', 1, %s, '{}', "
                    "%s, %s, %s, %s)",
                    (
                        tid,
                        e.number,
                        e.account_id,
                        e.requester_id,
                        clean_text(e.subject),
                        e.type,
                        e.priority,
                        clean_text(e.product),
                        clean_text(e.topic),
                        e.channel,
                        e.follow_up_of,
                        e.timestamp,
                        e.timestamp,
                        fact.version,
                        fact.position,
                    ),
                )
                _add_message(cur, t, fact, e.requester_id, "requester", e.description, [])
                continue
            changes: dict[str, Any] = {}
            if kind == "Ticket.MessageAdded":
                _add_message(cur, t, fact, e.author_id, e.author_role, e.body, e.attachments)
                if e.author_role == "collaborator":
                    cur.execute(
                        f"UPDATE {t(DETAILS)} SET collaborators = collaborators || %s "
                        "WHERE ticket_id = %s AND NOT %s = ANY(collaborators)",
                        ([e.author_id], tid, e.author_id),
                    )
            elif kind == "Ticket.InternalNoteAdded":
                cur.execute(
                    f"INSERT INTO {t(NOTES)} (ticket_id, version, position, at, author_id, "
                    "via, body) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        tid,
                        fact.version,
                        fact.position,
                        e.timestamp,
                        e.author_id,
                        e.stamp.via,
                        clean_text(e.body),
                    ),
                )
            elif kind == "Ticket.StatusChanged":
                changes = {
                    "status": e.to_status,
                    "closed_at": e.timestamp if e.to_status == "closed" else None,
                }
            elif kind in ("Ticket.PriorityRaised", "Ticket.PriorityLowered"):
                changes = {"priority": e.to_priority}
            elif kind == "Ticket.Assigned":
                changes = {"assignee_id": e.agent_id, "support_group": e.group}
            elif kind == "Ticket.TypeChanged":
                changes = {"type": e.to_type}
            elif kind == "Ticket.ProductChanged":
                changes = {"product": clean_text(e.to_product)}
            elif kind == "Ticket.Reopened":
                changes = {
                    "status": "open",
                    "cycle": e.cycle,
                    "closed_at": None,
                    "rating": None,
                    "rating_comment": None,
                }
            elif kind == "Ticket.AttachmentAdded":
                cur.execute(
                    f"INSERT INTO {t(FILES)} (ticket_id, attachment_id, filename, content_type, "
                    "size, added_at, version) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        tid,
                        e.attachment_id,
                        clean_text(e.filename),
                        clean_text(e.content_type),
                        e.size,
                        e.timestamp,
                        fact.version,
                    ),
                )
            elif kind == "Ticket.SatisfactionRated":
                changes = {"rating": e.score, "rating_comment": clean_text(e.comment)}
            assignments = "".join(f", {column} = %s" for column in changes)
            cur.execute(
                f"UPDATE {t(DETAILS)} SET version = %s, position = %s, updated_at = %s"
                f"{assignments} WHERE ticket_id = %s",
                (fact.version, fact.position, e.timestamp, *changes.values(), tid),
            )


def _add_message(
    cur: psycopg.Cursor[Any],
    t: Tables,
    fact: Fact,
    author_id: str,
    author_role: str,
    body: str,
    attachments: list[str],
) -> None:
    cur.execute(
        f"INSERT INTO {t(CONVERSATION)} (ticket_id, version, position, at, author_id, "
        "author_role, attachments, via, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            fact.stream_id,
            fact.version,
            fact.position,
            fact.event.timestamp,
            author_id,
            author_role,
            list(attachments),
            fact.event.stamp.via,
            clean_text(body),
        ),
    )


VIEW = View(NAME, ALL_TICKET_EVENTS, create_tables, apply, (DETAILS, CONVERSATION, NOTES, FILES))


def ticket_key(ref: str) -> tuple[str, Any] | None:
    """The column and value that find ``ref`` (an id or a ``T-000123`` number)."""
    number = parse_number(ref)
    if number is not None:
        return "number", format_number(number)
    try:
        return "ticket_id", UUID(ref)
    except ValueError:
        return None


def detail(
    conn: psycopg.Connection[Any], t: Tables, ref: str, *, with_internal_notes: bool
) -> dict[str, Any] | None:
    """The ticket with its conversation and files; notes only when asked for."""
    key = ticket_key(ref)
    if key is None:
        return None
    column, value = key
    with conn.cursor(row_factory=dict_row) as cur:
        ticket = cur.execute(
            f"SELECT * FROM {t(DETAILS)} WHERE {column} = %s", (value,)
        ).fetchone()
        if ticket is None:
            return None
        tid = ticket["ticket_id"]
        ticket["conversation"] = cur.execute(
            f"SELECT version, position, at, author_id, author_role, via, body, attachments "
            f"FROM {t(CONVERSATION)} WHERE ticket_id = %s ORDER BY version",
            (tid,),
        ).fetchall()
        ticket["attachments"] = cur.execute(
            f"SELECT attachment_id, filename, content_type, size, added_at, version "
            f"FROM {t(FILES)} WHERE ticket_id = %s ORDER BY version, attachment_id",
            (tid,),
        ).fetchall()
        if with_internal_notes:
            ticket["internal_notes"] = cur.execute(
                f"SELECT version, position, at, author_id, via, body "
                f"FROM {t(NOTES)} WHERE ticket_id = %s ORDER BY version",
                (tid,),
            ).fetchall()
    return ticket


def scope_of(conn: psycopg.Connection[Any], t: Tables, ref: str) -> tuple[str, str] | None:
    """The ticket's account and requester, for deciding who may read it."""
    key = ticket_key(ref)
    if key is None:
        return None
    column, value = key
    row = conn.execute(
        f"SELECT account_id, requester_id FROM {t(DETAILS)} WHERE {column} = %s", (value,)
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None
