"""The tracking table: each view's committed log position, and what else any process
needs to know of it (its prune horizon, its layout's shape, its last error).

A view's rows and its tracking row are written in one transaction by the runner
(:mod:`projections.runner`); reads ask here how far a view has got.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

TRACKING_TABLE = "projection_tracking"
MARKS_TABLE = "projection_marks"
"""Where each view was when: the runner prunes what no live cursor can still read."""
STUCK_AFTER = 3
"""Failed attempts in a row on the same position after which a view is stuck: health
says ``degraded`` and names it, until it works again."""


def create_tracking_table(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS "{schema}".{TRACKING_TABLE} (
            view text PRIMARY KEY,
            position bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    conn.execute(
        f'ALTER TABLE "{schema}".{TRACKING_TABLE} '
        "ADD COLUMN IF NOT EXISTS pruned_upto bigint NOT NULL DEFAULT 0"
    )
    conn.execute(
        f'ALTER TABLE "{schema}".{TRACKING_TABLE} '
        "ADD COLUMN IF NOT EXISTS shape integer NOT NULL DEFAULT 1"
    )
    conn.execute(
        f'ALTER TABLE "{schema}".{TRACKING_TABLE} ADD COLUMN IF NOT EXISTS last_error text'
    )
    conn.execute(
        f'ALTER TABLE "{schema}".{TRACKING_TABLE} '
        "ADD COLUMN IF NOT EXISTS failures integer NOT NULL DEFAULT 0"
    )
    conn.execute(
        f'ALTER TABLE "{schema}".{TRACKING_TABLE} ADD COLUMN IF NOT EXISTS failing_at bigint'
    )
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS "{schema}".{MARKS_TABLE} (
            view text NOT NULL,
            position bigint NOT NULL,
            at timestamptz NOT NULL
        )
        """
    )


def tracked_positions(conn: psycopg.Connection[Any], schema: str) -> dict[str, int]:
    rows = conn.execute(f'SELECT view, position FROM "{schema}".{TRACKING_TABLE}').fetchall()
    return {str(view): int(position) for view, position in rows}


def tracked_errors(conn: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    """The views whose worker (in any process) is failing, with its last error."""
    rows = conn.execute(
        f'SELECT view, last_error FROM "{schema}".{TRACKING_TABLE} WHERE last_error IS NOT NULL'
    ).fetchall()
    return {str(view): str(error) for view, error in rows}


@dataclass(frozen=True)
class ViewFailure:
    """A view whose worker keeps failing: its last error, how many attempts in a row have
    failed, and the position of the event it fails on (when it got as far as one)."""

    error: str
    failures: int
    failing_at: int | None

    @property
    def stuck(self) -> bool:
        return self.failures >= STUCK_AFTER


def tracked_failures(conn: psycopg.Connection[Any], schema: str) -> dict[str, ViewFailure]:
    """The views whose worker (in any process) is failing, as it put them on record."""
    rows = conn.execute(
        f'SELECT view, last_error, failures, failing_at FROM "{schema}".{TRACKING_TABLE} '
        "WHERE last_error IS NOT NULL"
    ).fetchall()
    return {
        str(view): ViewFailure(str(error), int(failures), None if at is None else int(at))
        for view, error, failures, at in rows
    }


def view_position(conn: psycopg.Connection[Any], schema: str, view: str) -> int:
    row = conn.execute(
        f'SELECT position FROM "{schema}".{TRACKING_TABLE} WHERE view = %s', (view,)
    ).fetchone()
    return int(row[0]) if row else 0


def pruned_upto(conn: psycopg.Connection[Any], schema: str, view: str) -> int:
    """The position at or before which the view's superseded rows may have been pruned."""
    row = conn.execute(
        f'SELECT pruned_upto FROM "{schema}".{TRACKING_TABLE} WHERE view = %s', (view,)
    ).fetchone()
    return int(row[0]) if row else 0
