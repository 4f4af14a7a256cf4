"""``docket accounts`` on real PostgreSQL: an operator opens an account, sells it seats and
Premium, and adds members, with nothing but the command line."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from api.cli import main
from desk.service import SupportDesk
from domain.base import ChainedAggregate
from tests.builders import system

STAMP = system()


def docket(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str]]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    code = int(done.value.code or 0)
    return code, (json.loads(out.out) if code == 0 else {"error": out.err})


def test_an_operator_sets_up_an_account_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    schema: str,
    desk: SupportDesk,
) -> None:
    monkeypatch.setenv("DOCKET_DATABASE_URL", database_url)
    monkeypatch.setenv("DOCKET_SCHEMA", schema)
    code, opened = docket(
        capsys,
        "accounts",
        "open",
        "--name",
        "Fabrikam",
        "--plan",
        "business",
        "--seats",
        "1",
        "--products",
        "Files,Dash",
    )
    assert code == 0
    account = opened["account_id"]
    code, boss = docket(
        capsys,
        "accounts",
        "add-member",
        account,
        "--email",
        "b@fabrikam.example",
        "--name",
        "Boss",
        "--role",
        "admin",
    )
    assert code == 0
    code, refused = docket(
        capsys,
        "accounts",
        "add-member",
        account,
        "--email",
        "w@fabrikam.example",
        "--name",
        "Worker",
    )
    assert code == 1 and "raise the seats" in refused["error"]
    code, refused = docket(capsys, "accounts", "premium", account, "Files", "--level", "enhanced")
    assert code == 1 and "10 seats" in refused["error"]
    assert docket(capsys, "accounts", "seats", account, "10")[0] == 0
    assert docket(capsys, "accounts", "premium", account, "Files", "--level", "enhanced")[0] == 0
    assert docket(capsys, "accounts", "rename", account, "Fabrikam Ltd")[0] == 0
    assert docket(capsys, "accounts", "renewal", account, "2027-12-01")[0] == 0
    code, refused = docket(capsys, "accounts", "account-team", account, "tier-2")
    assert code == 1 and "create it first" in refused["error"]
    desk.register_staff(
        name="Bea", email="bea@desk.test", role="agent", groups=["tier-2"], stamp=STAMP
    )
    assert docket(capsys, "accounts", "account-team", account, "tier-2")[0] == 0
    fabrikam = desk._account(UUID(account))
    assert fabrikam.seats == 10 and fabrikam.is_admin(boss["member_id"])
    assert (fabrikam.name, str(fabrikam.renewal_on), fabrikam.account_team) == (
        "Fabrikam Ltd",
        "2027-12-01",
        "tier-2",
    )
    assert fabrikam.premium_products(fabrikam.add_ons["Files"][0].since) == {"Files": "enhanced"}
    # what an operator does at the command line is on record as such, not as an API call
    events = list(desk.repository.event_store.get(UUID(account)))
    stamps = {
        (e.stamp.actor_kind, e.stamp.via) for e in events if isinstance(e, ChainedAggregate.Event)
    }
    assert stamps == {("admin", "cli")} and len(events) > 5
