"""A saved view's count reads the lists' own indexes and stops at its cap: on an inbox
table big enough for the planner to prefer an index (40,000 rows, open tickets the
newest, as on a desk), no count scans the table, and none reads more than a fraction of
it. The same holds at 1,000,000 rows (``python -m bench.views``; docs/performance.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bench.list_rows import fill_inbox
from bench.views import NOW, VIEWS
from projections.catalog import VIEWS as VIEWS_BY_NAME
from projections.kit import Tables
from projections.lists import inbox
from projections.lists.filters import COUNT_CAP, SORTS, ListFilter, count_query
from projections.runner import ProjectionRunner
from projections.tracking import view_position
from replay.rebuild import rebuild
from tests.builders import fresh_schema

ROWS = 40_000


@pytest.fixture(scope="module")
def big_inbox(database_url: str) -> Iterator[tuple[str, str]]:
    with fresh_schema(database_url) as schema:
        with psycopg.connect(database_url, autocommit=True) as conn:
            fill_inbox(conn, schema, ROWS, NOW)
        yield database_url, schema


def scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Scan" in plan["Node Type"]:
        yield plan
    for child in plan.get("Plans", []):
        yield from scans(child)


def plan_of(
    conn: psycopg.Connection[Any], schema: str, where: ListFilter, sort: str | None
) -> dict[str, Any]:
    t = Tables(schema)
    snapshot = view_position(conn, schema, inbox.NAME)
    sql, params = count_query(
        t, inbox.INBOX.rows, inbox.INBOX.search, where, snapshot, SORTS[sort or "attention"]
    )
    row = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", [*params, COUNT_CAP + 1])
    found = row.fetchone()
    assert found is not None
    document = found[0] if not isinstance(found[0], str) else json.loads(found[0])
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_views_count_reads_an_index_and_a_fraction_of_the_table(
    big_inbox: tuple[str, str], name: str
) -> None:
    url, schema = big_inbox
    where, sort = VIEWS[name]
    with psycopg.connect(url, autocommit=True) as conn:
        plan = plan_of(conn, schema, where, sort)
    read = list(scans(plan))
    kinds = {s["Node Type"] for s in read}
    assert kinds and "Seq Scan" not in kinds, (name, kinds)
    assert {s["Index Name"] for s in read if "Index Name" in s} <= {
        *(f"inbox_tickets_{n}" for n in ("attention", "due", "group", "assignee")),
        *(f"inbox_tickets_{n}" for n in ("priority_filter", "activity", "created", "priority")),
    }, name
    touched = sum(
        s["Actual Rows"]
        + s.get("Rows Removed by Filter", 0)
        + s.get("Rows Removed by Index Recheck", 0)
        for s in read
        if s["Node Type"] != "Bitmap Index Scan"
    )
    assert touched <= ROWS // 8, (name, touched)


def statistics_of(conn: psycopg.Connection[Any], schema: str) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT s.stxname, c.relname FROM pg_statistic_ext s "
        "JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s",
        (schema,),
    ).fetchall()
    return {(str(name), str(table)) for name, table in rows}


def test_the_lists_keep_their_statistics_of_twin_facts_through_rebuilds(
    database_url: str, schema: str, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    expected = {
        ("inbox_tickets_facts", "inbox_tickets"),
        ("customer_tickets_facts", "customer_tickets"),
    }
    assert statistics_of(conn, schema) >= expected
    lists = [VIEWS_BY_NAME["inbox"], VIEWS_BY_NAME["customer_tickets"]]
    for _ in range(2):  # the second rebuild's shadow is named as the first one's was
        rebuild(database_url, schema, lists)
        found = {s for s in statistics_of(conn, schema) if s[0].endswith("_facts")}
        assert found >= expected, found
        assert not any("shadow" in name for name, _ in statistics_of(conn, schema))
