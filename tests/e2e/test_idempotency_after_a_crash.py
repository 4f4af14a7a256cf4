"""A key left pending by a process that died: the retry answers once, writes once."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import psycopg

from store.idempotency import canonical_request
from tests.e2e.conftest import Server, file_ticket


def abandon(server: Server, key: str) -> None:
    """What ``kill -9`` leaves behind: a claim, older than the stale limit, with no answer."""
    table = f'"{server.schema}".idempotency_keys'
    with psycopg.connect(server.env["DOCKET_DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            f"UPDATE {table} SET status = NULL, body = NULL, headers = NULL, "
            "created_at = now() - interval '1 minute' WHERE key = %s",
            (key,),
        )


def history_of(server: Server, number: str) -> list[dict[str, Any]]:
    with server.client("auditor") as auditor:
        events: list[dict[str, Any]] = auditor.get(f"/v1/audit/tickets/{number}/events").json()[
            "events"
        ]
        return events


def test_a_write_that_committed_before_its_process_died_is_answered_not_repeated(
    server: Server,
) -> None:
    number = file_ticket(server)["number"]
    key = uuid.uuid4().hex
    with server.client("agent") as agent:
        first = agent.post(
            f"/v1/tickets/{number}/messages",
            json={"body": "once"},
            headers={"Idempotency-Key": key},
        )
        assert first.status_code == 200
        abandon(server, key)
        again = agent.post(
            f"/v1/tickets/{number}/messages",
            json={"body": "once"},
            headers={"Idempotency-Key": key},
        )
    assert again.status_code == 200, again.text
    assert (again.json()["version"], again.json()["position"]) == (
        first.json()["version"],
        first.json()["position"],
    )
    assert [e["fields"].get("body") for e in history_of(server, number)].count("once") == 1


def test_a_merge_that_committed_before_its_process_died_is_answered_not_refused(
    server: Server,
) -> None:
    source, target = file_ticket(server)["number"], file_ticket(server)["number"]
    key = uuid.uuid4().hex
    with server.client("agent") as agent:
        merge = (f"/v1/tickets/{source}/merge", {"into": target})
        first = agent.post(merge[0], json=merge[1], headers={"Idempotency-Key": key})
        assert first.status_code == 200, first.text
        abandon(server, key)
        again = agent.post(merge[0], json=merge[1], headers={"Idempotency-Key": key})
    assert again.status_code == 200, again.text  # not 409 ticket-merged: it is the same merge
    assert again.json() == first.json()
    assert [e["kind"] for e in history_of(server, target)].count("Ticket.MergeReceived") == 1


def test_a_fresh_claim_is_still_in_flight_and_a_stale_one_with_nothing_written_runs_once(
    server: Server,
) -> None:
    number = file_ticket(server)["number"]
    key = uuid.uuid4().hex
    table = f'"{server.schema}".idempotency_keys'
    with server.client("agent") as agent:
        me = agent.get("/v1/me").json()["id"]
        body = {"body": "after the crash"}
        path = f"/v1/tickets/{number}/messages"
        with psycopg.connect(server.env["DOCKET_DATABASE_URL"], autocommit=True) as conn:
            stored_body = {**body, "attachments": []}  # as the endpoint keys it: the parsed body
            digest = hashlib.sha256(canonical_request("POST", path, stored_body)).hexdigest()
            conn.execute(
                f"INSERT INTO {table} (principal_id, key, request_hash) VALUES (%s, %s, %s)",
                (me, key, digest),
            )
            in_flight = agent.post(path, json=body, headers={"Idempotency-Key": key})
            assert in_flight.status_code == 409, in_flight.text
            conn.execute(
                f"UPDATE {table} SET created_at = now() - interval '1 minute' WHERE key = %s",
                (key,),
            )
        ran = agent.post(path, json=body, headers={"Idempotency-Key": key})
        assert ran.status_code == 200, ran.text
        repeat = agent.post(path, json=body, headers={"Idempotency-Key": key})
    assert repeat.json() == ran.json()
    assert [e["fields"].get("body") for e in history_of(server, number)].count(
        "after the crash"
    ) == 1


def test_a_filing_that_committed_before_its_process_died_is_answered_not_filed_twice(
    server: Server,
) -> None:
    key = uuid.uuid4().hex
    subject = f"Filed once {key[:8]}"
    body = {"subject": subject, "description": "d", "type": "bug"}
    with server.client("requester") as requester:
        first = requester.post("/v1/tickets", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201
        abandon(server, key)
        again = requester.post("/v1/tickets", json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 201, again.text
        assert {k: again.json()[k] for k in ("id", "number", "version")} == {
            k: first.json()[k] for k in ("id", "number", "version")
        }
        mine = requester.get(
            "/v1/tickets", params={"q": key[:8], "min_position": again.json()["position"]}
        )
    assert [t["id"] for t in mine.json()["tickets"]] == [first.json()["id"]]
