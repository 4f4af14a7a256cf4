"""A server whose database someone edited: every answer about the damage is a clear
problem or a report naming the ticket, never a 500, and /healthz says what is stuck."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import Server, created, docket, file_ticket, running_server


@pytest.fixture(scope="module")
def damaged(database_url: str) -> Iterator[Server]:
    with running_server(database_url) as server:
        yield server


def worked(server: Server) -> dict[str, Any]:
    filed = file_ticket(server, subject="Will be tampered with")
    with server.client("agent") as agent:
        for n in range(2):
            answer = agent.post(f"/v1/tickets/{filed['number']}/messages", json={"body": f"r{n}"})
            assert answer.status_code == 200, answer.text
        seen = agent.get(f"/v1/tickets/{filed['number']}",
                         params={"min_position": answer.json()["position"]})  # fmt: skip
        assert seen.status_code == 200
    return filed


def sql(server: Server, statement: str, *params: Any) -> Any:
    """Run ``statement`` (``EVENTS``: the server's event table) on the server's database."""
    with psycopg.connect(server.env["DOCKET_DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(
            statement.replace("EVENTS", f'"{server.schema}".docket_events'), params
        ).fetchall()


def worked_and_damaged(server: Server, damage: str) -> tuple[dict[str, Any], int]:
    """A worked ticket, then ``damage`` done to it: SQL on ``EVENTS`` taking the ticket's id
    and returning the position of the one event it wrote. The ticket and that position."""
    filed = worked(server)
    [(position,)] = sql(server, damage, filed["id"])
    return filed, position


def is_problem(answer: Any, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["type"].endswith("/" + slug) and body["title"] and body["detail"]
    return body


def test_undecodable_bytes_answer_a_damage_problem_on_history_writes_and_verify(
    damaged: Server,
) -> None:
    filed, position = worked_and_damaged(
        damaged,
        "UPDATE EVENTS SET state = '\\xfffe'::bytea WHERE originator_id = %s "
        "AND originator_version = 2 RETURNING notification_id",
    )
    with damaged.client("auditor") as auditor:
        history = auditor.get(f"/v1/audit/tickets/{filed['number']}/events")
        body = is_problem(history, 409, "ticket-damaged")
        assert [(d["version"], d["position"]) for d in body["damages"]] == [(2, position)]
        assert body["readable_versions"] == [1, 3] and "verify" in body["detail"]
        verified = auditor.get("/v1/audit/verify", params={"ticket": filed["number"]}).json()
        assert not verified["ok"]
        assert {(d["label"], d["version"], d["kind"]) for d in verified["damages"]} == {
            (f"ticket {filed['number']}", 2, "edited")
        }, verified["damages"]
    with damaged.client("agent") as agent:
        refused = agent.post(f"/v1/tickets/{filed['number']}/messages", json={"body": "more"})
        assert filed["number"] in is_problem(refused, 409, "ticket-damaged")["detail"]
    with damaged.client("requester") as requester:  # its owner is refused alike
        refused = requester.post(f"/v1/tickets/{filed['number']}/messages", json={"body": "hi"})
        is_problem(refused, 409, "ticket-damaged")


def test_a_view_stuck_on_a_damaged_event_makes_health_degraded_naming_it(
    damaged: Server,
) -> None:
    # the last event deleted and stored again at its version: the detail view holds it
    filed, moved = worked_and_damaged(
        damaged,
        "WITH gone AS (DELETE FROM EVENTS WHERE originator_id = %s AND originator_version = 3 "
        "RETURNING originator_id, originator_version, topic, state) "
        "INSERT INTO EVENTS (originator_id, originator_version, topic, state) "
        "SELECT * FROM gone RETURNING notification_id",
    )
    with damaged.client() as anonymous:
        deadline = time.monotonic() + 60
        while True:
            health = anonymous.get("/healthz")
            body = health.json()
            if body["status"] == "degraded":
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
    assert health.status_code == 200  # reads still served, from views that stopped moving
    detail = body["projections"]["ticket_detail"]
    assert detail["stuck_at"] == moved and detail["failures"] >= 3
    assert any(f"ticket_detail is stuck at position {moved}" in r for r in body["reasons"])
    with damaged.client("auditor") as auditor:
        verified = auditor.get("/v1/audit/verify").json()
    kinds = {(d["label"], d["kind"]) for d in verified["damages"]}
    assert (f"ticket {filed['number']}", "reordered") in kinds, verified["damages"]


def an_account_whose_events_do_not_decode(damaged: Server, name: str) -> str:
    """A new account, its stored events then overwritten with bytes that are no event."""
    body = {"name": name, "plan": "business", "seats": 2, "products": ["Files"]}
    with damaged.client("admin") as admin:
        account: str = created(admin.post("/v1/accounts", json=body))["id"]
    sql(
        damaged,
        "UPDATE EVENTS SET state = 'garbage' WHERE originator_id = %s RETURNING 1",
        account,
    )
    return account


def test_an_account_whose_stored_events_do_not_decode_answers_a_problem_not_a_500(
    damaged: Server,
) -> None:
    account = an_account_whose_events_do_not_decode(damaged, "Tampered Ltd")
    with damaged.client("admin") as admin:
        refused = admin.post(f"/v1/accounts/{account}/seats", json={"seats": 3})
        assert "docket replay verify" in is_problem(refused, 409, "record-damaged")["detail"]


def test_an_operator_command_on_an_account_whose_events_do_not_decode_says_so_not_a_traceback(
    damaged: Server,
) -> None:
    account = an_account_whose_events_do_not_decode(damaged, "Tampered CLI Ltd")
    ran = docket(damaged.env, "accounts", "seats", account, "3", timeout=120)
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr, ran.stderr
    assert "DAMAGED" in ran.stderr and "docket replay verify" in ran.stderr
