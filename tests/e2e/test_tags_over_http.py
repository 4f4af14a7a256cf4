"""Tags over real HTTP: staff tag, filter and count; customers never see a tag."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import Server, file_ticket

PROBLEM = "application/problem+json"


def test_staff_tag_a_ticket_and_find_it_by_its_tags_and_customers_see_none(
    server: Server,
) -> None:
    word = uuid.uuid4().hex[:8]  # tags of this test's own, whatever else the server holds
    one, two = file_ticket(server), file_ticket(server)
    with server.client("agent") as agent, server.client("requester") as requester:
        before = requester.get(f"/v1/tickets/{one['number']}?min_position={one['position']}")
        tagged = agent.post(
            f"/v1/tickets/{one['number']}/tags",
            json={"add": [f"Billing {word}", f"vip-{word}"]},
            headers={"If-Match": '"1"'},
        )
        assert tagged.status_code == 200, tagged.text
        assert tagged.json()["version"] == 2
        again = agent.post(f"/v1/tickets/{one['number']}/tags", json={"add": [f"vip-{word}"]})
        assert again.status_code == 200 and again.json()["version"] == 2  # nothing to record
        last = agent.post(f"/v1/tickets/{two['number']}/tags", json={"add": [f"vip-{word}"]})
        seen = f"min_position={last.json()['position']}"

        detail = agent.get(f"/v1/tickets/{one['number']}?{seen}").json()
        assert detail["tags"] == [f"billing-{word}", f"vip-{word}"]
        every = agent.get(f"/v1/inbox?tags_all=billing-{word},VIP-{word}&{seen}").json()
        assert [t["number"] for t in every["tickets"]] == [one["number"]]
        assert every["tickets"][0]["tags"] == [f"billing-{word}", f"vip-{word}"]
        some = agent.get(f"/v1/tickets?tags_any=billing-{word},vip-{word}&{seen}").json()
        assert {t["number"] for t in some["tickets"]} == {one["number"], two["number"]}

        after = requester.get(f"/v1/tickets/{one['number']}?{seen}")
        assert "tags" not in after.json()
        assert after.headers["etag"] == before.headers["etag"]  # nothing they see moved
        assert word not in after.text
        mine = requester.get(f"/v1/tickets?{seen}")
        assert word not in mine.text
        refused = requester.get(f"/v1/tickets?tags_any=vip-{word}")
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        assert refused.json()["errors"][0]["field"] == "tags_any"
        not_theirs = requester.post(f"/v1/tickets/{one['number']}/tags", json={"add": ["x"]})
        assert not_theirs.status_code == 403


def test_a_tag_outside_the_rules_is_refused_naming_the_field(server: Server) -> None:
    ref = file_ticket(server)["number"]
    with server.client("agent") as agent:
        bad = agent.post(f"/v1/tickets/{ref}/tags", json={"add": ["ok"], "remove": ["no/slash"]})
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
        assert bad.json()["errors"][0]["field"] == "remove"
        assert "e.g." in bad.json()["detail"]
        many = agent.post(f"/v1/tickets/{ref}/tags", json={"add": [f"t{i}" for i in range(21)]})
        assert many.status_code == 422
        filter_refused = agent.get("/v1/inbox?tags_all=a,b%2Fc")
        assert filter_refused.status_code == 422
        assert filter_refused.json()["errors"][0]["field"] == "tags_all"
        unknown = agent.post("/v1/tickets/T-999999/tags", json={"add": ["x"]})
        assert unknown.status_code == 404 and unknown.json()["type"].endswith("/unknown-ticket")


def test_the_tags_dashboard_counts_tickets_per_tag(server: Server) -> None:
    word = uuid.uuid4().hex[:8]
    filed = file_ticket(server)
    with server.client("agent") as agent, server.client("analyst") as analyst:
        done = agent.post(f"/v1/tickets/{filed['number']}/tags", json={"add": [f"d-{word}"]})
        position = done.json()["position"]
        board = analyst.get(f"/v1/dashboard/tags?limit=1000&min_position={position}")
        assert board.status_code == 200, board.text
        rows = [r for r in board.json()["rows"] if r["name"] == f"d-{word}"]
        assert rows == [{"name": f"d-{word}", "tickets": 1, "open": 1, "pending": 0, "closed": 0}]
        csv = analyst.get("/v1/dashboard/tags?limit=1000", headers={"Accept": "text/csv"})
        assert csv.text.startswith("name,tickets,open,pending,closed")
