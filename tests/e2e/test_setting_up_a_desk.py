"""docs/setup.md, step by step: from an empty database, with no ``seed-demo``, an operator
sets up a desk and a member files a ticket that an agent answers. Then the account's
admin removes the member, whose token stops."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.e2e.conftest import created, docket, running_server


@pytest.fixture
def empty_schema(database_url: str) -> Iterator[str]:
    schema = "setup_" + uuid.uuid4().hex[:12]
    yield schema
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_an_operator_sets_up_a_desk_from_an_empty_database_and_a_member_files_a_ticket(
    database_url: str, empty_schema: str
) -> None:
    env = {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": empty_schema}
    init = docket(env, "admin", "init", "--email", "ops@example.org", "--name", "Olga Ops")
    assert init.returncode == 0, init.stderr
    admin_token = init.stdout.strip()
    with running_server(database_url, schema=empty_schema, seed=False) as server:

        def as_(token: str) -> httpx.Client:
            return httpx.Client(
                base_url=server.base_url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,  # httpx's 5 s is short for a machine loaded by other work
            )

        with as_(admin_token) as admin:
            account = created(
                admin.post(
                    "/v1/accounts",
                    json={
                        "name": "Fabrikam",
                        "plan": "business",
                        "seats": 10,
                        "products": ["Files", "Dash"],
                        "renewal_on": "2027-12-01",
                    },
                )
            )["id"]
            premium = admin.put(
                f"/v1/accounts/{account}/premium/Files", json={"level": "enhanced"}
            )
            assert premium.status_code == 200, premium.text
            ana = created(
                admin.post(
                    f"/v1/accounts/{account}/members",
                    json={"email": "ana@fabrikam.example", "name": "Ana Admin", "role": "admin"},
                )
            )
            max_ = created(
                admin.post(
                    f"/v1/accounts/{account}/members",
                    json={
                        "email": "max@fabrikam.example",
                        "name": "Max Member",
                        "language": "fr",
                        "time_zone": "Europe/Paris",
                    },
                )
            )
            alex = created(
                admin.post(
                    "/v1/staff",
                    json={
                        "name": "Alex Agent",
                        "email": "alex@example.org",
                        "role": "agent",
                        "groups": ["tier-1", "billing"],
                    },
                )
            )
            wait = {"min_position": max(max_["position"], alex["position"], ana["position"])}
            tokens = {
                who: created(
                    admin.post(
                        "/v1/tokens",
                        params=wait,
                        json={"name": f"{who} laptop", "person_id": person},
                    )
                )["token"]
                for who, person in (
                    ("max", max_["member_id"]),
                    ("alex", alex["id"]),
                    ("ana", ana["member_id"]),
                )
            }
        with as_(tokens["max"]) as max_client:
            filed = created(
                max_client.post(
                    "/v1/tickets",
                    json={
                        "subject": "Files stop syncing",
                        "description": "Since this morning",
                        "type": "bug",
                        "product": "Files",
                    },
                )
            )
        with as_(tokens["alex"]) as alex_client:
            answered = alex_client.post(
                f"/v1/tickets/{filed['number']}/messages",
                json={"body": "Which version of the app?"},
            )
            assert answered.status_code == 200, answered.text
            detail = alex_client.get(
                f"/v1/tickets/{filed['number']}",
                params={"min_position": answered.json()["position"]},
            ).json()
        assert detail["sla"]["tier"] == "standard"  # Max is no admin: the plan's standard
        assert detail["support_group"] == "tier-1"
        assert [m["body"] for m in detail["conversation"]][-1] == "Which version of the app?"

        with as_(tokens["ana"]) as ana_client:  # the account's admin removes Max
            removed = ana_client.delete(f"/v1/accounts/{account}/members/{max_['member_id']}")
            assert removed.status_code == 200, removed.text
            shown = ana_client.get(
                f"/v1/accounts/{account}/subscription",
                params={"min_position": removed.json()["position"]},
            )
            assert shown.status_code == 200
            assert [m["name"] for m in shown.json()["members"]] == ["Ana Admin"]
        with as_(tokens["max"]) as max_client:
            assert max_client.get("/v1/tickets").status_code == 401
        with as_(tokens["alex"]) as alex_client:  # what Max wrote keeps its author
            again = alex_client.get(f"/v1/tickets/{filed['number']}").json()
        assert again["requester"]["name"] == "Max Member"
