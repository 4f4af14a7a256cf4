"""Writing many new rows of a view at once.

Views fold a batch in memory and then write it. New rows that can never clash
with stored ones (keyed by log position, or by ticket and version) go in by
``COPY``, which PostgreSQL takes several times faster than the same rows as
pipelined ``INSERT`` statements. Rows that may replace stored ones (a ticket's
row, a roll-up's cell) go in by :func:`upsert_rows`: one statement each while
they are few (a live view's batch), else ``COPY`` into a temporary table and one
``INSERT … SELECT`` from it (a rebuild's or a catch-up's batch), with the same
outcome.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

STAGED_FROM = 64
"""Rows from which :func:`upsert_rows` stages them: below it, one pipelined statement per
row costs less than the three statements staging takes."""


def copy_rows(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append ``rows`` (values in the order of ``columns``) to ``table`` in one ``COPY``."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def upsert_rows(
    cur: psycopg.Cursor[Any],
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: str,
    *,
    alias: str = "",
) -> None:
    """``INSERT INTO table [AS alias] (columns) VALUES (row) {conflict}`` for each of ``rows``.

    ``conflict`` is the statement's ``ON CONFLICT …`` clause. No two rows may share the key
    of a ``DO UPDATE`` (a batch folds each key into one row): staged, they are one
    statement, which PostgreSQL refuses to have change a row twice.
    """
    if not rows:
        return
    named = f"{table} AS {alias}" if alias else table
    listed = ", ".join(columns)
    if len(rows) < STAGED_FROM:
        cur.executemany(
            f"INSERT INTO {named} ({listed}) VALUES ({', '.join(['%s'] * len(columns))}) "
            f"{conflict}",
            rows,
        )
        return
    # named by the table and the columns written: a table made again with other columns
    # under a live session is staged anew, not through a stage of the old columns
    staged_as = hashlib.sha1(f"{table} ({listed})".encode(), usedforsecurity=False)
    stage = f'pg_temp."stage_{staged_as.hexdigest()[:20]}"'
    # the stage lives as long as the session, emptied by each use and at commit (a use
    # rolled back leaves nothing behind); one transaction (or savepoint) for the three
    # statements, or a connection in autocommit would empty it between them
    with cur.connection.transaction():
        cur.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        copy_rows(cur, stage, columns, rows)
        cur.execute(
            f"WITH staged AS (DELETE FROM {stage} RETURNING {listed}) "
            f"INSERT INTO {named} ({listed}) SELECT {listed} FROM staged {conflict}"
        )


def replace_rows(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Each of ``rows`` in ``table`` in place of the stored row with its key (the first of
    ``columns``): what a view writes of the rows a batch folded whole (a ticket's row)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    upsert_rows(cur, table, columns, rows, f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}")
