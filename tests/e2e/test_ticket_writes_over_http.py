"""The write use cases over real HTTP: the README's session, conditions, idempotency, errors."""

from __future__ import annotations

import threading
import uuid

from tests.e2e.conftest import Server, file_ticket, if_match, surveys_on

PROBLEM = "application/problem+json"


def test_a_requester_files_an_agent_replies_and_notes_closes_and_the_requester_reopens(
    server: Server,
) -> None:
    surveys_on(server)  # so the closing's save is known: the status and the survey asked
    filed = file_ticket(server, product="Files", priority="high")
    assert filed["number"].startswith("T-")
    assert filed["version"] == 1
    assert filed["position"] > 0
    ref = filed["number"]
    with server.client("agent") as agent, server.client("requester") as requester:
        reply = agent.post(f"/v1/tickets/{ref}/messages", json={"body": "Which version?"})
        assert reply.status_code == 200
        assert reply.headers["etag"] == '"2"'
        assert (
            agent.post(f"/v1/tickets/{ref}/notes", json={"body": "Known bug 42"}).status_code
            == 200
        )
        closed = agent.post(f"/v1/tickets/{ref}/status", json={"status": "closed"})
        assert closed.json()["version"] == 5  # StatusChanged, then SurveyOffered
        refused = requester.post(f"/v1/tickets/{ref}/messages", json={"body": "still broken"})
        assert refused.status_code == 409
        assert refused.json()["type"].endswith("/ticket-closed")
        reopened = requester.post(f"/v1/tickets/{filed['id']}/reopen")
        assert reopened.status_code == 200
        assert reopened.json()["position"] > closed.json()["position"]


def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(server: Server) -> None:
    ref = file_ticket(server)["number"]
    path = f"/v1/tickets/{ref}/priority"
    with server.client("agent") as agent:
        ok = agent.post(path, json={"priority": "high"}, headers=if_match(1))
        assert ok.status_code == 200
        stale = agent.post(path, json={"priority": "urgent"}, headers=if_match(1))
        assert stale.status_code == 412
        assert stale.headers["content-type"] == PROBLEM
        assert stale.json()["current_version"] == 2
        again = agent.post(path, json={"priority": "urgent"}, headers=if_match(2))
        assert again.json()["version"] == 3


def test_a_retried_write_with_the_same_idempotency_key_returns_the_first_answer(
    server: Server,
) -> None:
    key = str(uuid.uuid4())
    body = {"subject": "Billing", "description": "Charged twice", "type": "billing"}
    with server.client("requester") as requester:
        first = requester.post("/v1/tickets", json=body, headers={"Idempotency-Key": key})
        second = requester.post("/v1/tickets", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        reused = requester.post(
            "/v1/tickets", json={**body, "subject": "Other"}, headers={"Idempotency-Key": key}
        )
        assert reused.status_code == 422
        assert reused.json()["type"].endswith("/idempotency-key-reused")
        ref = first.json()["number"]
        reply_key = str(uuid.uuid4())
        for _ in range(3):
            r = requester.post(
                f"/v1/tickets/{ref}/messages",
                json={"body": "more"},
                headers={"Idempotency-Key": reply_key},
            )
            assert r.json()["version"] == 2


def test_concurrent_replies_without_if_match_are_all_kept_with_dense_versions(
    server: Server,
) -> None:
    ref = file_ticket(server)["number"]
    versions: list[int] = []
    failures: list[int] = []

    def reply(i: int) -> None:
        with server.client("agent" if i % 2 else "requester") as c:
            r = c.post(f"/v1/tickets/{ref}/messages", json={"body": f"reply {i}"})
            if r.status_code == 200:
                versions.append(r.json()["version"])
            else:
                failures.append(r.status_code)

    threads = [threading.Thread(target=reply, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sorted(versions) == list(range(2, 18))


def test_bad_input_gets_a_problem_that_names_the_field_and_never_a_500(server: Server) -> None:
    with server.client("requester") as c:
        cases = [
            c.post(
                "/v1/tickets", content=b"{not json", headers={"content-type": "application/json"}
            ),
            c.post("/v1/tickets", json={"subject": "x", "description": "y", "type": "complaint"}),
            c.post("/v1/tickets", json={"subject": "", "description": "y"}),
            c.post("/v1/tickets", json={"subject": "x" * 201, "description": "y"}),
            c.post("/v1/tickets", json={"subject": "x", "description": "y", "surprise": 1}),
            c.post("/v1/tickets", json=["a list"]),
            c.post("/v1/tickets/T-999999/messages", json={"body": "hello"}),
            c.post("/v1/tickets/%00%ff/messages", json={"body": "hello"}),
            c.post(
                "/v1/tickets",
                content=b"x" * (2 * 1024 * 1024),
                headers={"content-type": "application/json"},
            ),
            c.post(
                "/v1/tickets/T-000001/priority",
                json={"priority": "high"},
                headers={"If-Match": "yesterday"},
            ),
        ]
    statuses = [r.status_code for r in cases]
    assert statuses == [422, 422, 422, 422, 422, 422, 404, 422, 413, 400]  # NUL: names ticket
    for r in cases:
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["detail"]
    assert cases[1].json()["errors"][0]["field"] == "type"
    assert cases[0].json()["errors"][0]["field"] == "body"


def test_unicode_sql_and_html_are_stored_as_plain_text(server: Server) -> None:
    text = "Robert'); DROP TABLE tickets;-- <script>alert(1)</script> \u202e\U0001f600 \x07"
    filed = file_ticket(server, subject=text[:200], description=text)
    with server.client("agent") as agent:
        r = agent.post(f"/v1/tickets/{filed['number']}/messages", json={"body": text})
    assert r.status_code == 200


def test_missing_bad_and_revoked_tokens_are_told_how_to_authenticate(server: Server) -> None:
    with server.client() as anonymous:
        assert anonymous.post("/v1/tickets", json={}).status_code == 401
        bad = anonymous.post("/v1/tickets", json={}, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].startswith("Bearer")
        assert bad.json()["type"].endswith("/bad-token")


def test_health_and_metrics_answer_without_a_token(server: Server) -> None:
    with server.client() as anonymous:
        health = anonymous.get("/healthz").json()
        assert health["database"] == "ok"
        metrics = anonymous.get("/metrics")
        assert "docket_log_position" in metrics.text
        assert metrics.headers["content-type"].startswith("text/plain")
