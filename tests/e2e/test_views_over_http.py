"""Saved views over HTTP: an agent saves a filter and sort of the inbox, reads its
tickets in the inbox's pages and its count beside the inbox; another agent never sees
it; shared views are every agent's to read and the admins' alone to write; a filter the
inbox refuses is refused naming it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Server, created, file_ticket, if_match

PROBLEMS = "https://docket.example/problems/"


def word() -> str:
    """A word no other test's tickets hold, so a view's tickets are this test's alone."""
    return "w" + uuid.uuid4().hex[:12]


def saved(client: httpx.Client, **body: Any) -> dict[str, Any]:
    made = client.post("/v1/views", json=body)
    answer = created(made)
    assert made.headers["location"] == f"/v1/views/{answer['id']}"
    assert made.headers["etag"] == f'"{answer["version"]}"'
    return answer


def walk(client: httpx.Client, view: str, position: int) -> list[str]:
    """Every ticket number of a view's pages, one ticket a page."""
    numbers: list[str] = []
    params: dict[str, Any] = {"limit": 1, "min_position": position}
    while True:
        page = client.get(f"/v1/views/{view}/tickets", params=params)
        assert page.status_code == 200, page.text
        numbers += [t["number"] for t in page.json()["tickets"]]
        if page.json()["next_cursor"] is None:
            return numbers
        params = {"limit": 1, "cursor": page.json()["next_cursor"]}


def counted(client: httpx.Client, view: str, position: int) -> dict[str, Any]:
    answer = client.get("/v1/inbox/views", params={"min_position": position})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = next(v for v in answer.json()["views"] if v["id"] == view)
    return found


def test_an_agent_saves_a_view_and_reads_its_tickets_and_its_count(server: Server) -> None:
    w = word()
    filed = [file_ticket(server, subject=f"Sync {w} {i}") for i in range(3)]
    with server.client("agent") as alex:
        closed = alex.post(f"/v1/tickets/{filed[1]['number']}/status", json={"status": "closed"})
        assert closed.status_code == 200
        view = saved(
            alex,
            name="My sync tickets",
            filters={"q": w, "status": ["open", "pending"], "sort": "created", "order": "asc"},
        )
        listed = alex.get("/v1/views", params={"min_position": view["position"]}).json()
        mine = next(v for v in listed["views"] if v["id"] == view["id"])
        assert (mine["name"], mine["shared"], mine["version"]) == ("My sync tickets", False, 1)
        assert mine["filters"] == {
            "q": [w], "status": ["open", "pending"], "sort": ["created"], "order": ["asc"],
        }  # fmt: skip
        position = closed.json()["position"]
        numbers = walk(alex, view["id"], position)
        assert numbers == [filed[0]["number"], filed[2]["number"]]  # oldest first, open only
        count = counted(alex, view["id"], position)
        assert (count["count"], count["more"], count["name"]) == (2, False, "My sync tickets")
        assert count["count"] == len(numbers)


def test_an_agents_own_view_is_no_view_at_all_to_another_agent(server: Server) -> None:
    with server.client("agent") as alex:
        view = saved(alex, name="Alex's", filters={"priority": "urgent"})
    with server.client("agent_tier2") as bea:
        unknown = str(uuid.uuid4())
        for ref in (view["id"], unknown):
            for answer in (
                bea.get(f"/v1/views/{ref}"),
                bea.get(f"/v1/views/{ref}/tickets"),
                bea.patch(f"/v1/views/{ref}", json={"name": "Mine now"}),
                bea.delete(f"/v1/views/{ref}"),
            ):
                assert answer.status_code == 404, answer.text
                assert answer.json()["type"] == PROBLEMS + "unknown-saved-view"
        listed = bea.get("/v1/views", params={"min_position": view["position"]}).json()
        assert view["id"] not in {v["id"] for v in listed["views"]}
        counts = bea.get("/v1/inbox/views", params={"min_position": view["position"]}).json()
        assert view["id"] not in {v["id"] for v in counts["views"]}
    with server.client("admin") as admin:  # not even an admin reads another's own view
        assert admin.get(f"/v1/views/{view['id']}").status_code == 404


def test_shared_views_are_every_agents_to_read_and_the_admins_alone_to_write(
    server: Server,
) -> None:
    w = word()
    with server.client("agent") as alex:
        refused = alex.post("/v1/views", json={"name": "For all", "shared": True})
        assert refused.status_code == 403
        assert refused.json()["type"] == PROBLEMS + "shared-views-for-admins"
    with server.client("admin") as admin:
        view = saved(admin, name=f"Mine ({w})", shared=True, filters={"assignee": "me", "q": w})
    filed = [file_ticket(server, subject=f"Shared {w} {i}") for i in range(2)]
    with server.client("agent") as alex:
        taken = alex.post(
            f"/v1/tickets/{filed[0]['number']}/assignment",
            json={"agent_id": "me", "group": "tier-1"},
        )
        assert taken.status_code == 200, taken.text
        position = taken.json()["position"]
        # assignee=me is whoever reads the view
        assert walk(alex, view["id"], position) == [filed[0]["number"]]
        assert counted(alex, view["id"], position)["count"] == 1
        assert alex.patch(f"/v1/views/{view['id']}", json={"name": "Taken"}).status_code == 403
        assert alex.delete(f"/v1/views/{view['id']}").status_code == 403
    with server.client("agent_tier2") as bea:
        assert walk(bea, view["id"], position) == []
        assert counted(bea, view["id"], position)["shared"] is True
    with server.client("admin") as admin:
        stale = admin.patch(
            f"/v1/views/{view['id']}", json={"name": "Renamed"}, headers=if_match(7)
        )
        assert stale.status_code == 412, stale.text
        renamed = admin.patch(
            f"/v1/views/{view['id']}",
            json={"name": "Renamed", "filters": {"q": w}},
            headers=if_match(1),
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["version"] == 2
        removed = admin.delete(f"/v1/views/{view['id']}")
        assert removed.status_code == 200, removed.text
        after = {"min_position": removed.json()["position"]}
        assert admin.get(f"/v1/views/{view['id']}", params=after).status_code == 404
    with server.client("agent") as alex:
        assert alex.get(f"/v1/views/{view['id']}/tickets").status_code == 404


def test_a_filter_the_inbox_refuses_is_refused_with_the_field_named(server: Server) -> None:
    with server.client("agent") as alex:
        for filters, field in (
            ({"status": "solved"}, "filters.status"),
            ({"breaching_within": -1}, "filters.breaching_within"),
            ({"created": "someday"}, "filters.created"),
            ({"colour": "red"}, "filters.colour"),
            ({"cursor": "abc"}, "filters.cursor"),
        ):
            answer = alex.post("/v1/views", json={"name": "Bad", "filters": filters})
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["errors"][0]["field"] == field, answer.json()
            assert field in answer.json()["detail"]
        # the inbox refuses the same query string, by the same parser
        assert alex.get("/v1/inbox", params={"status": "solved"}).status_code == 422
        view = saved(alex, name="Fine", filters={"status": "open"})
        bad = alex.patch(f"/v1/views/{view['id']}", json={"filters": {"sort": "loudest"}})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "filters.sort"
