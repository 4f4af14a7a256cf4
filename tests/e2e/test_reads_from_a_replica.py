"""Reads from a hot standby (``DOCKET_READ_DATABASE_URL``), over HTTP, on a real streaming
replica: writes go to the primary, reads are answered from the standby's views, and a read
with ``min_position`` waits for the standby's views, not the primary's.

One primary and its standby for the module (``bench/replica.py``), and one ``docket
serve`` that writes the one and reads the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from bench.replica import Replica, streaming_replica
from projections.tracking import TRACKING_TABLE, view_position
from store.log import log_head
from tests.e2e.conftest import Server, file_ticket, running_server

READ_WAIT = 1.0


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with streaming_replica() as running:
        yield running


@pytest.fixture(scope="module")
def server(replica: Replica) -> Iterator[Server]:
    with running_server(
        replica.primary_url,
        DOCKET_READ_DATABASE_URL=replica.standby_url,
        DOCKET_READ_WAIT_SECONDS=str(READ_WAIT),
        DOCKET_AUTOMATION_SWEEP_SECONDS="0",
    ) as running:
        yield running


def positions(url: str, schema: str, view: str) -> tuple[int, int]:
    """The log's end and ``view``'s position, as the server at ``url`` has them."""
    with psycopg.connect(url, autocommit=True) as conn:
        return log_head(conn, schema), view_position(conn, schema, view)


def primary_views_reach(replica: Replica, server: Server, position: int) -> None:
    """Until the projection runner has applied ``position`` to the primary's ticket lists."""
    deadline = time.monotonic() + 30
    while positions(replica.primary_url, server.schema, "customer_tickets")[1] < position:
        assert time.monotonic() < deadline, "the runner did not apply the write on the primary"
        time.sleep(0.02)


def listed(client: httpx.Client, position: int) -> httpx.Response:
    return client.get("/v1/tickets", params={"min_position": position, "limit": 100})


def test_a_ticket_filed_through_the_primary_is_listed_through_the_replica_with_min_position(
    replica: Replica, server: Server
) -> None:
    filed = file_ticket(server, subject="Filed on the primary")
    with server.client("requester") as rita:
        page = listed(rita, filed["position"])
        detail = rita.get(
            f"/v1/tickets/{filed['number']}", params={"min_position": filed["position"]}
        )
    assert page.status_code == 200, page.text
    assert filed["number"] in [t["number"] for t in page.json()["tickets"]]
    assert page.json()["position"] >= filed["position"]
    assert detail.status_code == 200, detail.text
    assert detail.json()["subject"] == "Filed on the primary"
    # the standby holds the write (it replayed the primary's WAL)
    head, at = positions(replica.standby_url, server.schema, "customer_tickets")
    assert head >= filed["position"] and at >= filed["position"]


def test_past_the_bound_a_read_waiting_for_a_replica_behind_is_503_with_retry_after(
    replica: Replica, server: Server
) -> None:
    with replica.replay_paused():
        filed = file_ticket(server, subject="While the standby waits")  # writes need no standby
        primary_views_reach(replica, server, filed["position"])  # the primary's views have it
        started = time.monotonic()
        with server.client("requester") as rita:
            behind = listed(rita, filed["position"])
        waited = time.monotonic() - started
    assert behind.status_code == 503, behind.text
    assert behind.headers["retry-after"] == "1"
    assert behind.headers["content-type"].startswith("application/problem+json")
    assert behind.json()["type"].endswith("/view-catching-up")
    assert waited >= READ_WAIT  # it waited its bound for the standby's views
    # replaying again, the standby reaches the position and the same read answers it
    with server.client("requester") as rita:
        caught_up = listed(rita, filed["position"])
    assert caught_up.status_code == 200, caught_up.text
    assert filed["number"] in [t["number"] for t in caught_up.json()["tickets"]]


def test_the_projection_runner_keeps_writing_on_the_primary(
    replica: Replica, server: Server
) -> None:
    filed = file_ticket(server, subject="Projected on the primary")

    def tracked(url: str) -> dict[str, int]:
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(f'SELECT view, position FROM "{server.schema}".{TRACKING_TABLE}')
            return dict(rows.fetchall())

    deadline = time.monotonic() + 30  # every view moves on the primary (quiet ones soon after)
    on_primary = tracked(replica.primary_url)
    while any(p < filed["position"] for p in on_primary.values()):
        assert time.monotonic() < deadline, on_primary
        time.sleep(0.05)
        on_primary = tracked(replica.primary_url)
    assert len(on_primary) > 10, on_primary
    replica.wait_replayed()
    on_standby = tracked(replica.standby_url)  # the standby's views are the primary's, replayed
    assert on_standby.keys() == on_primary.keys()
    assert all(on_standby[view] >= p for view, p in on_primary.items()), on_standby


def fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


REQUIRED_QUERIES = {
    "/v1/articles/suggest": {"q": "files stop syncing"},
    "/v1/audit/backlog": {"as_of": "2025-01-01T00:00:00Z"},
}


def test_no_request_with_the_read_url_set_writes_to_the_replica(
    replica: Replica, server: Server
) -> None:
    """The main writes, then every GET the API has, for every role, with ``min_position``:
    a standby refuses any write (``read-only transaction``), which would be a 500."""
    answers: list[tuple[str, str, int]] = []

    def sent(response: httpx.Response) -> httpx.Response:
        answers.append((response.request.method, response.request.url.path, response.status_code))
        return response

    with server.client("requester") as rita, server.client("agent") as alex:
        upload = sent(
            rita.post("/v1/attachments", files={"file": ("log.txt", b"ok\n", "text/plain")})
        )
        assert upload.status_code == 201, upload.text
        attachment = upload.json()["id"]
        body = {"subject": "Sweep", "description": "d", "type": "bug", "attachments": [attachment]}
        filed = sent(rita.post("/v1/tickets", json=body, headers={"Idempotency-Key": "sweep-1"}))
        again = sent(rita.post("/v1/tickets", json=body, headers={"Idempotency-Key": "sweep-1"}))
        assert filed.status_code == 201 and again.json() == filed.json()  # the key's answer
        number = filed.json()["number"]
        for path, payload in [
            (f"/v1/tickets/{number}/messages", {"body": "Which version?"}),
            (f"/v1/tickets/{number}/notes", {"body": "Known bug"}),
            (f"/v1/tickets/{number}/priority", {"priority": "high"}),
            (f"/v1/tickets/{number}/tags", {"add": ["sweep"]}),
            (f"/v1/tickets/{number}/status", {"status": "pending"}),
        ]:
            sent(alex.post(path, json=payload))
        macro = sent(alex.post("/v1/macros", json={"title": "Sweep", "status": "pending"}))
        view = sent(alex.post("/v1/views", json={"name": "Sweep", "filters": {"q": "Sweep"}}))
        sent(httpx.post(server.base_url + "/v1/contact", json={
            "name": "Ada", "email": "ada@outside.example", "subject": "Cannot sign in",
            "description": "The reset email never arrives.", "product": "Files",
        }, headers={"X-Forwarded-For": "10.9.9.9"}))  # fmt: skip
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:  # the pages' sign-in
        sent(browser.get("/sign-in"))
        sent(browser.post("/sign-in", data={"email": "rita@northwind.example"}))
        link = urlsplit(server.tokens["sign_in_links"]["requester"]).path
        sent(browser.get(link))
        assert sent(browser.post(link)).status_code == 303
        assert sent(browser.get("/")).status_code == 200  # signed in: the session's lookup
    with httpx.Client(base_url=server.base_url, timeout=30) as console:  # the staff's pages
        link = urlsplit(server.tokens["sign_in_links"]["admin"]).path
        sent(console.get(link))
        assert sent(console.post(link)).status_code == 303
        pages = ["/console/audit", "/console/dashboard", "/console/dashboard/summary.csv"]
        for page in [*pages, f"/console/audit/tickets/{number}"]:
            assert sent(console.get(page)).status_code == 200, page
    with server.client("admin") as admin:
        token = sent(admin.post("/v1/tokens", json={"name": "sweep"}))
        sent(admin.delete(f"/v1/tokens/{token.json()['id']}"))
        position = max(a.json().get("position", 0) for a in [filed] if a.status_code < 300)
        contact = sent(admin.get("/v1/contact-requests", params={"min_position": position}))
        queue = contact.json() if contact.status_code == 200 else {}
        paths = admin.get("/openapi.json").json()["paths"]
    ids = {
        "ticket": number,
        "attachment_id": attachment,
        "account": server.tokens["accounts"]["northwind"],
        "staff": server.tokens["agent_id"],
        "macro": macro.json().get("id", "x") if macro.status_code < 300 else "x",
        "view": view.json().get("id", "x") if view.status_code < 300 else "x",
        "request_ref": next(iter(r["id"] for r in queue.get("requests", [])), "x"),
        "article_id": "files-stop-syncing",
        "rule_id": "00000000-0000-0000-0000-000000000000",
        "key": "x",
        "rejected_id": "1",
        "token": "x",
    }
    gets = {
        path: {p["name"] for p in operations["get"].get("parameters", [])}
        for path, operations in paths.items()
        if "get" in operations
    }
    assert len(gets) > 40, gets
    now = datetime.now(UTC).isoformat()
    for role in ["requester", "team_admin", "agent", "auditor", "analyst", "admin"]:
        with server.client(role) as client:
            for path, parameters in sorted(gets.items()):
                query: dict[str, Any] = dict(REQUIRED_QUERIES.get(path, {}))
                if "min_position" in parameters:
                    query["min_position"] = position
                if path == "/v1/audit/tickets/{ticket}/state":
                    query["as_of"] = now
                sent(client.get(fill(path, ids), params=query))
    failed = [a for a in answers if a[2] >= 500]
    assert not failed, (failed, server.log_tail())
    assert "read-only transaction" not in server.log_tail(100_000)
    read = {(path, status) for method, path, status in answers if method == "GET"}
    # the main reads answered, from the standby's views
    for path in [
        "/v1/tickets",
        f"/v1/tickets/{number}",
        "/v1/inbox",
        "/v1/feed",
        "/v1/dashboard/summary",
        f"/v1/audit/tickets/{number}/events",
        f"/v1/attachments/{attachment}",
        "/v1/staff",
        "/v1/tokens",
        "/healthz",
    ]:
        assert (path, 200) in read, (path, sorted(a for a in read if a[0] == path))


def test_with_the_replica_away_writes_are_answered_and_reads_are_503_with_retry_after(
    replica: Replica, server: Server
) -> None:
    with server.client("requester") as rita, server.client("agent") as alex:
        with replica.standby_stopped():
            filed = file_ticket(server, subject="Filed with the standby away")
            reply = alex.post(f"/v1/tickets/{filed['number']}/messages", json={"body": "On it"})
            with server.client("admin") as admin:
                token = admin.post(
                    "/v1/tokens", json={"name": "away", "person_id": server.tokens["agent_id"]}
                )
            away = rita.get("/v1/tickets", params={"min_position": filed["position"]})
            health = httpx.get(server.base_url + "/healthz", timeout=30)
        assert reply.status_code == 200, reply.text  # writes never touch the standby
        assert token.status_code == 201, token.text
        assert away.status_code == 503, away.text
        assert away.headers["retry-after"] == "1"
        assert away.json()["type"].endswith("/database-unavailable")
        assert health.status_code == 503
        assert health.json()["replica"]["database"] == "unreachable"
        assert any("read database" in r for r in health.json()["reasons"])
        deadline = time.monotonic() + 60  # started again, it streams what it missed
        while (back := listed(rita, reply.json()["position"])).status_code != 200:
            assert time.monotonic() < deadline, back.text
            time.sleep(0.5)
    assert filed["number"] in [t["number"] for t in back.json()["tickets"]]
    healthy = httpx.get(server.base_url + "/healthz", timeout=30).json()
    assert healthy["status"] == "ok" and healthy["replica"]["database"] == "ok"
    assert healthy["replica"]["position"] <= healthy["position"]
