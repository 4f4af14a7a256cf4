"""The automation rule book over real HTTP: admins keep it, agents read it, refusals are
problems that say what to do."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import Server

LATER: dict[str, Any] = {"since": "last_customer_message", "hours": 5000}


def rule(**changes: Any) -> dict[str, Any]:
    return {
        "id": f"http-{uuid.uuid4().hex[:8]}",
        "name": "Tag a quiet ticket",
        "conditions": {**LATER, "status": ["open"], "priority": ["high", "urgent"]},
        "actions": [{"type": "notify", "to": "assignee", "body": "Quiet for a while."}],
        **changes,
    }


def test_the_shipped_rules_are_listed_switched_off(server: Server) -> None:
    with server.client("agent") as agent:
        listed = agent.get("/v1/automations")
    assert listed.status_code == 200
    shipped = {r["id"]: r for r in listed.json()["rules"]}
    assert {"pending-reminder", "pending-close", "urgent-escalation"} <= set(shipped)
    reminder = shipped["pending-reminder"]
    assert reminder["enabled"] is False
    assert reminder["conditions"]["since"] == "status_entered"
    assert reminder["conditions"]["hours"] == 96
    assert shipped["pending-close"]["conditions"]["hours"] == 168
    assert shipped["urgent-escalation"]["conditions"]["hours"] == 0.5


def test_an_admin_creates_a_rule_and_each_change_raises_its_version(server: Server) -> None:
    sent = rule()
    with server.client("admin") as admin:
        created = admin.post("/v1/automations", json=sent)
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["version"], body["enabled"]) == (1, False)
        assert body["causation_id"] == f"rule:{sent['id']}:v1"
        on = admin.patch(f"/v1/automations/{sent['id']}", json={"enabled": True})
        assert (on.status_code, on.json()["version"], on.json()["enabled"]) == (200, 2, True)
        again = admin.patch(f"/v1/automations/{sent['id']}", json={"enabled": True})
        assert again.json()["version"] == 2  # nothing changed: no new version
        off = admin.patch(f"/v1/automations/{sent['id']}", json={"enabled": False})
        assert off.json()["version"] == 3
        twice = admin.post("/v1/automations", json=sent)
        assert (twice.status_code, twice.json()["type"].rsplit("/", 1)[-1]) == (
            409, "already-exists",
        )  # fmt: skip
    with server.client("agent") as agent:
        read = agent.get(f"/v1/automations/{sent['id']}")
        assert read.json()["version"] == 3
        refused = agent.patch(f"/v1/automations/{sent['id']}", json={"enabled": True})
        assert refused.status_code == 403


def problem(response: Any) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["type"].rsplit("/", 1)[-1]


def test_a_rule_that_cannot_hold_is_refused_naming_what_to_fix(server: Server) -> None:
    with server.client("admin") as admin:
        for bad in (
            rule(conditions={**LATER, "status": ["waiting"]}),
            rule(conditions={**LATER, "hours": -1}),
            rule(conditions={"hours": 3}),
            rule(conditions={**LATER, "status": ["closed"]}),
            rule(actions=[]),
            rule(actions=[{"type": "set_status"}]),
            rule(
                actions=[
                    {"type": "set_status", "status": "closed"},
                    {"type": "reply", "body": "Closed."},
                ]
            ),
            rule(conditions={**LATER, "tags_all": ["vip"], "tags_none": ["vip"]}),
        ):
            refused = admin.post("/v1/automations", json=bad)
            status, kind = problem(refused)
            # the schema's refusals (invalid-request) and the rule book's (invalid-field)
            assert (status, kind in ("invalid-request", "invalid-field")) == (422, True), bad
            assert refused.json()["detail"]
        missing = admin.get("/v1/automations/no-such-rule")
        assert problem(missing) == (404, "unknown-automation")
        assert "GET /v1/automations" in missing.json()["detail"]
        nowhere = admin.post(
            "/v1/automations",
            json=rule(enabled=True, actions=[{"type": "assign_group", "group": "no-such"}]),
        )
        assert problem(nowhere) == (404, "unknown-group")


def test_a_rule_switched_on_applies_only_a_shared_macro_and_says_which_field_is_wrong(
    server: Server,
) -> None:
    nudge = {"title": "Nudge", "reply": {"en": "Any news on {{ticket.number}}?"},
             "tags_add": ["nudged"]}  # fmt: skip
    with server.client("agent") as agent:
        personal = agent.post("/v1/macros", json=nudge)
        assert personal.status_code == 201, personal.text
    with server.client("admin") as admin:
        shared = admin.post("/v1/macros", json={**nudge, "shared": True})
        assert shared.status_code == 201, shared.text
        for macro_id, says in (
            (str(uuid.uuid4()), "no macro by that id"),
            (personal.json()["id"], "a personal macro"),
        ):
            sent = rule(enabled=True, actions=[{"type": "apply_macro", "macro_id": macro_id}])
            refused = admin.post("/v1/automations", json=sent)
            assert problem(refused) == (422, "invalid-field"), refused.text
            assert refused.json()["errors"][0]["field"] == "actions[0].macro_id"
            assert says in refused.json()["detail"]
        not_an_id = admin.post(
            "/v1/automations",
            json=rule(actions=[{"type": "apply_macro", "macro_id": "nudge"}]),
        )
        assert not_an_id.json()["errors"][0]["field"] == "actions[0].macro_id"
        sent = rule(
            enabled=True, actions=[{"type": "apply_macro", "macro_id": shared.json()["id"]}]
        )
        made = admin.post("/v1/automations", json=sent)
        assert (made.status_code, made.json()["enabled"]) == (201, True), made.text
        assert made.json()["actions"][0]["macro_id"] == shared.json()["id"]
        gone = admin.delete(f"/v1/macros/{shared.json()['id']}")
        assert gone.status_code in (200, 204), gone.text
        again = admin.patch(f"/v1/automations/{sent['id']}", json={"name": "Renamed"})
        assert problem(again) == (422, "invalid-field")  # its macro archived: not kept on
