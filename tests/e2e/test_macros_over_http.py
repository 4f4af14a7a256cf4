"""Macros over real HTTP: keep, list, preview, apply; refusals are problems, never holes."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import Server, file_ticket

PROBLEM = "application/problem+json"
ASK: dict[str, Any] = {
    "title": "Ask for logs",
    "reply": {
        "en": "Hello {{requester.name}}, {{agent.name}} here: logs for {{ticket.number}}?",
        "fr": "Bonjour {{requester.name}}, les journaux pour {{ticket.number}} ?",
    },
    "status": "pending",
    "assignee": "me",
    "tags_add": ["Needs Logs"],
}


def test_an_agent_keeps_a_macro_previews_it_and_applies_it_in_one_write(
    server: Server,
) -> None:
    filed = file_ticket(server)
    ref = filed["number"]
    with server.client("agent") as agent, server.client("requester") as requester:
        made = agent.post("/v1/macros", json=ASK)
        assert made.status_code == 201, made.text
        macro = made.json()["id"]
        listed = agent.get(f"/v1/macros?min_position={made.json()['position']}").json()
        assert macro in [m["id"] for m in listed["macros"]]
        one = agent.get(f"/v1/macros/{macro}?min_position={made.json()['position']}").json()
        assert (one["scope"], one["tags_add"], one["version"]) == ("personal", ["needs-logs"], 1)

        preview = agent.post(f"/v1/tickets/{ref}/macros/{macro}/preview")
        assert preview.status_code == 200, preview.text
        shown = preview.json()
        assert shown["text"] == {
            "kind": "reply",
            "language": "en",
            "body": f"Hello Rita Requester, Alex Agent here: logs for {ref}?",
        }
        assert {c["field"]: c["becomes"] for c in shown["changes"]} == {
            "status": "pending", "assignee_id": server.tokens["agent_id"], "tags": ["needs-logs"],
        }  # fmt: skip
        assert agent.get(f"/v1/tickets/{ref}").json()["version"] == 1  # nothing written

        stale = agent.post(f"/v1/tickets/{ref}/macros/{macro}/apply", headers={"If-Match": '"7"'})
        assert stale.status_code == 412
        key = str(uuid.uuid4())
        applied = agent.post(
            f"/v1/tickets/{ref}/macros/{macro}/apply",
            headers={"If-Match": '"1"', "Idempotency-Key": key},
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["version"] == 5
        again = agent.post(
            f"/v1/tickets/{ref}/macros/{macro}/apply",
            headers={"If-Match": '"1"', "Idempotency-Key": key},
        )
        assert again.json() == applied.json()  # the retry is answered, not applied again
        seen = f"min_position={applied.json()['position']}"
        events = agent.get(f"/v1/audit/tickets/{ref}/events").json()["events"]
        assert [e["causation_id"] for e in events[1:]] == [f"macro:{macro}:v1"] * 4
        detail = agent.get(f"/v1/tickets/{ref}?{seen}").json()
        assert (detail["status"], detail["tags"]) == ("pending", ["needs-logs"])
        theirs = requester.get(f"/v1/tickets/{ref}?{seen}").json()
        assert theirs["conversation"][-1]["body"].startswith("Hello Rita Requester")
        assert "tags" not in theirs


def test_a_macro_that_cannot_be_filled_or_is_not_yours_is_refused(server: Server) -> None:
    filed = file_ticket(server)
    ref = filed["number"]
    with server.client("agent") as agent, server.client("agent_tier2") as other:
        unknown = agent.post("/v1/macros", json={"title": "x", "note": {"en": "{{who}}"}})
        assert unknown.status_code == 422 and unknown.headers["content-type"] == PROBLEM
        assert unknown.json()["errors"][0]["field"] == "note.en"
        shared = agent.post("/v1/macros", json={**ASK, "shared": True})
        assert shared.status_code == 403
        assert shared.json()["type"].endswith("/shared-macro-admin-only")
        holey = agent.post(
            "/v1/macros", json={"title": "Call", "reply": {"en": "{{agent.name}} calls you"}}
        ).json()["id"]
        for action in ("preview", "apply"):
            refused = agent.post(f"/v1/tickets/{ref}/macros/{holey}/{action}")
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == "agent.name"
            assert "assign it first" in refused.json()["detail"]
        assert agent.get(f"/v1/tickets/{ref}").json()["version"] == 1
        for path in (f"/v1/macros/{holey}", "/v1/macros/not-a-macro"):
            assert other.get(path).status_code == 404
        assert other.post(f"/v1/tickets/{ref}/macros/{holey}/apply").status_code == 404
        assert other.patch(f"/v1/macros/{holey}", json={"title": "Mine"}).status_code == 404
        changed = agent.patch(
            f"/v1/macros/{holey}",
            json={"reply": None, "note": {"en": "Called"}},
            headers={"If-Match": '"1"'},
        )
        assert changed.status_code == 200 and changed.json()["version"] == 2
        archived = agent.delete(f"/v1/macros/{holey}", headers={"If-Match": '"2"'})
        assert archived.status_code == 200
        gone = agent.post(f"/v1/tickets/{ref}/macros/{holey}/apply")
        assert gone.status_code == 404 and gone.json()["type"].endswith("/unknown-macro")


def test_admins_keep_shared_macros_every_agent_uses(server: Server) -> None:
    filed = file_ticket(server)
    with server.client("admin") as admin, server.client("agent_tier2") as agent:
        made = admin.post(
            "/v1/macros",
            json={"title": f"Shared {uuid.uuid4().hex[:6]}", "shared": True, "priority": "high",
                  "note": {"fr": "Vu : {{ticket.number}}"}},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        macro = made.json()["id"]
        listed = agent.get(f"/v1/macros?min_position={made.json()['position']}").json()
        assert macro in [m["id"] for m in listed["macros"] if m["scope"] == "shared"]
        applied = agent.post(f"/v1/tickets/{filed['number']}/macros/{macro}/apply")
        assert applied.status_code == 200, applied.text
        seen = f"min_position={applied.json()['position']}"
        detail = agent.get(f"/v1/tickets/{filed['number']}?{seen}").json()
        assert detail["internal_notes"][-1]["body"] == f"Vu : {filed['number']}"  # the only text
        assert detail["priority"] == "high"
        assert agent.patch(f"/v1/macros/{macro}", json={"title": "Mine"}).status_code == 403
