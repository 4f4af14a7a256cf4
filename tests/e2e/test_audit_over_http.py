"""The auditor's endpoints over HTTP: history with notes, time travel, backlog, verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Server, file_ticket


def _now() -> str:
    return datetime.now(UTC).isoformat()


def test_an_auditor_replays_a_tickets_history_and_its_state_at_any_version(server: Server) -> None:
    filed = file_ticket(server, subject="Audit me")
    with server.client("agent") as agent:
        agent.post(f"/v1/tickets/{filed['number']}/notes", json={"body": "staff only words"})
        closed = agent.post(
            f"/v1/tickets/{filed['number']}/status", json={"status": "closed"}
        ).json()
    with server.client("auditor") as auditor:
        history = auditor.get(f"/v1/audit/tickets/{filed['number']}/events").json()
        kinds = [e["kind"] for e in history["events"]]
        assert kinds == [  # the closing asks the requester for a rating in the same save
            "Ticket.Opened", "Ticket.InternalNoteAdded", "Ticket.StatusChanged",
            "Ticket.SurveyOffered",
        ]  # fmt: skip
        assert history["events"][1]["fields"]["body"] == "staff only words"
        assert history["events"][2]["actor"]["kind"] == "agent"
        assert history["events"][3]["position"] == closed["position"]
        first = auditor.get(f"/v1/audit/tickets/{filed['id']}/state", params={"version": 1}).json()
        assert (first["version"], first["status"], first["subject"]) == (1, "open", "Audit me")
        assert [m["author_role"] for m in first["conversation"]] == ["requester"]
        assert first["internal_notes"] == [] and first["write_model"]["version"] == 1
        noted = auditor.get(f"/v1/audit/tickets/{filed['id']}/state", params={"version": 2})
        assert [n["body"] for n in noted.json()["internal_notes"]] == ["staff only words"]
        assert noted.json()["status"] == "open"
        opened_at = history["events"][0]["at"]
        then = auditor.get(f"/v1/audit/tickets/{filed['id']}/state", params={"as_of": opened_at})
        assert (then.json()["version"], then.json()["as_of"]) == (1, opened_at)
        assert auditor.get(f"/v1/audit/tickets/{filed['id']}/state").json()["status"] == "closed"
        before = auditor.get(
            f"/v1/audit/tickets/{filed['id']}/state", params={"as_of": "2000-01-01T00:00:00Z"}
        )
        assert before.status_code == 404
        naive = auditor.get(
            f"/v1/audit/tickets/{filed['id']}/state", params={"as_of": "2030-01-01T00:00:00"}
        )
        assert naive.status_code == 422
        verified = auditor.get("/v1/audit/verify", params={"ticket": filed["number"]}).json()
        assert verified["ok"] and verified["events"] == 4
    with server.client("requester") as requester:
        assert requester.get(f"/v1/audit/tickets/{filed['number']}/events").status_code == 403


def test_the_state_of_a_version_not_reached_or_an_instant_to_come_is_refused(
    server: Server,
) -> None:
    filed = file_ticket(server, subject="Not yet")
    with server.client("auditor") as auditor:
        beyond = auditor.get(f"/v1/audit/tickets/{filed['number']}/state", params={"version": 2})
        to_come = auditor.get(
            f"/v1/audit/tickets/{filed['number']}/state", params={"as_of": "2999-01-01T00:00:00Z"}
        )
        before = auditor.get(
            f"/v1/audit/tickets/{filed['number']}/state", params={"as_of": "2000-01-01T00:00:00Z"}
        )
    assert (beyond.status_code, beyond.headers["content-type"]) == (
        422,
        "application/problem+json",
    )
    assert beyond.json()["type"].endswith("/version-not-reached")
    assert beyond.json()["last_version"] == 1
    assert beyond.json()["errors"][0]["field"] == "version"
    assert "from 1 to 1" in beyond.json()["detail"]
    assert to_come.status_code == 422 and to_come.json()["type"].endswith("/as-of-in-the-future")
    assert to_come.json()["errors"][0]["field"] == "as_of"
    assert before.status_code == 404 and before.json()["type"].endswith("/not-yet-filed")


def test_the_backlog_as_of_now_counts_a_newly_filed_ticket(server: Server) -> None:
    with server.client("analyst") as analyst:
        before = analyst.get("/v1/audit/backlog", params={"as_of": _now()}).json()
    filed = file_ticket(server, priority="urgent")
    with server.client("analyst") as analyst:
        waited = analyst.get(
            "/v1/feed", params={"min_position": filed["position"], "after": 0, "limit": 1}
        )
        assert waited.status_code == 200  # the backlog's view (the feed) has the filing
        after = analyst.get("/v1/audit/backlog", params={"as_of": _now()}).json()
    assert after["tickets"] == before["tickets"] + 1
    assert after["by_priority"].get("urgent", 0) == before["by_priority"].get("urgent", 0) + 1


def test_the_backlog_as_of_an_instant_still_to_come_is_refused_like_the_ticket_state(
    server: Server,
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with server.client("analyst") as analyst:
        answer = analyst.get("/v1/audit/backlog", params={"as_of": soon})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("/as-of-in-the-future")
    assert answer.json()["errors"][0]["field"] == "as_of"
    assert "still to come" in answer.json()["detail"]
