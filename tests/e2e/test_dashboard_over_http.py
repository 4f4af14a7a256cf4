"""Dashboards over HTTP: JSON and CSV, filters, and the figures moving with new tickets."""

from __future__ import annotations

import csv
import io

from tests.e2e.conftest import Server, file_ticket


def test_a_filed_ticket_shows_in_the_summary_and_top_issues_as_json_and_csv(
    server: Server,
) -> None:
    filed = file_ticket(server, topic="Zeppelin trouble", product="Blimp")
    wait = {"min_position": filed["position"]}
    with server.client("analyst") as analyst:
        summary = analyst.get("/v1/dashboard/summary", params={**wait, "product": "Blimp"})
        assert summary.status_code == 200
        assert summary.json()["rows"] == [{"status": "open", "tickets": 1}]
        issues = analyst.get(
            "/v1/dashboard/top-issues",
            params={**wait, "product": "Blimp", "limit": 1},
            headers={"Accept": "text/csv"},
        )
        assert issues.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(issues.text)))
        assert rows[0] == {"dimension": "topic", "name": "Zeppelin trouble", "tickets": "1"}
        for path, params in (
            ("top-products", {"topic": "Zeppelin trouble"}),
            ("volume", {"bucket": "week"}),
            ("times", {"group_by": "channel"}),
            ("satisfaction", {"group_by": "agent"}),
        ):
            answer = analyst.get(f"/v1/dashboard/{path}", params={**wait, **params})
            assert answer.status_code == 200, (path, answer.text)
        bad = analyst.get("/v1/dashboard/times", params={"group_by": "mood"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        backwards = analyst.get(
            "/v1/dashboard/summary", params={"from": "2024-03-02", "to": "2024-03-01"}
        )
        assert backwards.status_code == 422
