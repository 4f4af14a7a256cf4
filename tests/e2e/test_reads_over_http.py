"""Reads over HTTP: read-your-writes, cursors under concurrent writes, notes kept from customers."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import httpx

from tests.e2e.conftest import Server, file_ticket, running_server


def test_a_ticket_filed_is_always_in_the_next_list_read_with_its_position(server: Server) -> None:
    with server.client("requester") as c:
        for i in range(20):
            filed = file_ticket(server, subject=f"Read my write {i}")
            mine = c.get("/v1/tickets", params={"min_position": filed["position"], "limit": 5})
            assert mine.status_code == 200, mine.text
            assert filed["id"] in [t["id"] for t in mine.json()["tickets"]]
            detail = c.get(
                f"/v1/tickets/{filed['number']}", params={"min_position": filed["position"]}
            )
            assert detail.status_code == 200
            assert detail.headers["etag"] == f'"{filed["version"]}"'


def test_a_position_beyond_the_log_is_refused_at_once(server: Server) -> None:
    with server.client("agent") as c:
        far = c.get("/v1/inbox", params={"min_position": 2**40})
    assert far.status_code == 422
    assert far.json()["errors"][0]["field"] == "min_position"


def test_an_api_without_projection_workers_answers_503_until_a_worker_catches_up(
    database_url: str,
) -> None:
    with running_server(
        database_url, DOCKET_RUN_PROJECTIONS="false", DOCKET_READ_WAIT_SECONDS="1"
    ) as bare:
        filed = file_ticket(bare)
        with bare.client("requester") as c:
            behind = c.get("/v1/tickets", params={"min_position": filed["position"]})
            assert behind.status_code == 503
            assert behind.headers["retry-after"] == "1"
            assert behind.headers["content-type"] == "application/problem+json"
            worker = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "project"],
                env=bare.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                caught_up = c.get("/v1/tickets", params={"min_position": filed["position"]})
                for _ in range(10):
                    if caught_up.status_code != 503:
                        break
                    caught_up = c.get("/v1/tickets", params={"min_position": filed["position"]})
                assert caught_up.status_code == 200
                assert [t["id"] for t in caught_up.json()["tickets"]] == [filed["id"]]
            finally:
                worker.terminate()
                worker.wait(timeout=30)


def test_detail_answers_304_when_the_etag_still_matches(server: Server) -> None:
    filed = file_ticket(server)
    with server.client("requester") as c:
        first = c.get(f"/v1/tickets/{filed['number']}", params={"min_position": filed["position"]})
        again = c.get(
            f"/v1/tickets/{filed['number']}", headers={"If-None-Match": first.headers["etag"]}
        )
    assert again.status_code == 304


def test_paging_while_tickets_are_written_never_skips_or_repeats_a_ticket(server: Server) -> None:
    filed = [file_ticket(server, subject=f"Paged {i}") for i in range(30)]
    stop = threading.Event()

    def churn() -> None:  # replies move tickets around in every order; new tickets arrive
        with server.client("agent") as agent:
            i = 0
            while not stop.is_set():
                number = filed[i % len(filed)]["number"]
                agent.post(f"/v1/tickets/{number}/messages", json={"body": f"churn {i}"})
                if i % 5 == 0:
                    file_ticket(server, subject=f"Late {i}")
                i += 1

    writer = threading.Thread(target=churn)
    writer.start()
    try:
        for sort in ("last_activity", "attention", "priority"):
            with server.client("agent") as c:
                seen: list[str] = []
                params: dict[str, Any] = {
                    "sort": sort,
                    "limit": 7,
                    "min_position": filed[-1]["position"],
                }
                first = c.get("/v1/tickets", params=params)
                assert first.status_code == 200, first.text
                page = first.json()
                snapshot = page["position"]
                while True:
                    seen += [t["id"] for t in page["tickets"]]
                    assert page["position"] == snapshot
                    if page["next_cursor"] is None:
                        break
                    page = c.get(
                        "/v1/tickets", params={**params, "cursor": page["next_cursor"]}
                    ).json()
                # as of its snapshot, the walk is the whole list: no ticket twice, none missing
                opened = {
                    e["stream_id"] for e in feed_until(c, snapshot)
                    if e["kind"] == "Ticket.Opened" and e["position"] <= snapshot
                }  # fmt: skip
                assert len(seen) == len(set(seen))
                assert set(seen) == opened
    finally:
        stop.set()
        writer.join()


def feed_until(client: httpx.Client, position: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while after < position:
        page = client.get("/v1/feed", params={"after": after, "min_position": position}).json()
        events += page["events"]
        after = page["next_after"]
    return events


def test_internal_notes_never_reach_a_requester_or_team_admin_by_any_read(server: Server) -> None:
    filed = file_ticket(server, subject="Quiet please")
    with server.client("agent") as agent:
        noted = agent.post(
            f"/v1/tickets/{filed['number']}/notes", json={"body": "xylophonic secret"}
        ).json()
        staff = agent.get(
            f"/v1/tickets/{filed['number']}", params={"min_position": noted["position"]}
        ).json()
        assert [n["body"] for n in staff["internal_notes"]] == ["xylophonic secret"]
        searched = agent.get(
            "/v1/inbox", params={"q": "xylophonic", "min_position": noted["position"]}
        )
        assert searched.json()["tickets"]
    northwind = server.tokens["accounts"]["northwind"]
    reads = [
        ("requester", f"/v1/tickets/{filed['number']}"),
        ("requester", "/v1/tickets?q=xylophonic"),
        ("team_admin", f"/v1/tickets/{filed['number']}"),
        ("team_admin", "/v1/tickets?scope=team&q=xylophonic"),
        ("team_admin", f"/v1/accounts/{northwind}/tickets"),
        ("analyst", "/v1/feed?limit=1000"),
    ]
    for role, path in reads:
        with server.client(role) as c:
            answer = c.get(path, params={"min_position": noted["position"]})
        assert answer.status_code == 200, (role, path, answer.text)
        assert "xylophonic" not in answer.text, (role, path)
        assert "internal_notes" not in answer.text


def test_a_customer_sees_nothing_change_when_only_staff_only_events_happen(
    server: Server,
) -> None:
    """An internal note moves the ticket for staff (its version, position, updated_at,
    ETag) and for no customer: the requester and a colleague read the same answer, the
    same ETag answers 304, and an If-Match they read still holds."""
    filed = file_ticket(server)
    path = f"/v1/tickets/{filed['number']}"
    with server.client("agent") as agent:
        reply = agent.post(f"{path}/messages", json={"body": "Looking into it."}).json()
    before = {}
    for role in ("requester", "team_admin"):
        with server.client(role) as c:
            before[role] = c.get(path, params={"min_position": reply["position"]})
    with server.client("agent") as agent:
        note = agent.post(f"{path}/notes", json={"body": "Their sync token is stale."}).json()
        for body in ("Second thought.", "Third."):
            note = agent.post(f"{path}/notes", json={"body": body}).json()
        staff = agent.get(path, params={"min_position": note["position"]})
    assert staff.json()["version"] == note["version"] == reply["version"] + 3
    assert staff.headers["etag"] == f'"{note["version"]}"'
    for role, seen in before.items():
        with server.client(role) as c:
            after = c.get(path, params={"min_position": note["position"]})
            assert after.json() == seen.json(), role
            assert after.headers["etag"] == seen.headers["etag"] == f'"{reply["version"]}"'
            etag = seen.headers["etag"]
            assert c.get(path, headers={"If-None-Match": etag}).status_code == 304, role
    with server.client("requester") as c:
        listed = c.get("/v1/tickets", params={"min_position": note["position"]}).json()
        (row,) = [t for t in listed["tickets"] if t["id"] == filed["id"]]
        assert row["last_activity_at"] == before["requester"].json()["updated_at"]
        closed = c.post(f"{path}/status", json={"status": "closed"},
                        headers={"If-Match": before["requester"].headers["etag"]})  # fmt: skip
        assert closed.status_code == 200, closed.text
        assert closed.json()["version"] == note["version"] + 2  # the close and its survey
        stale = c.post(f"{path}/reopen", headers={"If-Match": f'"{reply["version"]}"'})
        assert stale.status_code == 412
        assert stale.json()["current_version"] == closed.json()["version"]


def test_if_none_match_takes_a_star_weak_tags_and_lists_of_tags(server: Server) -> None:
    """RFC 9110 13.1.2: weak comparison, ``*`` matches any current answer, a list
    matches if any of its tags does; anything else answers in full."""
    filed = file_ticket(server)
    path = f"/v1/tickets/{filed['number']}"
    with server.client("requester") as c:
        etag = c.get(path, params={"min_position": filed["position"]}).headers["etag"]
        version = etag.strip('"')
        for matching in ("*", etag, f"W/{etag}", f'"0", W/{etag}', f'"x,y" ,{etag}'):
            answer = c.get(path, headers={"If-None-Match": matching})
            assert answer.status_code == 304, matching
            assert answer.headers["etag"] == etag and answer.content == b""
        for other in ('"0"', f'"{version}0"', f"W/{version}", "garbage", f'"0" {etag}'):
            answer = c.get(path, headers={"If-None-Match": other})
            assert answer.status_code == 200, other
            assert answer.headers["etag"] == etag
