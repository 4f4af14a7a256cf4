"""Custom ticket fields over real HTTP: admins define them, the form files with them,
staff change them, and the detail, lists, feed and dashboard show them.

The server is shared by every e2e test: each test's required field is on a product of
its own (Gizmo-…), so no other test's filing is held to it.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import Server, created, file_ticket, if_match

LINUX = {"key": "linux", "labels": {"en": "Linux", "fr": "Linux"}}
MACOS = {"key": "macos", "labels": {"en": "macOS", "fr": "macOS"}}


def define(server: Server, **field: Any) -> dict[str, Any]:
    with server.client("admin") as admin:
        return created(admin.post("/v1/ticket-fields", json=field))


def fresh_key(stem: str) -> str:
    return f"{stem}_{uuid.uuid4().hex[:8]}"


def gizmo_fields(server: Server) -> tuple[str, str, str]:
    """A fresh product, a required dropdown for its tickets, and an optional number for
    every product."""
    os_key, seats_key, gizmo = fresh_key("os"), fresh_key("seats"), fresh_key("Gizmo")
    define(server, key=os_key, kind="dropdown", product=gizmo, required=True,
           labels={"en": "Operating system", "fr": "Système d'exploitation"},
           options=[LINUX, MACOS])  # fmt: skip
    define(server, key=seats_key, kind="number", labels={"en": "Seats", "fr": "Postes"})
    return os_key, seats_key, gizmo


def refused_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    field: str = response.json()["errors"][0]["field"]
    return field


def test_the_form_files_with_valid_values_and_refuses_others_naming_the_field(
    server: Server,
) -> None:
    os_key, seats_key, gizmo = gizmo_fields(server)
    body = {"subject": "S", "description": "D", "product": gizmo}
    with server.client("requester") as requester:
        listed = requester.get("/v1/ticket-fields", params={"product": gizmo}).json()["fields"]
        assert {os_key, seats_key} <= {f["key"] for f in listed}
        assert os_key not in {
            f["key"] for f in requester.get("/v1/ticket-fields", params={"product": "Dash"})
            .json()["fields"]
        }  # fmt: skip
        assert refused_field(requester.post("/v1/tickets", json=body)) == f"custom_fields.{os_key}"
        for values, field in (
            ({os_key: "windows"}, os_key),
            ({os_key: "linux", seats_key: "many"}, seats_key),
            ({os_key: "linux", "colour": "teal"}, "colour"),
        ):
            answer = requester.post("/v1/tickets", json={**body, "custom_fields": values})
            assert refused_field(answer) == f"custom_fields.{field}"
        filed = requester.post(
            "/v1/tickets", json={**body, "custom_fields": {os_key: "linux", seats_key: 12}}
        )
        assert filed.status_code == 201, filed.text
        number = filed.json()["number"]
        detail = requester.get(
            f"/v1/tickets/{number}", params={"min_position": filed.json()["position"]}
        ).json()
    shown = {f["key"]: f for f in detail["custom_fields"]}
    assert shown[os_key] == {
        "key": os_key, "value": "linux", "kind": "dropdown",
        "labels": {"en": "Operating system", "fr": "Système d'exploitation"},
        "value_labels": {"en": "Linux", "fr": "Linux"}, "option_removed": False, "archived": False,
    }  # fmt: skip
    assert shown[seats_key]["value"] == 12


def test_staff_change_values_at_a_version_and_customers_may_not(server: Server) -> None:
    os_key, seats_key, gizmo = gizmo_fields(server)
    filed = file_ticket(server, product=gizmo, custom_fields={os_key: "macos"})
    path = f"/v1/tickets/{filed['number']}/custom-fields"
    change = {"custom_fields": {seats_key: 3}}
    with server.client("requester") as requester:
        assert requester.patch(path, json=change).status_code == 403
    with server.client("agent") as agent:
        stale = agent.patch(path, json=change, headers=if_match(1))
        assert stale.status_code == 412, stale.text
        done = agent.patch(path, json=change, headers=if_match(filed["version"]))
        assert done.status_code == 200, done.text
        cleared = agent.patch(path, json={"custom_fields": {os_key: None}})
        assert refused_field(cleared) == f"custom_fields.{os_key}"  # required: not cleared
        detail = agent.get(
            f"/v1/tickets/{filed['number']}", params={"min_position": done.json()["position"]}
        ).json()
    assert {f["key"]: f["value"] for f in detail["custom_fields"]} == {
        os_key: "macos",
        seats_key: 3,
    }


def test_lists_filter_by_a_field_value_for_staff_and_customers(server: Server) -> None:
    os_key, _, gizmo = gizmo_fields(server)
    linux = file_ticket(server, product=gizmo, custom_fields={os_key: "linux"})
    macos = file_ticket(server, product=gizmo, custom_fields={os_key: "macos"})
    wait = {"min_position": macos["position"]}
    with server.client("agent") as agent:
        found = agent.get("/v1/inbox", params={**wait, "field": f"{os_key}:linux"}).json()
        assert [t["number"] for t in found["tickets"]] == [linux["number"]]
        assert found["tickets"][0]["custom_fields"] == {os_key: "linux"}
        both = agent.get("/v1/tickets", params={**wait, "field": [f"{os_key}:linux",
                                                                   f"{os_key}:macos"]})  # fmt: skip
        assert {t["number"] for t in both.json()["tickets"]} == {linux["number"], macos["number"]}
        assert refused_field(agent.get("/v1/inbox", params={"field": "nope:1"})) == "field"
    with server.client("requester") as requester:
        mine = requester.get("/v1/tickets", params={**wait, "field": f"{os_key}:macos"}).json()
        assert [t["number"] for t in mine["tickets"]] == [macos["number"]]


def test_a_removed_option_reads_as_its_key_and_the_ticket_does_not_change(server: Server) -> None:
    os_key, _, gizmo = gizmo_fields(server)
    filed = file_ticket(server, product=gizmo, custom_fields={os_key: "linux"})
    with server.client("agent") as agent:
        before = agent.get(
            f"/v1/tickets/{filed['number']}", params={"min_position": filed["position"]}
        )
    with server.client("admin") as admin:
        field = admin.get(f"/v1/ticket-fields/{os_key}")
        assert field.headers["etag"] == '"1"'
        path, change = f"/v1/ticket-fields/{os_key}", {"options": [MACOS]}
        stale = admin.patch(path, json=change, headers=if_match(7))
        assert stale.status_code == 412
        revised = admin.patch(path, json=change, headers=if_match(1))
        assert revised.status_code == 200, revised.text
        assert revised.json()["revision"] == 2
        again = admin.patch(path, json=change)
        assert again.status_code == 409
    with server.client("agent") as agent:
        after = agent.get(
            f"/v1/tickets/{filed['number']}", params={"min_position": revised.json()["position"]}
        )
    assert after.headers["etag"] == before.headers["etag"]
    [shown] = [f for f in after.json()["custom_fields"] if f["key"] == os_key]
    assert (shown["value"], shown["value_labels"], shown["option_removed"]) == (
        "linux",
        None,
        True,
    )


def test_an_archived_field_is_hidden_from_customers_and_shown_to_staff_flagged(
    server: Server,
) -> None:
    key = fresh_key("old")
    define(server, key=key, kind="checkbox", labels={"en": "Old", "fr": "Vieux"})
    with server.client("admin") as admin:
        assert admin.patch(f"/v1/ticket-fields/{key}", json={"archived": True}).status_code == 200
    with server.client("requester") as requester:
        assert key not in {f["key"] for f in requester.get("/v1/ticket-fields").json()["fields"]}
        assert requester.get(f"/v1/ticket-fields/{key}").status_code == 404
    with server.client("agent") as agent:
        [staff_view] = [
            f for f in agent.get("/v1/ticket-fields").json()["fields"] if f["key"] == key
        ]
        assert staff_view["archived"] is True


def test_the_feed_carries_the_values_and_times_group_by_a_dropdown(server: Server) -> None:
    os_key, seats_key, gizmo = gizmo_fields(server)
    filed = file_ticket(server, product=gizmo, custom_fields={os_key: "linux"})
    with server.client("agent") as agent:
        page = agent.get(
            "/v1/feed", params={"after": filed["position"] - 5, "min_position": filed["position"]}
        ).json()
    [values] = [
        e["fields"]["values"]
        for e in page["events"]
        if e["kind"] == "Ticket.CustomFieldsSet" and e["ticket_number"] == filed["number"]
    ]
    assert values == {os_key: "linux"}
    with server.client("admin") as admin:
        params = {"group_by": f"field.{os_key}", "min_position": filed["position"]}
        rows = admin.get("/v1/dashboard/times", params=params).json()["rows"]
        assert {r["name"]: r["tickets"] for r in rows}["linux"] == 1
        number = admin.get("/v1/dashboard/times", params={"group_by": f"field.{seats_key}"})
        assert refused_field(number) == "group_by"
