"""The application service and the group-commit recorder on real PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from desk.service import SupportDesk
from tests.builders import desk_with_account, file

STARTED = 8


def test_a_filed_ticket_is_stored_and_read_back_by_number(pg_env: dict[str, str]) -> None:
    desk = SupportDesk(pg_env)
    receipt = file(desk, desk_with_account(desk))
    desk.close()
    again = SupportDesk(pg_env)
    facts = again.ticket_facts(receipt.number)
    assert facts.ticket_id == receipt.ticket_id
    assert facts.version == 1
    assert receipt.position > 0
    again.close()


@pytest.mark.parametrize("tables", ["new", "there already"])
def test_desks_started_side_by_side_on_one_schema_all_come_up(
    pg_env: dict[str, str], tables: str
) -> None:
    """As the workers of ``docket serve --workers N`` do: each creates the events table, its
    type, its insert function and the ticket numbers if they are not there, all at once."""
    if tables == "there already":
        SupportDesk(pg_env).close()
    at_once = threading.Barrier(STARTED)
    started: list[SupportDesk] = []
    failed: list[BaseException] = []

    def start() -> None:
        at_once.wait()
        try:
            started.append(SupportDesk(pg_env))
        except BaseException as e:  # the test reports what any start raised
            failed.append(e)

    threads = [threading.Thread(target=start) for _ in range(STARTED)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == []
    numbers = {desk.next_number() for desk in started}
    assert len(numbers) == STARTED  # one sequence, shared
    for desk in started:
        desk.close()
