"""Rebuild views from position 0 while the live ones keep serving, then swap.

A rebuild fills shadow copies of a view's tables (suffix ``__shadow``) from the
whole log, reading each batch once for every view being rebuilt. When the
shadows are close to the head it builds their indexes (all but those of their keys,
dropped while the bulk goes in), takes the live views' tracking rows (their
workers then skip them), brings the shadows to the head as it is then, inside
the same transaction, and swaps: live tables dropped, shadows renamed into
their place (indexes too), tracking moved. Readers see the old view or the new
one, never a half-built one. ``check`` instead brings live and shadow to the same position
and compares them row for row (current rows of temporal tables), then drops
the shadows.

A damaged log never makes a rebuild crash: a stored row that does not decode, or an
event a view cannot fold (a version written twice breaks a view's key), is left out
and reported with its position; a check lists it among the view's differences, and a
rebuild that met one swaps nothing in (the live views stay as they are) and says why.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper

from projections.kit import Tables, View
from projections.lists.ticket_rows import OPEN_END
from projections.runner import ProjectionRunner
from projections.tracking import TRACKING_TABLE, create_tracking_table
from replay.shadow_fold import SHADOW, Progress, RebuildReport, apply_to_shadow, bulk
from replay.spread import RebuildInterrupted, bulk_spread, deal
from store.eventstore import docket_mapper
from store.log import log_head, read_facts

__all__ = ["Progress", "RebuildInterrupted", "RebuildReport", "rebuild"]

SPREAD_FROM = 50_000
"""Events in a stretch from which a rebuild left to choose spreads it over processes
(below it, starting them costs more than it saves)."""
SWAP_ATTEMPTS = 5
SWAP_LOCK_TIMEOUT = "5s"
CATCH_UP_ROUNDS = 5
"""Further bulk passes at most, each to the head the last one left behind."""


def rebuild(
    url: str,
    schema: str,
    views: Sequence[View],
    *,
    check: bool = False,
    batch_size: int = 5000,
    progress: Callable[[Progress], None] | None = None,
    mapper: Mapper[UUID] | None = None,
    processes: int | None = None,
) -> RebuildReport:
    """Rebuild ``views`` (or with ``check`` compare them); see the module's docstring.

    ``processes``: how many processes fold the bulk of the log, each a group of the
    views (:mod:`replay.spread`); 1 folds it in this process. Left to choose, a
    stretch of at least :data:`SPREAD_FROM` events is spread over as many processes
    as the machine has cores (at most one per view), a shorter one is not. A given
    ``mapper`` folds in this process (the processes decode with Docket's own).
    """
    shadow = Tables(schema, SHADOW)
    tracking = f'"{schema}".{TRACKING_TABLE}'
    report = RebuildReport([v.name for v in views], failures={v.name: [] for v in views})
    spread_over = 1 if mapper is not None else processes
    mapper = mapper or docket_mapper()
    deferred: list[str] = []  # the shadows' indexes that back no constraint, built after the bulk
    with psycopg.connect(url, autocommit=True) as conn:
        create_tracking_table(conn, schema)
        for view in views:
            with conn.transaction():
                drop_tables(conn, shadow, view)
                view.create_tables(conn, shadow)
                deferred += defer_indexes(conn, shadow, view)
                for table in view.tables:  # see swap(): no autovacuum inside the rebuild
                    conn.execute(f"ALTER TABLE {shadow(table)} SET (autovacuum_enabled = false)")
                conn.execute(f"DELETE FROM {tracking} WHERE view = %s", (view.name + SHADOW,))
                conn.execute(
                    f"INSERT INTO {tracking} (view, position) VALUES (%s, 0)",
                    (view.name + SHADOW,),
                )
        began = time.perf_counter()
        head = log_head(conn, schema)

        def show(position: int, folding: int = 0) -> None:
            nonlocal head
            if progress is not None:
                if position >= head:
                    head = log_head(conn, schema)
                seconds = time.perf_counter() - began
                progress(Progress(report.events + folding, position, head, seconds))

        def fold(start: int, target: int) -> int:
            count = spread_over
            if count is None:
                count = (os.cpu_count() or 1) if target - start >= SPREAD_FROM else 1
            if count > 1 and len(views) > 1:
                groups = deal(views, count)
                return bulk_spread(url, schema, groups, batch_size, report, show,
                                   start=start, target=target)  # fmt: skip
            return bulk(url, conn, schema, views, shadow, batch_size, mapper, report, show,
                        start=start, target=target)  # fmt: skip

        try:
            # to the head as it was, then again to where writers meanwhile took it while
            # that is more than a batch: the stretch held under lock in finish() stays short
            position = fold(0, head)
            for _ in range(CATCH_UP_ROUNDS):
                target = log_head(conn, schema)
                if target - position <= batch_size:
                    break
                position = fold(position, target)
            for index in deferred:
                conn.execute(index)
            for attempt in range(1, SWAP_ATTEMPTS + 1):
                try:
                    report.events += finish(conn, schema, views, shadow, position, batch_size,
                                            mapper, report, check=check, url=url)  # fmt: skip
                    break
                except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
                    # rolled back whole: the shadows stand at ``position`` still; try again
                    if attempt == SWAP_ATTEMPTS:
                        raise
                    time.sleep(0.1 * attempt)
        except BaseException:  # interrupted: the live views stay; no half-built shadow is left
            with contextlib.suppress(psycopg.Error):
                drop_shadows(conn, tracking, shadow, views)
            raise
        report.seconds = time.perf_counter() - began
        if not report.swapped:
            drop_shadows(conn, tracking, shadow, views)
    return report


def drop_shadows(
    conn: psycopg.Connection[Any], tracking: str, shadow: Tables, views: Sequence[View]
) -> None:
    with conn.transaction():
        for view in views:
            drop_tables(conn, shadow, view)
            conn.execute(f"DELETE FROM {tracking} WHERE view = %s", (view.name + SHADOW,))


def finish(
    conn: psycopg.Connection[Any],
    schema: str,
    views: Sequence[View],
    shadow: Tables,
    position: int,
    batch_size: int,
    mapper: Mapper[UUID],
    report: RebuildReport,
    *,
    check: bool,
    url: str,
) -> int:
    """The last stretch and the swap (or the comparison), live views held; events read.

    One transaction that waits at most ``SWAP_LOCK_TIMEOUT`` for each lock, so a
    reader or worker in the way makes it fail whole and be tried again. The
    stretch ends at the head as it is once the locks are held: events appended
    meanwhile are the live workers' to apply after the swap, so writers going
    on cannot keep the rebuild from ending.
    """
    live = Tables(schema)
    tracking = f'"{schema}".{TRACKING_TABLE}'
    read_total = 0
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
        for view in views:
            conn.execute(f"SELECT 1 FROM {tracking} WHERE view = %s FOR UPDATE", (view.name,))
        target = log_head(conn, schema)
        while position < target:
            read, position = replay_batch(
                conn, schema, views, shadow, position, batch_size, mapper, report
            )  # fmt: skip
            read_total += read
            if read == 0:
                break
        report.position = position
        if check:
            runner = ProjectionRunner(url, schema, views, mapper=mapper)
            for view in views:
                lines = report.failures[view.name]
                try:
                    while runner.step(conn, view, position):
                        pass
                except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
                    raise
                except Exception as error:  # the live view is stuck: compare where it is
                    lines = [*lines, f"the live view cannot reach position {position}: "
                                     f"{type(error).__name__}: {error}"[:500]]  # fmt: skip
                report.differences[view.name] = lines + compare(conn, live, shadow, view)
            return read_total
        if report.damaged:  # never swap in a view that left events out
            report.differences = {v.name: report.failures[v.name] for v in views}
            return read_total
        for view in views:
            swap(conn, live, shadow, view)
            # cursors of walks begun before the swap read versions the rebuild
            # folded differently: they expire (position as their horizon)
            conn.execute(
                f"UPDATE {tracking} SET position = %s, pruned_upto = %s, "
                "shape = %s, updated_at = now() WHERE view = %s",
                (position, position, view.shape, view.name),
            )
            conn.execute(f"DELETE FROM {tracking} WHERE view = %s", (view.name + SHADOW,))
    report.swapped = True
    return read_total


def replay_batch(
    conn: psycopg.Connection[Any],
    schema: str,
    views: Sequence[View],
    shadow: Tables,
    after: int,
    batch_size: int,
    mapper: Mapper[UUID],
    report: RebuildReport,
) -> tuple[int, int]:
    """One batch of the log into every shadow view, in one transaction; (read, position)."""
    wanted = set().union(*(v.handles for v in views))
    with conn.transaction():
        read, position, facts = read_facts(
            conn, schema, after, batch_size, mapper, wanted, report.unreadable_row
        )
        if not read:
            return 0, after
        for view in views:
            apply_to_shadow(
                conn, schema, view, shadow, facts, position, report.failures[view.name]
            )
    return read, position


def defer_indexes(conn: psycopg.Connection[Any], shadow: Tables, view: View) -> list[str]:
    """Drop the indexes of ``view``'s shadow tables that back no constraint and are not
    partial; the statements that create them again.

    PostgreSQL builds an index over a table's rows in one sort, for a fraction of what
    keeping it up row by row costs while the bulk goes in (the inbox has eighteen, GIN
    ones among them). A view's fold finds its rows by their keys (primary keys, whose
    indexes stay). Partial indexes stay too: they are small, and a fold may use one
    (the dashboard's roll-ups delete their emptied cells through ``…_emptied`` after a
    batch; without it each batch would scan the whole roll-up).
    """
    found = conn.execute(
        "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND t.relname = ANY(%s) AND x.indpred IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
        (shadow.schema, [table + shadow.suffix for table in view.tables]),
    ).fetchall()
    for name, _ in found:
        conn.execute(f'DROP INDEX "{shadow.schema}"."{name}"')
    return [definition for _, definition in found]


def drop_tables(conn: psycopg.Connection[Any], t: Tables, view: View) -> None:
    for table in view.tables:
        conn.execute(f"DROP TABLE IF EXISTS {t(table)} CASCADE")


SHADOW_NAMED = (
    ("INDEX", "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s"),
    (
        "STATISTICS",
        "SELECT s.stxname FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
    ),
)
"""What a shadow table names after itself and the swap renames with it: each kind with
how to find its names (by schema and table)."""


def swap(conn: psycopg.Connection[Any], live: Tables, shadow: Tables, view: View) -> None:
    """Drop the live tables and rename the shadows (and their indexes and statistics) into
    their place.

    Autovacuum stays off the shadows until here: an ANALYZE of a shadow holds a
    lock the rename needs while it waits for this transaction's catalog rows,
    a deadlock PostgreSQL settles by aborting the swap.
    """
    drop_tables(conn, live, view)
    for table in view.tables:
        for kind, named_on in SHADOW_NAMED:
            for (name,) in conn.execute(named_on, (live.schema, table + SHADOW)).fetchall():
                conn.execute(
                    f'ALTER {kind} "{live.schema}"."{name}" RENAME TO "{name.replace(SHADOW, "")}"'
                )
        conn.execute(f'ALTER TABLE {shadow(table)} RENAME TO "{table}"')
        conn.execute(f"ALTER TABLE {live(table)} RESET (autovacuum_enabled)")


def compare(conn: psycopg.Connection[Any], live: Tables, shadow: Tables, view: View) -> list[str]:
    """Rows in one and not the other, per table (current rows for temporal tables)."""
    differences = []
    for table in view.tables:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (live.schema, table),
            )
        ]
        where = f"WHERE valid_to = {OPEN_END}" if "valid_to" in columns else ""
        listed = ", ".join(f'"{c}"' for c in columns)
        for name, a, b in (("only live", live, shadow), ("only rebuilt", shadow, live)):
            rows = conn.execute(
                f"SELECT {listed} FROM {a(table)} {where} EXCEPT ALL "
                f"SELECT {listed} FROM {b(table)} {where} LIMIT 5"
            ).fetchall()
            differences += [f"{table}: {name}: {row!r}"[:500] for row in rows]
    return differences
