"""A team account's subscription rules, on the in-memory store: seats, roles, plans, and
Premium support bought per product for the account's admins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from desk.service import SupportDesk
from domain import errors
from domain.account import Account
from domain.ticket import Ticket
from tests.builders import T0, requester, system


@pytest.fixture
def desk() -> SupportDesk:
    return SupportDesk()


def account_of(
    desk: SupportDesk,
    *,
    seats: int = 10,
    plan: str = "business",
    members: Mapping[str, str] | None = None,
) -> UUID:
    """Acme on ``plan`` with ``seats``, Files and Dash, renewing 30 days after T0, and
    ``members`` (each name with its role) joined."""
    account = desk.open_account(
        name="Acme",
        plan=plan,
        seats=seats,
        products=["Files", "Dash"],
        renewal_on=(T0 + timedelta(days=30)).date(),
        stamp=system(),
    ).account_id
    for member, role in (members or {}).items():
        join(desk, account, member, role)
    return account


def join(desk: SupportDesk, account: UUID, member: str, role: str = "member") -> None:
    desk.add_member(
        account,
        member_id=member,
        email=f"{member}@acme.test",
        name=member,
        role=role,
        stamp=system(),
    )


def tier_of_a_ticket(desk: SupportDesk, account: UUID, member: str, product: str) -> str:
    receipt = desk.file_ticket(
        account_id=account,
        requester_id=member,
        subject="Down",
        description="d",
        type="bug",
        priority="normal",
        product=product,
        stamp=requester(who=member),
    )
    opened = desk.repository.event_store.get(receipt.ticket_id)
    first = next(iter(opened))
    assert isinstance(first, Ticket.Opened) and first.sla_terms is not None
    return str(first.sla_terms["tier"])


def test_members_never_exceed_the_seats_and_are_told_to_remove_one_or_raise_the_seats(
    desk: SupportDesk,
) -> None:
    account = account_of(desk, seats=2)
    join(desk, account, "a")
    join(desk, account, "b")
    with pytest.raises(errors.SeatsExhausted) as refused:
        join(desk, account, "c")
    assert "remove a member or raise the seats" in refused.value.detail
    desk.change_seats(account, to_seats=3, stamp=system())
    join(desk, account, "c")


def test_fewer_seats_than_members_are_refused_until_members_are_removed(desk: SupportDesk) -> None:
    account = account_of(desk, seats=3)
    for member in ("a", "b", "c"):
        join(desk, account, member)
    with pytest.raises(errors.SeatsExhausted):
        desk.change_seats(account, to_seats=2, stamp=system())
    desk.remove_member(account, member_id="c", stamp=system())
    desk.change_seats(account, to_seats=2, stamp=system())


def test_a_removed_member_files_nothing_more(desk: SupportDesk) -> None:
    account = account_of(desk, members={"a": "member"})
    tier_of_a_ticket(desk, account, "a", "Files")
    desk.remove_member(account, member_id="a", stamp=system())
    with pytest.raises(errors.NotAMember):
        tier_of_a_ticket(desk, account, "a", "Files")


def test_a_billing_admin_sees_the_subscription_but_is_not_an_admin(desk: SupportDesk) -> None:
    account = account_of(desk, members={"payer": "billing_admin", "plain": "member"})
    a = desk._account(account)
    assert a.sees_subscription("payer") and not a.is_admin("payer")
    assert not a.sees_subscription("plain")
    desk.change_member_roles(
        account, member_id="payer", roles=["admin", "billing_admin"], stamp=system()
    )
    assert desk._account(account).is_admin("payer")
    with pytest.raises(errors.InvalidField):
        desk.change_member_roles(
            account, member_id="plain", roles=["member", "admin"], stamp=system()
        )


def test_an_upgrade_unlocks_filing_at_once_and_a_downgrade_stops_new_filings(
    desk: SupportDesk,
) -> None:
    account = account_of(desk, plan="free", members={"a": "member"})
    with pytest.raises(errors.PlanNotEntitled):
        tier_of_a_ticket(desk, account, "a", "Files")
    desk.change_plan(account, to_plan="starter", stamp=system())
    assert tier_of_a_ticket(desk, account, "a", "Files") == "standard"
    desk.change_plan(account, to_plan="free", stamp=system())
    with pytest.raises(errors.PlanNotEntitled):
        tier_of_a_ticket(desk, account, "a", "Files")


def test_premium_goes_to_the_accounts_admins_on_the_covered_product_only(
    desk: SupportDesk,
) -> None:
    account = account_of(desk, members={"boss": "admin", "worker": "member"})
    desk.add_premium(account, product="Files", level="enhanced", stamp=system())
    assert tier_of_a_ticket(desk, account, "boss", "Files") == "premium_enhanced"
    assert tier_of_a_ticket(desk, account, "boss", "Dash") == "standard"
    assert tier_of_a_ticket(desk, account, "worker", "Files") == "standard"


def test_premium_is_refused_under_ten_seats_and_on_a_free_plan(desk: SupportDesk) -> None:
    small = account_of(desk, seats=9)
    with pytest.raises(errors.PremiumNotAvailable) as refused:
        desk.add_premium(small, product="Files", level="essentials", stamp=system())
    assert "10 seats" in refused.value.detail
    free = account_of(desk, seats=20, plan="free")
    with pytest.raises(errors.PremiumNotAvailable):
        desk.add_premium(free, product="Files", level="essentials", stamp=system())
    with pytest.raises(errors.InvalidField):
        desk.add_premium(account_of(desk), product="Calendar", level="essentials", stamp=system())


def test_removing_premium_takes_effect_at_the_renewal_date_not_at_once(desk: SupportDesk) -> None:
    account = account_of(desk, members={"boss": "admin"})  # renews 30 days after T0
    desk.add_premium(account, product="Files", level="essentials", stamp=system())
    desk.remove_premium(account, product="Files", stamp=system(T0 + timedelta(days=1)))
    a = desk._account(account)
    assert a.tier_for("boss", "Files", T0 + timedelta(days=29)) == "premium_essentials"
    assert a.tier_for("boss", "Files", T0 + timedelta(days=30)) == "standard"
    with pytest.raises(errors.NothingChanged):
        desk.remove_premium(account, product="Files", stamp=system(T0 + timedelta(days=2)))


def test_premium_added_takes_effect_at_once_and_an_instant_before_it_has_none(
    desk: SupportDesk,
) -> None:
    account = account_of(desk, members={"boss": "admin"})
    desk.add_premium(
        account, product="Dash", level="enhanced", stamp=system(T0 + timedelta(hours=1))
    )
    a = desk._account(account)
    assert a.tier_for("boss", "Dash", T0) == "standard"
    assert a.tier_for("boss", "Dash", T0 + timedelta(hours=1)) == "premium_enhanced"


def test_a_stored_version_1_account_reads_as_premium_on_every_product_without_seats(
    desk: SupportDesk,
) -> None:
    account = desk.open_account(
        name="Old", plan="business", support_tier="premium_essentials", stamp=system()
    ).account_id
    stored = desk.recorder.select_events(account)[0]
    state = desk.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    for field in ("premium", "seats", "products", "renewal_on"):
        del state[field]
    state["support_tier"] = "premium_essentials"
    v1 = StoredEvent(stored.originator_id, 1, stored.topic, desk.mapper.transcoder.encode(state))
    opened = desk.mapper.to_domain_event(v1)
    assert isinstance(opened, Account.Opened)
    assert (opened.premium, opened.seats, opened.products) == ({"*": "essentials"}, None, [])
    old = opened.mutate(None)
    assert isinstance(old, Account)
    old.members["boss"] = ("admin",)
    assert old.tier_for("boss", "Anything", T0) == "premium_essentials"
    assert old.renewal_on is None and date(2000, 1, 1) < T0.date()


def group_of_a_ticket(desk: SupportDesk, account: UUID, member: str, type: str) -> str | None:
    receipt = desk.file_ticket(
        account_id=account,
        requester_id=member,
        subject="Question",
        description="d",
        type=type,
        priority="normal",
        product="Files",
        stamp=requester(who=member),
    )
    return desk._ticket(receipt.ticket_id).group


def test_billing_goes_to_billing_an_enterprise_to_its_account_team_and_the_rest_to_tier_1(
    desk: SupportDesk,
) -> None:
    desk.register_staff(
        name="Bea", email="bea@desk.test", role="agent", groups=["tier-2"], stamp=system()
    )
    business = account_of(desk)
    enterprise = account_of(desk, plan="enterprise")
    for account in (business, enterprise):
        join(desk, account, "a")
        desk.set_account_team(account, group="tier-2", stamp=system())
    assert group_of_a_ticket(desk, business, "a", "billing") == "billing"
    assert group_of_a_ticket(desk, business, "a", "bug") == "tier-1"
    assert group_of_a_ticket(desk, enterprise, "a", "bug") == "tier-2"
    assert group_of_a_ticket(desk, enterprise, "a", "billing") == "billing"
    desk.set_account_team(enterprise, group=None, stamp=system())
    assert group_of_a_ticket(desk, enterprise, "a", "question") == "tier-1"


def test_an_account_team_names_a_support_group_that_exists(desk: SupportDesk) -> None:
    account = account_of(desk, plan="enterprise")
    with pytest.raises(errors.UnknownGroup):
        desk.set_account_team(account, group="nobody-yet", stamp=system())
    desk.register_staff(
        name="Bea", email="bea@desk.test", role="agent", groups=["tier-2"], stamp=system()
    )
    desk.set_account_team(account, group="tier-2", stamp=system())
    assert desk._account(account).account_team == "tier-2"
