"""Writing many new rows of a view at once.

Views fold a batch in memory and then write it. New rows that can never clash
with stored ones (keyed by log position, or by ticket and version) go in by
``COPY``, which PostgreSQL takes several times faster than the same rows as
pipelined ``INSERT`` statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg


def copy_rows(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append ``rows`` (values in the order of ``columns``) to ``table`` in one ``COPY``."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
