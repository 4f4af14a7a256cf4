"""Satisfaction surveys over HTTP: the page a link opens, the rating it sends, refusals for
API clients and browsers, and the requester's own preference."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, file_ticket, surveys_on, token_for

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def requester_asks_for_surveys(server: Server) -> None:
    surveys_on(server)


def closed_ticket(server: Server) -> dict[str, Any]:
    filed = file_ticket(server)
    with server.client("agent") as agent:
        closed = agent.post(f"/v1/tickets/{filed['number']}/status", json={"status": "closed"})
    assert closed.status_code == 200, closed.text
    return {**filed, "position": closed.json()["position"]}


def survey_reasons(server: Server, number: str, position: int) -> list[str]:
    with server.client("admin") as admin:
        page = admin.get("/v1/admin/outbox", params={"ticket": number, "min_position": position})
    assert page.status_code == 200, page.text
    return [e["reason"] for e in page.json()["emails"]]


def rating_of(server: Server, number: str, position: int) -> Any:
    with server.client("requester") as requester:
        detail = requester.get(f"/v1/tickets/{number}", params={"min_position": position})
    assert detail.status_code == 200, detail.text
    return detail.json()["rating"]


def test_the_page_of_a_survey_link_shows_the_score_chosen_and_writes_nothing(
    server: Server,
) -> None:
    ticket = closed_ticket(server)
    assert "survey" in survey_reasons(server, ticket["number"], ticket["position"])
    token = token_for(server, ticket["id"])
    with server.client() as browser:
        page = browser.get(f"/v1/surveys/{token}", params={"score": 4}, headers=BROWSER)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert 'value="4" required checked' in html and html.count("checked") == 1
    assert f'action="/v1/surveys/{token}"' in html and ticket["number"] in html
    assert "<script" not in html and "<link" not in html and "src=" not in html  # no assets
    assert "http://" not in html and "https://" not in html
    with server.client() as client:  # the page recorded nothing: the rating is still to send
        assert client.post(f"/v1/surveys/{token}", json={"score": 4}).status_code == 200


def test_a_survey_form_records_the_rating_once_and_a_second_click_is_told_it_is_recorded(
    server: Server,
) -> None:
    ticket = closed_ticket(server)
    token = token_for(server, ticket["id"])
    with server.client() as browser:
        sent = browser.post(f"/v1/surveys/{token}", data={"score": "4", "comment": "Quick!"})
        assert sent.status_code == 200, sent.text
        assert sent.headers["content-type"].startswith("text/html")
        assert "(4 out of 5) is recorded" in sent.text
        again = browser.post(f"/v1/surveys/{token}", json={"score": 1})
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["type"].endswith("/survey-already-answered")
        assert "already recorded" in again.json()["detail"]
        shown = browser.get(f"/v1/surveys/{token}", params={"score": 1}, headers=BROWSER)
        assert shown.status_code == 409 and shown.headers["content-type"].startswith("text/html")
        assert "already recorded" in shown.text
    with server.client("requester") as requester:  # recorded as the requester's own rating
        for _ in range(50):
            rating = requester.get(f"/v1/tickets/{ticket['number']}").json()["rating"]
            if rating is not None:
                break
            time.sleep(0.1)
    assert rating == {"score": 4, "comment": "Quick!"}


def test_a_survey_answered_as_json_answers_where_to_read_it_back(server: Server) -> None:
    ticket = closed_ticket(server)
    with server.client() as client:
        sent = client.post(
            f"/v1/surveys/{token_for(server, ticket['id'])}",
            json={"score": 5, "comment": "Thanks"},
        )
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert (body["number"], body["score"]) == (ticket["number"], 5)
    assert rating_of(server, ticket["number"], body["position"]) == {
        "score": 5,
        "comment": "Thanks",
    }


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        ("forged", 404, "survey-link-invalid"),
        ("altered", 404, "survey-link-invalid"),
        ("expired", 410, "survey-link-expired"),
        ("garbage", 404, "survey-link-invalid"),
    ],
)
def test_a_forged_altered_or_expired_link_is_refused_clearly_and_never_a_5xx(
    server: Server, token: str, status: int, code: str
) -> None:
    ticket = closed_ticket(server)
    good = token_for(server, ticket["id"])
    tokens = {
        "forged": token_for(server, ticket["id"], secret=b"not the server's secret"),
        "altered": good.replace(".1.en.", ".2.en."),
        "expired": token_for(
            server, ticket["id"], closed_at=datetime.now(UTC) - timedelta(days=15)
        ),
        "garbage": "%E2%80%AE" + "x" * 100,
    }
    with server.client() as client:
        path = f"/v1/surveys/{tokens[token]}"
        for refused in (client.get(path), client.post(path, json={"score": 5})):
            assert refused.status_code == status, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert problem["type"].endswith("/" + code) and problem["title"] and problem["detail"]
    assert rating_of(server, ticket["number"], ticket["position"]) is None


def test_a_browser_is_shown_a_refusal_as_a_page_in_the_language_of_the_link(
    server: Server,
) -> None:
    ticket = closed_ticket(server)
    long_ago = datetime.now(UTC) - timedelta(days=20)
    expired = token_for(server, ticket["id"], language="fr", closed_at=long_ago)
    with server.client() as browser:
        page = browser.get(f"/v1/surveys/{expired}", headers=BROWSER)
    assert page.status_code == 410
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in page.text and "ne fonctionne plus" in page.text


def test_bad_scores_and_bodies_are_refused_422_and_record_nothing(server: Server) -> None:
    ticket = closed_ticket(server)
    token = token_for(server, ticket["id"])
    with server.client() as client:
        bodies: list[dict[str, Any]] = [
            {"json": {"score": 6}},
            {"json": {"score": "five"}},
            {"json": {"score": 3, "extra": 1}},
            {"json": {"score": 3, "comment": "x" * 2001}},
            {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}},
            {"content": b"not json", "headers": {"Content-Type": "application/json"}},
        ]
        for kwargs in bodies:
            refused = client.post(f"/v1/surveys/{token}", **kwargs)
            assert refused.status_code == 422, (kwargs, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        bad_form = client.post(f"/v1/surveys/{token}", data={"score": "0"})
        assert bad_form.status_code == 422 and bad_form.headers["content-type"].startswith(
            "text/html"
        )
        assert client.get(f"/v1/surveys/{token}", params={"score": 9}).status_code == 422
    assert rating_of(server, ticket["number"], ticket["position"]) is None


def test_a_requester_who_turns_surveys_off_gets_none_until_they_turn_them_on(
    server: Server,
) -> None:
    with server.client("requester") as requester:
        off = requester.patch("/v1/me/preferences", json={"surveys": False})
        assert off.status_code == 200, off.text
        try:
            again = requester.patch("/v1/me/preferences", json={"surveys": False})
            assert again.status_code == 409
            assert again.json()["type"].endswith("/nothing-changed")
            ticket = closed_ticket(server)
            reasons = survey_reasons(server, ticket["number"], ticket["position"])
            assert "closed" in reasons and "survey" not in reasons
            refused = httpx.post(
                f"{server.base_url}/v1/surveys/{token_for(server, ticket['id'])}",
                json={"score": 5},
            )
            assert refused.status_code == 409  # that closing asked nothing
        finally:
            on = requester.patch("/v1/me/preferences", json={"surveys": True})
            assert on.status_code == 200, on.text
    ticket = closed_ticket(server)
    assert "survey" in survey_reasons(server, ticket["number"], ticket["position"])


def test_the_satisfaction_dashboard_shows_surveys_sent_answered_and_the_response_rate(
    server: Server,
) -> None:
    answered, unanswered = closed_ticket(server), closed_ticket(server)
    with server.client() as client:
        sent = client.post(f"/v1/surveys/{token_for(server, answered['id'])}", json={"score": 5})
    assert sent.status_code == 200, sent.text
    position = max(sent.json()["position"], unanswered["position"])
    with server.client("analyst") as analyst:
        board = analyst.get(
            "/v1/dashboard/satisfaction",
            params={"group_by": "product", "min_position": position},
        )
    assert board.status_code == 200, board.text
    rows = board.json()["rows"]
    assert rows and all(
        {"surveys_sent", "surveys_answered", "response_rate"} <= row.keys() for row in rows
    )
    total_sent = sum(row["surveys_sent"] for row in rows)
    total_answered = sum(row["surveys_answered"] for row in rows)
    assert total_sent >= 2 and 1 <= total_answered < total_sent
