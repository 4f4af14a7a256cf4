"""Fuzzed CSV rows never crash an importer: each bad row is reported by line, the rest imported."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.service import SupportDesk
from importers.incident_log import import_incident_log
from importers.tickets_csv import import_tickets_csv
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import fresh_schema, written_csv

TICKET_COLUMNS = [
    "Ticket ID", "Customer Name", "Customer Email", "Customer Age", "Customer Gender",
    "Product Purchased", "Date of Purchase", "Ticket Type", "Ticket Subject",
    "Ticket Description", "Ticket Status", "Resolution", "Ticket Priority", "Ticket Channel",
    "First Response Time", "Time to Resolution", "Customer Satisfaction Rating",
]  # fmt: skip
INCIDENT_COLUMNS = [
    "number", "incident_state", "caller_id", "opened_at", "sys_created_at", "sys_updated_by",
    "sys_updated_at", "contact_type", "location", "category", "subcategory", "u_symptom",
    "priority", "assignment_group", "assigned_to", "resolved_at",
]  # fmt: skip

junk = st.text(string.printable + "é☃\x00", max_size=30)


def maybe(good: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(good), junk)


ticket_rows = st.fixed_dictionaries(dict.fromkeys(TICKET_COLUMNS, junk) | {
    "Ticket ID": st.integers(1, 50).map(str),
    "Customer Email": maybe(["a@example.com", "b@example.com"]),
    "Ticket Status": maybe(["Open", "Pending Customer Response", "Closed"]),
    "Ticket Priority": maybe(["Low", "Medium", "High", "Critical"]),
    "Ticket Channel": maybe(["Email", "Phone", "Chat", "Social media"]),
    "First Response Time": maybe(["2023-06-01 12:00:00", "", "2023-05-01 00:00:00"]),
    "Time to Resolution": maybe(["2023-06-01 13:00:00", ""]),
    "Customer Satisfaction Rating": maybe(["1.0", "5.0", "", "9"]),
})  # fmt: skip
incident_rows = st.fixed_dictionaries(dict.fromkeys(INCIDENT_COLUMNS, junk) | {
    "number": st.sampled_from(["INC1", "INC2", "INC3"]),
    "incident_state": maybe(["New", "Active", "Awaiting User Info", "Resolved", "Closed", "-100"]),
    "opened_at": maybe(["29/2/2016 01:16", "?", "31/13/2016 25:00"]),
    "sys_updated_at": maybe(["29/2/2016 02:16", "1/3/2016 9:05", "?"]),
    "priority": maybe(["1 - Critical", "3 - Moderate", "?"]),
})  # fmt: skip


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[tuple[SupportDesk, ProjectionRunner]]:
    with fresh_schema(database_url) as schema:
        desk = SupportDesk(
            eventsourcing_env(database_url, schema), reopen_window=timedelta(days=36500)
        )
        runner = ProjectionRunner(database_url, schema, VIEWS.values())
        runner.create_tables()
        yield desk, runner
        desk.close()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(ticket_rows, max_size=6), incidents=st.lists(incident_rows, max_size=8))
def test_fuzzed_rows_are_imported_or_reported_never_a_crash(
    world: tuple[SupportDesk, ProjectionRunner], tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]],
    incidents: list[dict[str, str]],
) -> None:  # fmt: skip
    desk, runner = world
    folder = tmp_path_factory.mktemp("fuzz")
    tickets = import_tickets_csv(desk, written_csv(folder / "t.csv", rows, TICKET_COLUMNS))
    assert tickets.rows == len(rows)
    log = import_incident_log(desk, written_csv(folder / "i.csv", incidents, INCIDENT_COLUMNS))
    assert log.rows == len(incidents)
    runner.catch_up()  # and every view takes what was imported (no event it cannot store)
