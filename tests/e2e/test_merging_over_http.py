"""Merging duplicates over real HTTP: the merge, what each reader sees of both tickets,
replies to the merged ticket, the lists, and every refusal as a problem."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Server, file_ticket, surveys_on

PROBLEM = "application/problem+json"
NOTE = "INTERNAL: same customer laptop as the other one"


def detail(client: httpx.Client, ref: str, position: int) -> dict[str, Any]:
    read = client.get(f"/v1/tickets/{ref}", params={"min_position": position})
    assert read.status_code == 200, read.text
    answer: dict[str, Any] = read.json()
    return answer


def refused(response: httpx.Response, status: int, slug: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("/" + slug) and problem["title"], problem
    detail: str = problem["detail"]
    return detail


def test_an_agent_merges_a_duplicate_and_each_reader_sees_what_they_may_of_both(
    server: Server,
) -> None:
    target = file_ticket(server, "team_admin", subject="Sync fails for the team")
    source = file_ticket(server, "requester", subject="Sync fails for me")
    t, s = target["number"], source["number"]
    with (
        server.client("agent") as agent,
        server.client("requester") as rita,
        server.client("team_admin") as admin,
    ):
        refused(rita.get(f"/v1/tickets/{t}"), 404, "unknown-ticket")  # a colleague's ticket
        noted = agent.post(f"/v1/tickets/{s}/notes", json={"body": NOTE})
        assert noted.status_code == 200
        headers = {"If-Match": '"2"', "Idempotency-Key": f"merge-{s}"}
        merged = agent.post(f"/v1/tickets/{s}/merge", json={"into": t}, headers=headers)
        assert merged.status_code == 200, merged.text
        answer = merged.json()
        assert (answer["number"], answer["version"]) == (s, 3)
        assert answer["merged_into"] == {"id": target["id"], "number": t, "version": 2}
        again = agent.post(f"/v1/tickets/{s}/merge", json={"into": t}, headers=headers)
        assert again.status_code == 200 and again.json() == answer

        at = answer["position"]
        mine = detail(rita, s, at)
        assert (mine["status"], mine["merged_into"]) == ("closed", t)
        followed = detail(rita, t, at)  # now a participant of the target
        assert [p["id"] for p in followed["participants"]] == [mine["requester"]["id"]]
        (seen,) = followed["merged"]
        assert seen["number"] == s
        assert [m["body"] for m in seen["conversation"]] == ["Since this morning."]
        assert "internal_notes" not in seen and "internal_notes" not in followed
        assert NOTE not in str(followed)
        assert detail(admin, t, at)["merged"][0]["conversation"] == seen["conversation"]
        staff = detail(agent, t, at)["merged"][0]
        assert [n["body"] for n in staff["internal_notes"]] == [NOTE]
        refused(rita.post(f"/v1/tickets/{s}/reopen"), 409, "ticket-merged")


def test_a_reply_to_the_merged_ticket_lands_in_the_target_and_says_where(server: Server) -> None:
    target = file_ticket(server, "team_admin")
    source = file_ticket(server)
    t, s = target["number"], source["number"]
    with server.client("agent") as agent, server.client("requester") as rita:
        assert agent.post(f"/v1/tickets/{s}/merge", json={"into": t}).status_code == 200
        landed = rita.post(
            f"/v1/tickets/{s}/messages", json={"body": "Any news?"}, headers={"If-Match": '"2"'}
        )
        assert landed.status_code == 200, landed.text
        receipt = landed.json()
        assert (receipt["id"], receipt["number"]) == (target["id"], t)
        assert landed.headers["location"] == f"/v1/tickets/{t}"
        conversation = detail(rita, t, receipt["position"])["conversation"]
        assert (conversation[-1]["body"], conversation[-1]["author_role"]) == (
            "Any news?", "collaborator",
        )  # fmt: skip
        assert detail(rita, s, receipt["position"])["conversation"][-1]["body"] != "Any news?"


def test_the_lists_show_the_merged_ticket_closed_with_its_marker(server: Server) -> None:
    target, source = file_ticket(server), file_ticket(server)
    with server.client("agent") as agent, server.client("requester") as rita:
        merged = agent.post(
            f"/v1/tickets/{source['number']}/merge", json={"into": target["number"]}
        )
        at = merged.json()["position"]
        for client, path in ((rita, "/v1/tickets"), (agent, "/v1/inbox")):
            listed = client.get(path, params={"min_position": at, "limit": 100})
            assert listed.status_code == 200, listed.text
            rows = {r["number"]: r for r in listed.json()["tickets"]}
            assert rows[source["number"]]["status"] == "closed"
            assert rows[source["number"]]["merged_into"] == target["number"]
            assert rows[target["number"]].get("merged_into") is None


def test_a_reader_who_may_not_see_the_merged_ticket_sees_only_its_number(server: Server) -> None:
    target = file_ticket(server, "requester")
    source = file_ticket(server, "team_admin")  # the admin's own: Rita may not see it
    with server.client("agent") as agent, server.client("requester") as rita:
        merged = agent.post(
            f"/v1/tickets/{source['number']}/merge", json={"into": target["number"]}
        )
        assert merged.status_code == 200
        (seen,) = detail(rita, target["number"], merged.json()["position"])["merged"]
        assert seen == {"number": source["number"]}


def test_every_refused_merge_is_a_problem_that_says_what_to_do(server: Server) -> None:
    surveys_on(server)  # the target's close asks for a rating: one version more
    a, b = file_ticket(server)["number"], file_ticket(server)["number"]
    other = file_ticket(server, "requester_other_account")["number"]
    with server.client("agent") as agent, server.client("requester") as rita:

        def merge(source: str, into: str, **body: Any) -> httpx.Response:
            return agent.post(f"/v1/tickets/{source}/merge", json={"into": into, **body})

        refused(rita.post(f"/v1/tickets/{a}/merge", json={"into": b}), 403, "role-not-allowed")
        refused(merge(a, a), 422, "merge-into-itself")
        refused(merge(a, "T-999999"), 404, "unknown-ticket")
        assert "another account" in refused(merge(a, other), 422, "merge-across-accounts")
        refused(
            agent.post(f"/v1/tickets/{a}/merge", json={"into": b}, headers={"If-Match": '"7"'}),
            412,
            "version-mismatch",
        )
        assert agent.post(f"/v1/tickets/{b}/status", json={"status": "closed"}).status_code == 200
        assert "reopen_target" in refused(merge(a, b), 409, "merge-target-closed")
        reopened = merge(a, b, reopen_target=True)
        assert reopened.status_code == 200, reopened.text
        # closed (and asked for a rating), reopened, then received
        assert reopened.json()["merged_into"]["version"] == 5
        assert "already merged into" in refused(merge(a, other), 409, "ticket-merged")
        c = file_ticket(server)["number"]
        assert f"merge {c} into {b}" in refused(merge(c, a), 409, "ticket-merged")
        refused(merge(a, "not a ticket"), 404, "unknown-ticket")
        refused(agent.post(f"/v1/tickets/{c}/merge", json={}), 422, "invalid-request")


def test_the_outbox_lists_the_requesters_merge_notice_naming_the_target(server: Server) -> None:
    target, source = file_ticket(server, "team_admin"), file_ticket(server)
    with server.client("agent") as agent, server.client("admin") as admin:
        merged = agent.post(
            f"/v1/tickets/{source['number']}/merge", json={"into": target["number"]}
        )
        at = merged.json()["position"]
        listed = admin.get(
            "/v1/admin/outbox", params={"ticket": source["number"], "min_position": at}
        )
    assert listed.status_code == 200, listed.text
    (notice,) = [m for m in listed.json()["emails"] if m["reason"] == "merged"]
    assert notice["recipients"] == ["rita@northwind.example"]
    assert f"merged it into ticket {target['number']}" in notice["body"]
