"""Help before filing over real HTTP: suggest, open, file anyway, deflection, management."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Server, created


def deflection(server: Server, position: int = 0) -> dict[str, Any]:
    with server.client("analyst") as analyst:
        answer = analyst.get("/v1/dashboard/deflection", params={"min_position": position})
    assert answer.status_code == 200, answer.text
    figures: dict[str, Any] = answer.json()
    return figures


def test_a_requester_is_helped_opens_an_article_and_files_anyway(server: Server) -> None:
    before = deflection(server)
    text = "Since this morning my files are not syncing, the icon says sync paused."
    with server.client("requester") as rita:
        suggested = rita.get("/v1/articles/suggest", params={"q": text, "product": "Files"})
        assert suggested.status_code == 200, suggested.text
        answer = suggested.json()
        session = answer["help_session"]
        first = answer["articles"][0]
        assert first["slug"] == "files-stop-syncing" and first["product_match"]
        assert "<b>" in first["snippet"] and first["score"] > 0
        again = rita.get("/v1/articles/suggest", params={"q": text, "help_session": session})
        assert again.json()["help_session"] == session
        opened = rita.post(f"/v1/articles/{first['id']}/opened", json={"help_session": session})
        assert opened.status_code == 200, opened.text
        filed = rita.post(
            "/v1/tickets",
            json={"subject": "Sync paused", "description": text, "product": "Files",
                  "help_session": session},
        )  # fmt: skip
        assert filed.status_code == 201, filed.text
    after = deflection(server, filed.json()["position"])
    assert after["sessions"] == before["sessions"] + 1
    assert after["opened_article"] == before["opened_article"] + 1
    assert after["opened_then_filed"] == before["opened_then_filed"] + 1
    assert after["deflected"] == before["deflected"]
    with server.client("team_admin") as tom:  # rita's session id is tom's own session
        reused = tom.post(
            "/v1/tickets", json={"subject": "s", "description": "d", "help_session": session}
        )
        assert reused.status_code == 201, reused.text
        untouched = deflection(server, reused.json()["position"])
        assert untouched["sessions"] == after["sessions"] + 1  # a session of tom's
        assert untouched["opened_then_filed"] == after["opened_then_filed"]  # rita's as was
        mine = str(uuid.uuid4())
        opened = tom.post(
            "/v1/articles/reset-password-and-two-step/opened", json={"help_session": mine}
        )
        assert opened.status_code == 200
    deflected = deflection(server, opened.json()["position"])
    assert deflected["deflected"] == after["deflected"] + 1
    assert deflected["deflection_rate"] == round(
        deflected["deflected"] / deflected["opened_article"], 4
    )


def test_admins_publish_revise_and_withdraw_and_customers_read(server: Server) -> None:
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    article = {"title": "Exporter un rapport Dash en PDF", "body": "Cliquez sur **Exporter**.",
               "language": "fr", "products": ["Dash"], "topics": ["export"], "slug": slug}  # fmt: skip
    with server.client("admin") as admin:
        made = admin.post("/v1/articles", json=article)
        assert made.status_code == 201, made.text
        article_id = made.json()["id"]
        assert admin.post("/v1/articles", json=article).status_code == 409
        revision = {k: v for k, v in article.items() if k != "slug"}
        revision["body"] = "Cliquez sur **Exporter**, puis choisissez PDF."
        revised = admin.put(f"/v1/articles/{article_id}", json=revision)
        assert revised.status_code == 200 and revised.json()["version"] == 2
        same = admin.put(f"/v1/articles/{slug}", json=revision)
        assert same.json() == {**revised.json(), "position": 0}
        assert admin.post("/v1/articles", json={**article, "language": "de"}).status_code == 422
    with server.client("requester") as rita:
        read = rita.get(
            f"/v1/articles/{slug}", params={"min_position": revised.json()["position"]}
        )
        assert read.status_code == 200, read.text
        assert read.json()["body"].endswith("choisissez PDF.")
        found = rita.get("/v1/articles/suggest", params={"q": "exporter rapport pdf"})
        assert found.json()["articles"][0]["id"] == article_id
        listed = rita.get("/v1/articles", params={"language": "fr", "product": "dash"})
        assert article_id in [a["id"] for a in listed.json()["articles"]]
        bads: list[dict[str, str | int]] = [{"q": ""}, {"q": "x", "language": "de"},
                                            {"q": "x", "limit": 0}]  # fmt: skip
        for bad in bads:
            refused = rita.get("/v1/articles/suggest", params=bad)
            assert refused.status_code == 422
            assert refused.headers["content-type"] == "application/problem+json"
        assert rita.get("/v1/articles/NOT A SLUG").status_code == 404
        assert rita.get("/v1/articles", params={"include_withdrawn": True}).status_code == 403
    with server.client("admin") as admin:
        withdrawn = admin.delete(f"/v1/articles/{article_id}")
        assert withdrawn.status_code == 200
        assert admin.delete(f"/v1/articles/{article_id}").status_code == 409
    with server.client("requester") as rita:
        gone = rita.get(
            f"/v1/articles/{slug}", params={"min_position": withdrawn.json()["position"]}
        )
        assert gone.status_code == 404
        opened = rita.post(f"/v1/articles/{slug}/opened", json={"help_session": str(uuid.uuid4())})
        assert opened.status_code == 409


def new_account_with_a_member(server: Server, name: str) -> tuple[str, str]:
    """An account of the test's own (the demo ones hold other tests' tickets) and a token
    for its one member."""
    with server.client("admin") as admin:
        account = created(admin.post("/v1/accounts", json={
            "name": name, "plan": "business", "seats": 2, "products": ["Files", "Dash"]}))  # fmt: skip
        member = created(admin.post(f"/v1/accounts/{account['id']}/members", json={
            "email": f"m@{uuid.uuid4().hex[:8]}.example", "name": "Mo Member"}))  # fmt: skip
        token = created(admin.post(
            "/v1/tokens", params={"min_position": member["position"]},
            json={"name": "laptop", "person_id": member["member_id"]}))["token"]  # fmt: skip
    return account["id"], token


def test_an_account_is_recommended_articles_from_its_past_tickets(server: Server) -> None:
    account, token = new_account_with_a_member(server, "Dashers")
    quiet_account, _ = new_account_with_a_member(server, "Quiet Ltd")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as mo:
        filed = created(mo.post("/v1/tickets", json={
            "subject": "Charts empty", "description": "No data", "product": "Dash",
            "topic": "refresh"}))  # fmt: skip
        answer = mo.get(
            f"/v1/accounts/{account}/recommendations", params={"min_position": filed["position"]}
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["basis"] == "past_tickets"
        assert found["articles"][0]["slug"] == "dash-dashboard-shows-no-data"
        northwind = server.tokens["accounts"]["northwind"]
        assert mo.get(f"/v1/accounts/{northwind}/recommendations").status_code == 404
    with server.client("agent") as agent:
        quiet = agent.get(f"/v1/accounts/{quiet_account}/recommendations")
        assert quiet.status_code == 200 and quiet.json()["basis"] == "most_read"
        assert agent.get(f"/v1/accounts/{uuid.uuid4()}/recommendations").status_code == 404
