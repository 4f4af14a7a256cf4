"""Docket's staff over HTTP: an admin registers an agent, puts them in groups, deactivates
them; their token stops on the very next request and their open tickets wait for
reassignment. The CLI drives the same use cases."""

from __future__ import annotations

import json
import uuid
from typing import Any

from psycopg_pool import ConnectionPool

from api.tokens import TokenStore
from desk.access import Principal
from tests.e2e.conftest import Server, created, docket, file_ticket

PROBLEMS = "https://docket.example/problems/"


def token_for(server: Server, staff_id: str, role: str = "agent") -> str:
    """A token as an admin would issue one (the token endpoints are not the staff's)."""
    url = server.env["DOCKET_DATABASE_URL"]
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        return TokenStore(pool, server.schema).issue(Principal(staff_id, role, "New")).token


def register(server: Server, **fields: Any) -> dict[str, Any]:
    body = {"name": "Nina New", "email": f"nina-{uuid.uuid4().hex}@docket.example"}
    with server.client("admin") as admin:
        return created(admin.post("/v1/staff", json={"role": "agent", **body, **fields}))


def test_a_deactivated_agent_is_refused_on_the_next_request_and_their_tickets_wait(
    server: Server,
) -> None:
    nina = register(server, groups=["tier-1"])
    token = token_for(server, nina["id"])
    ticket = file_ticket(server)["number"]
    headers = {"Authorization": f"Bearer {token}"}
    with server.client() as c:
        mine = c.post(
            f"/v1/tickets/{ticket}/assignment",
            headers=headers,
            json={"agent_id": "me", "group": "tier-1"},
        )
        assert mine.status_code == 200, mine.text
        assert c.get("/v1/inbox", headers=headers).status_code == 200
    with server.client("admin") as admin:
        off = admin.post(f"/v1/staff/{nina['id']}/deactivation", headers={"If-Match": '"1"'})
        assert off.status_code == 200, off.text
        again = admin.post(f"/v1/staff/{nina['id']}/deactivation")
        assert again.json()["type"] == PROBLEMS + "nothing-changed"
        listed = admin.get(
            f"/v1/staff/{nina['id']}/open-tickets", params={"min_position": off.json()["position"]}
        )
        assert [t["number"] for t in listed.json()["tickets"]] == [ticket]
        shown = admin.get(
            f"/v1/staff/{nina['id']}", params={"min_position": off.json()["position"]}
        )
        assert (shown.json()["active"], shown.json()["version"]) == (False, 2)
    with server.client() as c:
        refused = c.get("/v1/inbox", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    with server.client("agent") as colleague:
        to_her = colleague.post(
            f"/v1/tickets/{ticket}/assignment", json={"agent_id": nina["id"], "group": None}
        )
        assert to_her.status_code == 409
        assert to_her.json()["type"] == PROBLEMS + "staff-deactivated"
        taken = colleague.post(
            f"/v1/tickets/{ticket}/assignment", json={"agent_id": "me", "group": "tier-1"}
        )
        assert taken.status_code == 200, taken.text


def test_assignments_name_an_agent_and_a_group_that_exists(server: Server) -> None:
    ticket = file_ticket(server)["number"]
    with server.client("admin") as admin:
        to_admin = admin.post(f"/v1/tickets/{ticket}/assignment", json={"agent_id": "me"})
        assert to_admin.status_code == 422
        assert to_admin.json()["type"] == PROBLEMS + "not-an-agent"
        nowhere = admin.post(
            f"/v1/tickets/{ticket}/assignment", json={"agent_id": None, "group": "no-such-group"}
        )
        assert nowhere.status_code == 404
        assert "POST /v1/groups" in nowhere.json()["detail"]


def test_an_admin_creates_a_group_and_puts_an_agent_in_it_and_takes_them_out(
    server: Server,
) -> None:
    name = f"g-{uuid.uuid4().hex[:8]}"
    nina = register(server)
    with server.client("admin") as admin:
        key = {"Idempotency-Key": f"group-{name}"}
        made = admin.post("/v1/groups", json={"name": name}, headers=key)
        assert made.status_code == 201, made.text
        assert admin.post("/v1/groups", json={"name": name}, headers=key).json() == made.json()
        twice = admin.post("/v1/groups", json={"name": name})
        assert (twice.status_code, twice.json()["type"]) == (409, PROBLEMS + "already-exists")
        stale = admin.put(f"/v1/groups/{name}/members/{nina['id']}", headers={"If-Match": '"7"'})
        assert stale.status_code == 412
        joined = admin.put(f"/v1/groups/{name}/members/{nina['id']}", headers={"If-Match": '"1"'})
        assert joined.status_code == 200, joined.text
        groups = admin.get("/v1/groups", params={"min_position": joined.json()["position"]})
        members = {g["name"]: [a["id"] for a in g["agents"]] for g in groups.json()["groups"]}
        assert members[name] == [nina["id"]]
        assert {"tier-1", "tier-2", "billing"} <= set(members)  # named at seed-demo registration
        left = admin.delete(f"/v1/groups/{name}/members/{nina['id']}")
        assert left.status_code == 200
        listed = admin.get(
            "/v1/staff",
            params={"min_position": left.json()["position"], "role": "agent", "active": "true"},
        )
        rows = {s["id"]: s for s in listed.json()["staff"]}
        assert rows[nina["id"]]["groups"] == []
        unknown = admin.put(f"/v1/groups/nowhere-{name}/members/{nina['id']}")
        assert unknown.json()["type"] == PROBLEMS + "unknown-group"
        dup = admin.post(
            "/v1/staff", json={"name": "N", "email": rows[nina["id"]]["email"], "role": "agent"}
        )
        assert dup.status_code == 409


def test_the_cli_registers_staff_creates_groups_and_deactivates(server: Server) -> None:
    def run(*args: str) -> str:
        done = docket(server.env, *args, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    group = f"cli-{uuid.uuid4().hex[:8]}"
    assert json.loads(run("groups", "add", group))["group"] == group
    email = f"cli-{uuid.uuid4().hex}@docket.example"
    made = json.loads(run("staff", "add", "--name", "Cleo", "--email", email, "--role", "agent"))
    run("groups", "add-agent", group, made["id"])
    off = json.loads(run("staff", "deactivate", made["id"]))
    assert off["version"] == 3
    with server.client("admin") as admin:
        shown = admin.get(f"/v1/staff/{made['id']}", params={"min_position": off["position"]})
    assert (shown.json()["groups"], shown.json()["active"]) == ([group], False)
    assert "Cleo" in run("staff", "list")
