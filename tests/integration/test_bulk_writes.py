"""A view's batch written set-wise (store.bulk) leaves the rows one statement per row leaves."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from projections.catalog import VIEWS
from projections.kit import Tables
from projections.runner import ProjectionRunner
from replay.rebuild import defer_indexes, rebuild
from replay.shadow_fold import SHADOW
from store.bulk import STAGED_FROM, upsert_rows
from tests.integration.conftest import worked_tickets

ADD = "ON CONFLICT (cell) DO UPDATE SET n = c.n + excluded.n"


def counts(conn: psycopg.Connection[Any], table: str) -> dict[int, int]:
    return dict(conn.execute(f"SELECT cell, n FROM {table}").fetchall())


class Abandoned(Exception):
    pass


@pytest.mark.parametrize("cells", [3, STAGED_FROM, 5 * STAGED_FROM])
def test_an_upsert_of_few_or_many_rows_adds_to_the_stored_ones_once(
    conn: psycopg.Connection[Any], schema: str, cells: int
) -> None:
    table = f'"{schema}".cells'
    conn.execute(f"CREATE TABLE {table} (cell integer PRIMARY KEY, n integer NOT NULL)")
    rows = [(cell, cell) for cell in range(cells)]

    def add(cur: psycopg.Cursor[Any]) -> None:
        upsert_rows(cur, table, ("cell", "n"), rows, ADD, alias="c")

    def abandoned(cur: psycopg.Cursor[Any]) -> None:
        with conn.transaction():
            add(cur)
            raise Abandoned  # rolled back: what it staged is gone with it

    with conn.cursor() as cur:
        add(cur)
        with pytest.raises(Abandoned):
            abandoned(cur)
        with conn.transaction():  # two uses in one transaction: each writes its own rows
            add(cur)
            add(cur)
    assert counts(conn, table) == {cell: 3 * cell for cell in range(cells)}


def test_views_rebuilt_in_batches_of_many_tickets_equal_the_live_fold_of_one_event_at_a_time(
    database_url: str, schema: str, desk: SupportDesk, conn: psycopg.Connection[Any]
) -> None:
    worked_tickets(desk, STAGED_FROM + 6)  # each batch of the rebuild stages its rows
    live = ProjectionRunner(database_url, schema, VIEWS.values(), batch_size=1)
    live.create_tables()
    live.catch_up()
    indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY 1"
    before = conn.execute(indexes, (schema,)).fetchall()

    checked = rebuild(database_url, schema, list(VIEWS.values()), check=True, processes=1)
    assert checked.differences == {name: [] for name in VIEWS}
    swapped = rebuild(database_url, schema, list(VIEWS.values()), processes=1)
    assert swapped.swapped
    assert conn.execute(indexes, (schema,)).fetchall() == before  # built again, same names


def test_a_rebuild_keeps_the_partial_indexes_a_fold_deletes_through_while_the_bulk_goes_in(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    dashboard = VIEWS["dashboard"]
    shadow = Tables(schema, SHADOW)
    dashboard.create_tables(conn, shadow)
    partial = (
        "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND x.indpred IS NOT NULL ORDER BY 1"
    )
    kept = conn.execute(partial, (schema,)).fetchall()
    assert any("_emptied" in name for (name,) in kept)  # the roll-ups' empty cells

    deferred = defer_indexes(conn, shadow, dashboard)
    assert deferred  # the others go, to be built after the bulk
    assert not any("WHERE" in definition for definition in deferred)
    assert conn.execute(partial, (schema,)).fetchall() == kept
