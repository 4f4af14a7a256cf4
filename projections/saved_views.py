"""Saved views of the inbox: each view's name, owner (none when shared), filters and
version, for the lists of views and the inbox's counts. A removed view is deleted.

The filters are kept as the inbox's query parameters; what they select is read by the
inbox's own parser each time a view is listed (see :mod:`domain.saved_view`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.saved_view import SavedView
from projections.kit import Fact, Layout, Tables, clean_text, each_fact, fetch_all

NAME = "saved_views"
VIEWS = "saved_views"
COLUMNS = "view_id, name, owner_id, filters, version, created_at, updated_at"


TABLES = Layout(
    {
        VIEWS: """
            view_id uuid PRIMARY KEY,
            name text NOT NULL,
            owner_id text,
            filters jsonb NOT NULL,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        """
    },
    indexes=[(VIEWS, "_owner", "(owner_id, name)")],
)


def _filters(filters: dict[str, list[str]]) -> Jsonb:
    return Jsonb({clean_text(k): [clean_text(v) for v in vs] for k, vs in filters.items()})


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    e = fact.event
    match e:
        case SavedView.Saved():
            cur.execute(
                f"INSERT INTO {t(VIEWS)} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (view_id) DO NOTHING",
                (
                    fact.stream_id,
                    clean_text(e.name),
                    e.owner_id,
                    _filters(e.filters),
                    e.originator_version,
                    e.stamp.at,
                    e.stamp.at,
                ),
            )
        case SavedView.Changed():
            cur.execute(
                f"UPDATE {t(VIEWS)} SET name = %s, filters = %s, version = %s, "
                "updated_at = %s WHERE view_id = %s",
                (
                    clean_text(e.name),
                    _filters(e.filters),
                    e.originator_version,
                    e.stamp.at,
                    fact.stream_id,
                ),
            )
        case SavedView.Removed():
            cur.execute(f"DELETE FROM {t(VIEWS)} WHERE view_id = %s", (fact.stream_id,))


VIEW = TABLES.view(
    NAME, {SavedView.Saved, SavedView.Changed, SavedView.Removed}, each_fact(apply_fact)
)


def visible(
    conn: psycopg.Connection[Any], t: Tables, person_id: str, view_id: UUID | None = None
) -> list[dict[str, Any]]:
    """The views ``person_id`` sees: their own by name, then the shared ones by name."""
    where, params = "(owner_id = %s OR owner_id IS NULL)", [person_id]
    if view_id is not None:
        where += " AND view_id = %s"
        params.append(str(view_id))
    return fetch_all(
        conn,
        f"SELECT {COLUMNS} FROM {t(VIEWS)} WHERE {where} ORDER BY owner_id IS NULL, name, view_id",
        params,
    )
