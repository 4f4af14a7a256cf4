"""The chat and callback channels over real HTTP: a chat ticket, a callback asked for, seen
in the agent's inbox as one to make, made, and never shown to another customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Server

PHONE = "+14155552671"


def window(hours_from_now: float = 1, hours: float = 2) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(hours=hours_from_now)
    return {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=hours)).isoformat(),
    }


def ask_for_callback(client: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"phone": PHONE, "subject": "Please call me", **window(), **fields}
    return client.post("/v1/callbacks", json=body)


def refused_field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    field: str = response.json()["errors"][0]["field"]
    return field


def test_a_chat_ticket_opens_with_its_transcript(server: Server) -> None:
    transcript = [
        {"who": "customer", "text": "My files stopped syncing.", "at": "2026-01-05T10:02:00Z"},
        {"who": "agent", "text": "Which device?"},
        {"who": "customer", "text": "The laptop."},
    ]
    with server.client("requester") as requester:
        filed = requester.post(
            "/v1/tickets",
            json={"subject": "Sync", "channel": "chat", "transcript": transcript},
        )
        assert filed.status_code == 201, filed.text
        receipt = filed.json()
        assert receipt["version"] == 2
        detail = requester.get(
            f"/v1/tickets/{receipt['number']}", params={"min_position": receipt["position"]}
        ).json()
    assert detail["channel"] == "chat"
    (first,) = detail["conversation"]
    assert first["body"] == (
        "Chat transcript:\n[2026-01-05T10:02:00+00:00] Customer: My files stopped syncing.\n"
        "Agent: Which device?\nCustomer: The laptop."
    )
    assert [line["who"] for line in detail["transcript"]] == ["customer", "agent", "customer"]
    assert detail["transcript"][1]["at"] is None
    assert "callback" not in detail


def test_a_chat_without_a_transcript_or_a_transcript_elsewhere_is_refused(server: Server) -> None:
    line = {"who": "customer", "text": "hi"}
    with server.client("requester") as requester:
        for body in (
            {"subject": "s", "description": "d", "channel": "chat"},
            {"subject": "s", "channel": "chat", "transcript": []},
            {"subject": "s", "description": "d", "channel": "web", "transcript": [line]},
            {"subject": "s", "description": "d", "transcript": [line]},
        ):
            answer = requester.post("/v1/tickets", json=body)
            assert refused_field(answer) == "transcript", body
            assert "transcript" in answer.json()["detail"]
        bad_line = requester.post(
            "/v1/tickets",
            json={"subject": "s", "channel": "chat", "transcript": [{"who": "bot", "text": "x"}]},
        )
        assert refused_field(bad_line) == "transcript.0.who"
        no_description = requester.post("/v1/tickets", json={"subject": "s"})
        assert refused_field(no_description) == "description"


def test_a_callback_is_made_from_the_inbox_and_never_shown_to_another_customer(
    server: Server,
) -> None:
    with server.client("requester") as requester:
        asked = ask_for_callback(requester, time_zone="America/Los_Angeles", product="Files")
        assert asked.status_code == 201, asked.text
        receipt = asked.json()
        wait = {"min_position": receipt["position"]}
        number = receipt["number"]
        mine = requester.get(f"/v1/tickets/{number}", params=wait).json()
        assert (mine["channel"], mine["priority"]) == ("phone", "urgent")
        assert mine["callback"]["phone"] == PHONE
        assert mine["callback"]["state"] == "to_make"
        assert PHONE not in mine["conversation"][0]["body"]
        listed = requester.get("/v1/tickets", params={**wait, "limit": 100}).json()["tickets"]
        assert number in [t["number"] for t in listed]
        assert PHONE not in str(listed)
        assert requester.get("/v1/tickets", params={"callback": "to_make"}).status_code == 422
    with server.client("agent") as agent:
        to_make = agent.get("/v1/inbox", params={**wait, "callback": "to_make", "limit": 100})
        assert to_make.status_code == 200, to_make.text
        row = next(t for t in to_make.json()["tickets"] if t["number"] == number)
        assert (row["callback_phone"], row["callback_state"]) == (PHONE, "to_make")
        assert row["callback_window_start"] is not None and row["priority"] == "urgent"
        staff_detail = agent.get(f"/v1/tickets/{number}", params=wait).json()
        assert staff_detail["callback"]["time_zone"] == "America/Los_Angeles"
        made = agent.post(f"/v1/tickets/{number}/callback", json={"outcome": "reached"})
        assert made.status_code == 200, made.text
        wait = {"min_position": made.json()["position"]}
        again = agent.post(f"/v1/tickets/{number}/callback", json={"outcome": "reached"})
        assert again.status_code == 409
        assert again.json()["type"].endswith("/no-callback-to-make")
        left = agent.get("/v1/inbox", params={**wait, "callback": "to_make", "limit": 100})
        assert number not in [t["number"] for t in left.json()["tickets"]]
        done = agent.get("/v1/inbox", params={**wait, "callback": "made", "limit": 100})
        assert number in [t["number"] for t in done.json()["tickets"]]
        callback = agent.get(f"/v1/tickets/{number}", params=wait).json()["callback"]
        assert (callback["state"], callback["outcome"]) == ("made", "reached")
        assert callback["made_by"]["name"]
    with server.client("auditor") as auditor:
        history = auditor.get(f"/v1/audit/tickets/{number}/events").json()["events"]
        kinds = [e["kind"] for e in history]
        assert kinds == ["Ticket.Opened", "Ticket.CallbackRequested", "Ticket.CallbackMade"]
        assert history[1]["fields"]["phone"] == PHONE
    with server.client("team_admin") as colleague:  # same account, not the requester
        seen = colleague.get(f"/v1/tickets/{number}", params=wait)
        assert seen.status_code == 200
        assert "callback" not in seen.json() and PHONE not in seen.text
        team = colleague.get("/v1/tickets", params={**wait, "scope": "team", "limit": 100})
        assert PHONE not in team.text
    with server.client("requester_other_account") as stranger:
        assert stranger.get(f"/v1/tickets/{number}").status_code == 404
        assert PHONE not in stranger.get("/v1/tickets", params={"limit": 100}).text
    asked_at = history[1]["position"]
    with server.client("agent") as agent:  # the page holds the request, with its number
        page = agent.get("/v1/feed", params={**wait, "after": asked_at - 1, "limit": 5}).text
        assert "Ticket.CallbackRequested" in page and PHONE in page
    with server.client("analyst") as analyst:  # the same page: the request is not there
        page = analyst.get("/v1/feed", params={**wait, "after": asked_at - 1, "limit": 5}).text
        assert "Ticket.CallbackRequested" not in page and PHONE not in page


def test_a_callback_without_a_window_is_asked_as_soon_as_possible(server: Server) -> None:
    with server.client("requester") as requester:
        asked = requester.post("/v1/callbacks", json={"phone": PHONE})  # the number is enough
        assert asked.status_code == 201, asked.text
        receipt = asked.json()
        wait = {"min_position": receipt["position"]}
        mine = requester.get(f"/v1/tickets/{receipt['number']}", params=wait).json()
        assert (mine["channel"], mine["priority"]) == ("phone", "urgent")
        assert mine["subject"] == "Callback request"
        callback = mine["callback"]
        assert (callback["window_start"], callback["window_end"]) == (None, None)
        assert "as soon as possible" in mine["conversation"][0]["body"]
        half = {"phone": PHONE, "subject": "Half", "window_start": window()["window_start"]}
        assert refused_field(requester.post("/v1/callbacks", json=half)) == "window_end"
    with server.client("agent") as agent:
        to_make = agent.get("/v1/inbox", params={**wait, "callback": "to_make", "limit": 100})
        row = next(t for t in to_make.json()["tickets"] if t["number"] == receipt["number"])
        assert (row["callback_state"], row["callback_window_start"]) == ("to_make", None)


def test_a_callback_with_a_bad_number_or_window_is_refused_naming_the_field(
    server: Server,
) -> None:
    with server.client("requester") as requester:
        for phone in ("4155552671", "+1 415 555 2671", "+0123456789", "+1234567", "+" + "1" * 16):
            answer = ask_for_callback(requester, phone=phone)
            assert refused_field(answer) == "phone"
            assert "+14155552671" in answer.json()["detail"]
        cases = [
            (window(hours_from_now=3, hours=-1), "window_end"),
            (window(hours_from_now=-5, hours=2), "window_end"),
            (window(hours=24 * 8), "window_end"),
            (window(hours_from_now=24 * 31), "window_end"),
            ({"window_start": "2030-01-01T09:00:00", "window_end": "2030-01-01T10:00:00"},
             "window_start"),
        ]  # fmt: skip
        for fields, field in cases:
            assert refused_field(ask_for_callback(requester, **fields)) == field, fields
        assert refused_field(ask_for_callback(requester, time_zone="Mars/Base")) == "time_zone"
        assert refused_field(ask_for_callback(requester, phone=None)) == "phone"
    with server.client("free_user") as free:
        answer = ask_for_callback(free)
        assert answer.status_code == 403
        assert "community" in answer.json()["detail"]
