"""SLA clocks, the due sort, compliance and the policy book over real HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Server, file_ticket

ENHANCED: dict[str, Any] = {"first_response": "1h", "next_reply": "4h", "resolution": "48h",
            "urgent": {"first_response": "30m", "next_reply": "1h", "resolution": "8h"}}  # fmt: skip


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_staff_see_each_clock_and_customers_see_none(server: Server) -> None:
    # Northwind has Premium Enhanced on Files; its team admin gets it (24x7)
    filed = file_ticket(server, "team_admin", priority="urgent", product="Files")
    wait = {"min_position": filed["position"]}
    with server.client("agent") as agent:
        detail = agent.get(f"/v1/tickets/{filed['number']}", params=wait).json()
    sla = detail["sla"]
    assert (sla["tier"], sla["calendar"]) == ("premium_enhanced", "24x7")
    clocks = {c["target"]: c for c in sla["clocks"]}
    assert set(clocks) == {"first_response", "resolution"}
    first = clocks["first_response"]
    created = instant(detail["created_at"])
    assert instant(first["due_at"]) == created + timedelta(minutes=30)
    assert (first["state"], first["breached"]) == ("running", False)
    assert 0 < first["business_seconds_left"] <= 30 * 60
    assert instant(clocks["resolution"]["due_at"]) == created + timedelta(hours=8)
    with server.client("team_admin") as customer:
        mine = customer.get(f"/v1/tickets/{filed['number']}", params=wait).json()
        assert "sla" not in mine
        listed = customer.get("/v1/tickets", params=wait).json()["tickets"]
        assert all("sla_due_at" not in t or t["sla_due_at"] is None for t in listed)
    with server.client("requester") as requester:
        listed = requester.get("/v1/tickets", params=wait).json()["tickets"]
        assert all("sla_due_at" not in t or t["sla_due_at"] is None for t in listed)
        refused = requester.get("/v1/tickets", params={"sort": "due"})
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        refused = requester.get("/v1/tickets", params={"breaching_within": 60})
        assert refused.status_code == 422


def test_the_inbox_sorts_by_due_and_filters_what_breaches_soon(server: Server) -> None:
    # Northwind's team admin has Premium Enhanced on Files
    relaxed = file_ticket(server, "team_admin", priority="normal", product="Files")  # 1 hour
    urgent = file_ticket(server, "team_admin", priority="urgent", product="Files")  # 30 minutes
    wait = {"min_position": urgent["position"]}
    with server.client("agent") as agent:
        soon = agent.get(
            "/v1/inbox", params={**wait, "sort": "due", "breaching_within": 45, "limit": 100}
        )
        assert soon.status_code == 200, soon.text
        numbers = [t["number"] for t in soon.json()["tickets"]]
        assert urgent["number"] in numbers and relaxed["number"] not in numbers
        page = agent.get("/v1/inbox", params={**wait, "sort": "due", "limit": 100}).json()
        dues = [instant(t["sla_due_at"]) for t in page["tickets"] if t["sla_due_at"]]
        assert dues == sorted(dues)
        row = next(t for t in page["tickets"] if t["number"] == urgent["number"])
        assert row["sla_breached"] is False
        assert 0 < row["sla_business_seconds_left"] <= 30 * 60


def test_a_policy_change_applies_to_tickets_filed_after_it_only(server: Server) -> None:
    before = file_ticket(server, "team_admin", product="Files", priority="normal")
    with server.client("admin") as admin:
        try:
            changed = admin.put("/v1/sla/policies/premium_enhanced",
                                json={**ENHANCED, "first_response": "2h"})  # fmt: skip
            assert changed.status_code == 200, changed.text
            tiers = changed.json()["tiers"]
            assert tiers["premium_enhanced"]["normal"]["first_response"] == "2h"
            assert tiers["premium_enhanced"]["urgent"]["first_response"] == "30m"
            after = file_ticket(server, "team_admin", product="Files", priority="normal")
        finally:
            restored = admin.put("/v1/sla/policies/premium_enhanced", json=ENHANCED)
            assert restored.status_code == 200
        again = admin.put("/v1/sla/policies/premium_enhanced", json=ENHANCED)
        assert again.status_code == 200  # the same targets again change nothing
        bad = admin.put(
            "/v1/sla/policies/premium_enhanced", json={**ENHANCED, "next_reply": "soon"}
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "premium_enhanced.next_reply"
        unknown = admin.put("/v1/sla/policies/platinum", json=ENHANCED)
        assert unknown.status_code == 422
    wait = {"min_position": after["position"]}
    with server.client("agent") as agent:
        assert agent.put("/v1/sla/policies/standard", json=ENHANCED).status_code == 403
        policy = agent.get("/v1/sla/policy").json()
        assert policy["tiers"]["premium_enhanced"]["normal"]["first_response"] == "1h"
        assert "us-public-sector" in policy["calendars"]

        def first_response(number: str) -> timedelta:
            detail = agent.get(f"/v1/tickets/{number}", params=wait).json()
            (clock,) = [c for c in detail["sla"]["clocks"] if c["target"] == "first_response"]
            return instant(clock["due_at"]) - instant(detail["created_at"])

        assert first_response(before["number"]) == timedelta(hours=1)
        assert first_response(after["number"]) == timedelta(hours=2)


def test_compliance_summary_for_analysts(server: Server) -> None:
    filed = file_ticket(server, "team_admin", product="Files", priority="high")
    with server.client("agent") as agent:
        replied = agent.post(f"/v1/tickets/{filed['number']}/messages", json={"body": "On it"})
        assert replied.status_code == 200
        position = replied.json()["position"]
    with server.client("analyst") as analyst:
        answer = analyst.get("/v1/sla/summary", params={"min_position": position,
                                                        "from": "2020-01-01", "tz": "Europe/Paris"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        body = answer.json()
        (first,) = [r for r in body["by_tier"]
                    if r["key"] == "premium_enhanced" and r["target"] == "first_response"]  # fmt: skip
        assert first["met"] >= 1
        assert first["compliance"] is not None
        assert {r["key"] for r in body["by_priority"]} >= {"high"}
        assert analyst.get("/v1/sla/summary", params={"tz": "Mars/Base"}).status_code == 422
        backwards = analyst.get(
            "/v1/sla/summary", params={"from": "2026-02-02", "to": "2026-02-01"}
        )
        assert backwards.status_code == 422
        assert backwards.headers["content-type"] == "application/problem+json"
    with server.client("requester") as requester:
        assert requester.get("/v1/sla/summary").status_code == 403


@pytest.mark.stress
def test_a_breach_falls_due_on_the_running_server_and_is_recorded_once(server: Server) -> None:
    with server.client("admin") as admin:
        try:
            quick = {**ENHANCED, "urgent": {**ENHANCED["urgent"], "first_response": "1m"}}
            assert admin.put("/v1/sla/policies/premium_enhanced", json=quick).status_code == 200
            filed = file_ticket(server, "team_admin", product="Files", priority="urgent")
        finally:
            assert admin.put("/v1/sla/policies/premium_enhanced", json=ENHANCED).status_code == 200
    deadline = time.monotonic() + 100
    with server.client("auditor") as auditor:
        while time.monotonic() < deadline:
            events = auditor.get(f"/v1/audit/tickets/{filed['number']}/events").json()["events"]
            breaches = [e for e in events if e["kind"] == "Ticket.SlaBreached"]
            if breaches:
                break
            time.sleep(1)
        time.sleep(2)  # a second sweep must find nothing more to record
        events = auditor.get(f"/v1/audit/tickets/{filed['number']}/events").json()["events"]
    (breach,) = [e for e in events if e["kind"] == "Ticket.SlaBreached"]
    assert breach["fields"]["target"] == "first_response"
    due, noticed = instant(breach["fields"]["due_at"]), instant(breach["fields"]["breached_at"])
    assert timedelta(0) < noticed - due < timedelta(seconds=5)
    print(f"breach noticed {(noticed - due).total_seconds() * 1000:.0f} ms after its due instant")
    with server.client("agent") as agent:
        detail = agent.get(f"/v1/tickets/{filed['number']}",
                           params={"min_position": breach["position"]}).json()  # fmt: skip
        (first,) = [c for c in detail["sla"]["clocks"] if c["target"] == "first_response"]
        assert (first["state"], first["breach_recorded"]) == ("breached", True)
        assert first["business_seconds_left"] < 0
    with server.client("requester") as requester:
        feed = requester.get(f"/v1/tickets/{filed['number']}").json()
        assert "sla" not in feed
