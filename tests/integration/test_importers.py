"""Both importers on slices of the real data sets: figures match the CSV, reruns add nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from importers.incident_log import PRIORITIES as INCIDENT_PRIORITIES
from importers.incident_log import import_incident_log, when
from importers.tickets_csv import STATUSES, import_tickets_csv
from projections import dashboard
from projections.catalog import VIEWS
from projections.dashboard import DashboardFilter
from projections.runner import ProjectionRunner
from tests.builders import csv_rows, written_csv

FIXTURES = Path(__file__).parent.parent / "fixtures"
TICKETS = FIXTURES / "customer_support_tickets_head.csv.gz"
INCIDENTS = FIXTURES / "incident_event_log_head.csv.gz"
EVERYTHING = DashboardFilter()


@pytest.fixture
def desk(pg_env: dict[str, str]) -> Iterator[SupportDesk]:
    desk = SupportDesk(pg_env, reopen_window=timedelta(days=36500))
    yield desk
    desk.close()


def projected(database_url: str, schema: str) -> ProjectionRunner:
    runner = ProjectionRunner(database_url, schema, [VIEWS["dashboard"], VIEWS["ticket_detail"]])
    runner.create_tables()
    runner.catch_up()
    return runner


def counted(rows: list[dict[str, Any]], key: str, value: str = "tickets") -> dict[str, int]:
    return {r[key]: r[value] for r in rows}


def top(counter: Counter[str], n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def test_the_tickets_csv_slice_imports_with_figures_that_match_the_file(
    database_url: str, schema: str, desk: SupportDesk, conn: psycopg.Connection[Any]
) -> None:
    rows = csv_rows(TICKETS)
    report = import_tickets_csv(desk, TICKETS)
    assert (report.rows, report.tickets) == (len(rows), len(rows))
    t = projected(database_url, schema).tables

    by_status = Counter(STATUSES[r["Ticket Status"]] for r in rows)
    assert counted(dashboard.summary(conn, t, EVERYTHING), "status") == dict(by_status)
    topics = Counter(r["Ticket Type"] for r in rows)
    issues = dashboard.top_issues(conn, t, EVERYTHING, limit=3)
    assert [(r["name"], r["tickets"]) for r in issues if r["dimension"] == "topic"] == top(
        topics, 3
    )
    products = Counter(
        r["Product Purchased"] for r in rows if r["Ticket Type"] == "Refund request"
    )
    per_topic = dashboard.top_products(conn, t, EVERYTHING, "Refund request", 5)
    assert [(r["product"], r["tickets"]) for r in per_topic if r["scope"] == "topic"] == top(
        products, 5
    )
    ratings: dict[str, list[int]] = {}
    for r in rows:
        if r["Customer Satisfaction Rating"]:
            ratings.setdefault(r["Product Purchased"], []).append(
                round(float(r["Customer Satisfaction Rating"]))
            )
    figures = dashboard.satisfaction(conn, t, EVERYTHING, "product")
    assert {r["name"]: (r["ratings"], r["mean_rating"]) for r in figures} == {
        p: (len(v), round(sum(v) / len(v), 4)) for p, v in ratings.items()
    }

    again = import_tickets_csv(desk, TICKETS)
    assert (again.tickets, again.already_there) == (0, len(rows))


def test_the_incident_log_slice_imports_with_figures_that_match_the_file(
    database_url: str, schema: str, desk: SupportDesk, conn: psycopg.Connection[Any]
) -> None:
    rows = csv_rows(INCIDENTS)
    first_rows: dict[str, dict[str, str]] = {}
    for r in rows:
        first_rows.setdefault(r["number"], r)
    report = import_incident_log(desk, INCIDENTS)
    assert (report.rows, report.tickets) == (len(rows), len(first_rows))
    t = projected(database_url, schema).tables

    assert counted(dashboard.summary(conn, t, EVERYTHING), "status") == {"closed": len(first_rows)}
    categories = Counter(r["category"] for r in first_rows.values())
    issues = dashboard.top_issues(conn, t, EVERYTHING, limit=5)
    assert [(r["name"], r["tickets"]) for r in issues if r["dimension"] == "topic"] == top(
        categories, 5
    )
    filed = Counter(
        when(r["opened_at"]).date().replace(day=1)  # type: ignore[union-attr]
        for r in first_rows.values()
    )
    volume = dashboard.volume(conn, t, EVERYTHING, "month")
    assert {r["bucket"]: r["filed"] for r in volume if r["filed"]} == dict(filed)
    last_priority = {r["number"]: INCIDENT_PRIORITIES[r["priority"]] for r in rows}
    times = dashboard.times(conn, t, EVERYTHING, "priority")
    assert counted(times, "name") == dict(Counter(last_priority.values()))

    again = import_incident_log(desk, INCIDENTS)
    assert (again.tickets, again.already_there) == (0, len(first_rows))


def test_rows_an_importer_cannot_use_are_reported_by_line_and_the_rest_imported(
    desk: SupportDesk, tmp_path: Path
) -> None:
    rows = csv_rows(TICKETS)[:3]
    rows[1]["Ticket Priority"] = "Whenever"
    path = written_csv(tmp_path / "tickets.csv", rows)
    report = import_tickets_csv(desk, path)
    assert report.tickets == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    bad_line = next(
        i for i, line in enumerate(lines, start=1) if line.startswith(rows[1]["Ticket ID"] + ",")
    )
    assert [line for line, reason in report.problems if "Whenever" in reason] == [bad_line]
