"""The application service and the group-commit recorder on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from desk.service import SupportDesk
from domain.stamp import Stamp

AT = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def test_a_filed_ticket_is_stored_and_read_back_by_number(pg_env: dict[str, str]) -> None:
    desk = SupportDesk(pg_env)
    system = Stamp("system", "system", "api", AT)
    account = desk.open_account(
        name="Acme", plan="business", support_tier="standard", stamp=system
    )
    desk.add_member(
        account, member_id="u1", email="u1@acme.test", name="U", role="member", stamp=system
    )
    receipt = desk.file_ticket(
        account_id=account,
        requester_id="u1",
        subject="Sync fails",
        description="It fails",
        type="bug",
        priority="normal",
        product="Files",
        stamp=Stamp("u1", "requester", "web", AT),
    )
    desk.close()
    again = SupportDesk(pg_env)
    facts = again.ticket_facts(receipt.number)
    assert facts.ticket_id == receipt.ticket_id
    assert facts.version == 1
    assert receipt.position > 0
    again.close()
