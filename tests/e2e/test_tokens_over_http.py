"""API tokens over HTTP: issued, listed without their secrets, revoked, expired — and a
revocation holds on the very next request in every API process."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Server, created, running_server


def bearer(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def issue(server: Server, role: str, **body: object) -> dict[str, Any]:
    with server.client(role) as c:
        return created(c.post("/v1/tokens", json={"name": "test", **body}))


def test_a_revoked_token_is_refused_by_the_other_process_on_its_next_request(
    server: Server, database_url: str
) -> None:
    issued = issue(server, "agent", name="two processes")
    token = str(issued["token"])
    with (
        running_server(database_url, schema=server.schema, seed=False) as other,
        bearer(other, token) as on_other,
    ):
        for _ in range(3):  # known, and (were there a cache) remembered, over there
            assert on_other.get("/v1/me").status_code == 200
        with bearer(server, token) as on_first:
            assert on_first.delete(f"/v1/tokens/{issued['id']}").status_code == 204
        refused = on_other.get("/v1/me")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/bad-token")
    assert "ask a Docket admin for a new one" in refused.json()["detail"]


def test_a_token_past_its_expiry_is_refused_on_the_next_request(server: Server) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=2)
    issued = issue(server, "requester", expires_at=expires.isoformat())
    with bearer(server, str(issued["token"])) as c:
        assert c.get("/v1/me").status_code == 200
        time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
        assert c.get("/v1/me").status_code == 401


def test_an_expiry_in_the_past_is_refused_and_names_the_field(server: Server) -> None:
    with server.client("agent") as c:
        answer = c.post("/v1/tokens", json={"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "expires_at"


def test_the_list_shows_name_prefix_and_times_but_never_the_secret_or_its_hash(
    server: Server,
) -> None:
    issued = issue(server, "analyst", name="dashboards laptop")
    token = str(issued["token"])
    with bearer(server, token) as c:
        assert c.get("/v1/me").status_code == 200
        listed = c.get("/v1/tokens")
    assert listed.status_code == 200
    mine = next(t for t in listed.json()["tokens"] if t["id"] == issued["id"])
    assert mine["name"] == "dashboards laptop"
    assert token.startswith(mine["prefix"]) and len(mine["prefix"]) < len(token) / 3
    assert mine["last_used_at"] is not None and mine["created_at"]
    assert token not in listed.text and "hash" not in listed.text


def test_a_person_lists_only_their_own_tokens_and_an_admin_lists_everyones(
    server: Server,
) -> None:
    ours = issue(server, "auditor", name="audit box")
    with server.client("requester") as requester:
        seen = {t["holder"]["id"] for t in requester.get("/v1/tokens").json()["tokens"]}
    with server.client("admin") as admin:
        every = {t["id"] for t in admin.get("/v1/tokens").json()["tokens"]}
    assert seen == {_id_of(server, "requester")}
    assert ours["id"] in every


def _id_of(server: Server, role: str) -> str:
    with server.client(role) as c:
        me: str = c.get("/v1/me").json()["id"]
    return me


def test_nobody_but_an_admin_revokes_anothers_token_and_the_answer_does_not_say_it_exists(
    server: Server,
) -> None:
    theirs = issue(server, "team_admin", name="theirs")
    with server.client("agent") as agent:
        refused = agent.delete(f"/v1/tokens/{theirs['id']}")
    assert refused.status_code == 404
    assert refused.json()["type"].endswith("/unknown-token")
    with bearer(server, str(theirs["token"])) as c:
        assert c.get("/v1/me").status_code == 200
    with server.client("admin") as admin:
        assert admin.delete(f"/v1/tokens/{theirs['id']}").status_code == 204
    with bearer(server, str(theirs["token"])) as c:
        assert c.get("/v1/me").status_code == 401


def test_an_admin_issues_a_token_for_an_account_member_who_then_acts_as_themself(
    server: Server,
) -> None:
    member = _id_of(server, "requester")
    issued = issue(server, "admin", name="for rita", person_id=member)
    assert issued["holder"] == {
        "id": member,
        "name": "Rita Requester",
        "role": "requester",
        "account_id": server.tokens["accounts"]["northwind"],
    }
    with bearer(server, str(issued["token"])) as c:
        me = c.get("/v1/me").json()
    assert me["id"] == member and me["role"] == "requester"


def test_an_admin_issues_a_mail_gateway_token_that_reaches_inbound_email_only(
    server: Server,
) -> None:
    issued = issue(server, "admin", name="postfix", mail_gateway=True)
    with bearer(server, str(issued["token"])) as gateway:
        assert gateway.get("/v1/me").status_code == 403
        assert gateway.get("/v1/tokens").status_code == 403
        posted = gateway.post(
            "/v1/inbound/email",
            content=b"From: a@b.example\r\nTo: support@docket.example\r\nSubject: hi\r\n\r\nhello",
            headers={"content-type": "message/rfc822"},
        )
    assert posted.status_code < 500 and posted.status_code not in (401, 403)


def test_an_admin_issuing_for_an_unknown_person_is_told_to_register_them_first(
    server: Server,
) -> None:
    with server.client("admin") as admin:
        answer = admin.post("/v1/tokens", json={"name": "x", "person_id": "nobody-at-all"})
    assert answer.status_code == 404
    assert answer.json()["type"].endswith("/unknown-person")
    assert "register them first" in answer.json()["detail"]
