"""``docket seed-demo``: a small world to try Docket with, a token per role, and a
sign-in link per demo person for the pages (so the demo needs no mail server).

Accounts and people have fixed ids, so running it twice creates nothing twice;
each run issues fresh tokens (earlier ones stay valid) and fresh links. A printed link
works once, for :data:`DEMO_LINK_LIFETIME` (an emailed one for 15 minutes).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError

from api.runtime import Runtime
from desk.access import GATEWAY_ROLE, Principal
from domain.errors import AlreadyExists
from domain.stamp import Stamp
from importers.help_articles import SHIPPED, load_articles
from mail.sign_in import sign_in_url


def demo_id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"docket:demo:{name}")


@dataclass(frozen=True)
class DemoAccount:
    name: str
    plan: str
    seats: int
    calendar: str
    premium: dict[str, str]
    """Product → Premium level bought (for the account's admins)."""
    account_team: str | None = None


PRODUCTS = ["Files", "Dash"]
ACCOUNTS = {
    "northwind": DemoAccount(
        "Northwind Traders", "business", 25, "24x7", {"Files": "enhanced", "Dash": "enhanced"}
    ),
    "contoso": DemoAccount(
        "Contoso Public Works",
        "enterprise",
        50,
        "us-public-sector",
        {"Files": "essentials", "Dash": "essentials"},
        account_team="tier-2",
    ),
    "freebies": DemoAccount("Freebies Club", "free", 5, "24x7", {}),
}
MEMBERS = {
    "requester": ("northwind", "Rita Requester", "rita@northwind.example", "member"),
    "team_admin": ("northwind", "Tom Teamadmin", "tom@northwind.example", "admin"),
    "requester_other_account": ("contoso", "Carl Contoso", "carl@contoso.example", "member"),
    "free_user": ("freebies", "Fran Free", "fran@freebies.example", "member"),
}


class DemoStaff(TypedDict):
    """A staff member as the desk registers them."""

    name: str
    email: str
    role: str
    groups: list[str]


STAFF: dict[str, DemoStaff] = {
    "agent": {
        "name": "Alex Agent",
        "email": "alex@docket.example",
        "role": "agent",
        "groups": ["tier-1", "billing"],
    },
    "agent_tier2": {
        "name": "Bea Backline",
        "email": "bea@docket.example",
        "role": "agent",
        "groups": ["tier-2"],
    },
    "auditor": {
        "name": "Ada Auditor",
        "email": "ada@docket.example",
        "role": "auditor",
        "groups": [],
    },
    "analyst": {
        "name": "Ann Analyst",
        "email": "ann@docket.example",
        "role": "analyst",
        "groups": [],
    },
    "admin": {"name": "Ada Admin", "email": "root@docket.example", "role": "admin", "groups": []},
}


DEMO_LINK_LIFETIME = timedelta(hours=8)


def sign_in_link(runtime: Runtime, person_id: UUID, name: str, email: str) -> str:
    """A link that signs the demo person in, printed rather than mailed."""
    token = runtime.sign_ins.ask(
        person_id=str(person_id),
        email=email,
        name=name,
        language="en",
        time_zone=None,
        mailed=False,
        lifetime=DEMO_LINK_LIFETIME,
    )
    assert token is not None  # printed links are never held back
    return sign_in_url(runtime.settings.public_url, token)


def seed(runtime: Runtime) -> dict[str, Any]:
    desk = runtime.desk
    stamp = Stamp("seed-demo", "system", "cli", datetime.now(UTC))
    renewal = (stamp.at + timedelta(days=365)).date()
    out: dict[str, Any] = {}
    for role, member in STAFF.items():
        staff_id = demo_id(role)
        try:
            desk.repository.get(staff_id)
        except AggregateNotFoundError:
            desk.register_staff(**member, stamp=stamp, staff_id=staff_id)
        out[role] = runtime.tokens.issue(
            Principal(str(staff_id), member["role"], member["name"]), name="seed-demo"
        ).token
    # accounts after staff: an account team names a group the agents' registration made
    for key, a in ACCOUNTS.items():
        try:
            desk.repository.get(demo_id(key))
        except AggregateNotFoundError:
            opened = desk.open_account(
                name=a.name,
                plan=a.plan,
                seats=a.seats,
                calendar=a.calendar,
                products=PRODUCTS,
                renewal_on=renewal,
                stamp=stamp,
                account_id=demo_id(key),
            ).account_id
            for product, level in a.premium.items():
                desk.add_premium(opened, product=product, level=level, stamp=stamp)
            if a.account_team is not None:
                desk.set_account_team(opened, group=a.account_team, stamp=stamp)
    for role, (account, name, email, member_role) in MEMBERS.items():
        member_id = str(demo_id(role))
        with contextlib.suppress(AlreadyExists):
            desk.add_member(
                demo_id(account),
                member_id=member_id,
                email=email,
                name=name,
                role=member_role,
                stamp=stamp,
            )
        api_role = "team_admin" if member_role == "admin" else "requester"
        principal = Principal(member_id, api_role, name, demo_id(account))
        out[role] = runtime.tokens.issue(principal, name="seed-demo").token
    out["articles"] = load_articles(desk, SHIPPED, stamp).counts()
    out["mail_gateway"] = runtime.tokens.issue(
        Principal("mail-gateway", GATEWAY_ROLE, "Mail gateway"), name="seed-demo"
    ).token
    out["accounts"] = {key: str(demo_id(key)) for key in ACCOUNTS}
    out["agent_id"] = str(demo_id("agent"))
    out["support_groups"] = ["tier-1", "tier-2", "billing"]
    links = {
        role: sign_in_link(runtime, demo_id(role), m["name"], m["email"])
        for role, m in STAFF.items()
    }
    for role, (_, name, email, _) in MEMBERS.items():
        links[role] = sign_in_link(runtime, demo_id(role), name, email)
    out["sign_in_links"] = links
    return out
