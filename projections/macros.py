"""The macros staff may use: each agent's personal ones and the shared ones.

One row per macro, as it now reads (title, owner, actions, version); an archived macro
keeps its row, marked, and is listed no more. Staff are answered their own personal
macros and the shared ones: another agent's personal macro is never listed to them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.macro import Macro
from projections.kit import Fact, Layout, Tables, clean_text, each_fact, fetch_all, fetch_one

NAME = "macros"
MACROS = "macros"
COLUMNS = (
    "macro_id", "title", "owner_id", "actions", "version", "position", "created_at",
    "updated_at",
)  # fmt: skip


TABLES = Layout(
    {
        MACROS: """
            macro_id uuid PRIMARY KEY,
            title text NOT NULL,
            owner_id text,
            actions jsonb NOT NULL,
            archived boolean NOT NULL DEFAULT false,
            version integer NOT NULL,
            position bigint NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        """
    },
    # an agent's list: their own and the shared ones, by title
    indexes=[(MACROS, "_owner", "(owner_id, title) WHERE NOT archived")],
)


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    e = fact.event
    moved = (fact.version, fact.position, e.timestamp, fact.stream_id)
    match e:
        case Macro.Created():
            cur.execute(
                f"INSERT INTO {t(MACROS)} (macro_id, title, owner_id, actions, version, "
                "position, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (macro_id) DO NOTHING",
                (fact.stream_id, clean_text(e.title), e.owner_id, Jsonb(clean(e.actions)),
                 fact.version, fact.position, e.timestamp, e.timestamp),
            )  # fmt: skip
        case Macro.Changed():
            cur.execute(
                f"UPDATE {t(MACROS)} SET title = %s, actions = %s, version = %s, "
                "position = %s, updated_at = %s WHERE macro_id = %s",
                (clean_text(e.title), Jsonb(clean(e.actions)), *moved),
            )
        case Macro.Archived():
            cur.execute(
                f"UPDATE {t(MACROS)} SET archived = true, version = %s, position = %s, "
                "updated_at = %s WHERE macro_id = %s",
                moved,
            )


def clean(value: Any) -> Any:
    """The actions with every text as the views keep text (see :func:`clean_text`)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


VIEW = TABLES.view(NAME, {Macro.Created, Macro.Changed, Macro.Archived}, each_fact(apply_fact))


def macros_for(conn: psycopg.Connection[Any], t: Tables, staff_id: str) -> list[dict[str, Any]]:
    """The macros ``staff_id`` may use: their personal ones first, then the shared ones,
    each by title."""
    return fetch_all(
        conn,
        f"SELECT {', '.join(COLUMNS)} FROM {t(MACROS)} "
        "WHERE NOT archived AND (owner_id = %s OR owner_id IS NULL) "
        "ORDER BY owner_id IS NULL, lower(title), macro_id",
        (staff_id,),
    )


def macro(
    conn: psycopg.Connection[Any], t: Tables, macro_id: UUID, staff_id: str
) -> dict[str, Any] | None:
    """One macro, if ``staff_id`` may use it (their own, or shared) and it is not archived."""
    return fetch_one(
        conn,
        f"SELECT {', '.join(COLUMNS)} FROM {t(MACROS)} WHERE macro_id = %s "
        "AND NOT archived AND (owner_id = %s OR owner_id IS NULL)",
        (macro_id, staff_id),
    )
