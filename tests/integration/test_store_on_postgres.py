"""The application service and the group-commit recorder on real PostgreSQL."""

from __future__ import annotations

from desk.service import SupportDesk
from tests.builders import desk_with_account, file


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
