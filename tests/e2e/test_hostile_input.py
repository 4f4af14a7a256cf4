"""Hostile input over HTTP: text that looks like SQL, HTML or control codes is only text;
fuzzed uploads never crash the server; revoked and bad tokens reach nothing; every
parameter of every route and every field of a cursor, given a value it cannot take,
answers a problem that says what to do; bodies over the limit are 413 however sent."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import Server, file_ticket

NASTY = [
    "'); DROP TABLE docket_events; --",
    '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "bell\a escape\x1b[31m tab\t cr\r form\f vtab\v",
    "{product_purchased} %s %(x)s $1 \\x00 \\\\ ' \"",
    "ümlaut ☃ 𝄞 \u202eright-to-left\u202c",
]


def test_sql_html_and_control_characters_are_stored_and_returned_as_the_same_text(
    server: Server,
) -> None:
    for text in NASTY:
        filed = file_ticket(
            server, subject=text[:200], description=text, product=text[:200], topic=text[:200]
        )
        with server.client("agent") as agent:
            reply = agent.post(f"/v1/tickets/{filed['number']}/messages", json={"body": text})
            assert reply.status_code == 200
            detail = agent.get(
                f"/v1/tickets/{filed['number']}", params={"min_position": reply.json()["position"]}
            )
            hits = agent.get(
                "/v1/inbox", params={"q": "script alert", "min_position": reply.json()["position"]}
            )
        ticket = detail.json()
        assert (ticket["subject"], ticket["product"], ticket["topic"]) == (text[:200],) * 3
        assert [m["body"] for m in ticket["conversation"]] == [text, text]
        assert hits.status_code == 200


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    content=st.binary(max_size=2048),
    filename=st.text(max_size=80),
    content_type=st.sampled_from(
        ["text/plain", "image/png", "application/pdf", "x/\x00y", "", "a" * 300]
    ),
)
def test_fuzzed_uploads_are_stored_or_refused_never_a_server_error(
    server: Server, content: bytes, filename: str, content_type: str
) -> None:
    with server.client("requester") as c:
        try:
            response = c.post("/v1/attachments", files={"file": (filename, content, content_type)})
        except ValueError:  # the client itself refuses to send some header values
            return
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


def test_a_revoked_or_made_up_token_reaches_nothing(server: Server) -> None:
    fresh = subprocess.run([sys.executable, "-m", "api.cli", "seed-demo"], env=server.env,
                           capture_output=True, text=True, check=True)  # fmt: skip
    token = json.loads(fresh.stdout)["agent"]
    with server.client() as c:
        assert c.get("/v1/inbox", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        with psycopg.connect(server.env["DOCKET_DATABASE_URL"], autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{server.schema}".api_tokens SET revoked = true WHERE token_hash = %s',
                (hashlib.sha256(token.encode()).hexdigest(),),
            )
        for path in (
            "/v1/inbox",
            "/v1/tickets",
            "/v1/feed",
            "/v1/dashboard/summary",
            "/v1/audit/verify",
        ):
            for bearer in (token, token[:-1] + "x", "dkt_made_up"):
                answer = c.get(path, headers={"Authorization": f"Bearer {bearer}"})
                assert answer.status_code == 401, (path, answer.status_code)
                assert answer.headers["content-type"] == "application/problem+json"


def test_another_accounts_requester_never_finds_a_ticket_by_search_list_or_id(
    server: Server,
) -> None:
    filed = file_ticket(server, subject="Quokka migration plan", description="quokka words")
    wait = {"min_position": filed["position"]}
    with server.client("requester_other_account") as stranger:
        assert stranger.get("/v1/tickets", params={**wait, "q": "quokka"}).json()["tickets"] == []
        listed = stranger.get("/v1/tickets", params=wait).json()["tickets"]
        assert filed["id"] not in [t["id"] for t in listed]
        assert stranger.get(f"/v1/tickets/{filed['id']}", params=wait).status_code == 404
        northwind = server.tokens["accounts"]["northwind"]
        assert stranger.get(f"/v1/accounts/{northwind}/tickets").status_code == 403
    with server.client("requester") as owner:
        assert [
            t["id"]
            for t in owner.get("/v1/tickets", params={**wait, "q": "quokka"}).json()["tickets"]
        ] == [filed["id"]]


def test_odd_values_in_article_and_callback_requests_get_a_clear_4xx(server: Server) -> None:
    """Each of these answered 500 once: NUL in a query, a tzdata folder for a zone, a window
    at the ends of the calendar."""
    nul_queries = [
        ("requester", "/v1/articles/suggest", {"q": "sync", "product": "Fi\x00les"}),
        ("requester", "/v1/articles", {"product": "\x00"}),
        ("analyst", "/v1/dashboard/deflection", {"account": "a\x00b"}),
        ("analyst", "/v1/sla/summary", {"account": "a\x00b"}),
        ("agent", "/v1/accounts/a%00b/recommendations", {}),
    ]
    for role, path, params in nul_queries:
        with server.client(role) as c:
            answer = c.get(path, params=params)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    odd_callbacks = [
        {"time_zone": "Europe"},
        {"window_start": "9999-12-31T22:00:00-14:00", "window_end": "9999-12-31T23:00:00-14:00"},
        {"window_start": "0001-01-01T00:00:00+14:00", "window_end": "0001-01-01T01:00:00+14:00"},
    ]
    soon = datetime.now(UTC) + timedelta(hours=1)
    base = {"phone": "+14155552671", "subject": "Call me", "window_start": soon.isoformat(),
            "window_end": (soon + timedelta(hours=2)).isoformat()}  # fmt: skip
    with server.client("requester") as c:
        assert c.post("/v1/callbacks", json=base).status_code == 201  # the odd field decides
    for odd in odd_callbacks:
        with server.client("requester") as c:
            answer = c.post("/v1/callbacks", json={**base, **odd})
        assert answer.status_code == 422, (odd, answer.status_code, answer.text)


# --- every parameter of every route, every cursor ---------------------------------------

HOSTILE_VALUES = [
    "a\x00b",  # NUL: PostgreSQL text cannot hold it
    "\ud800",  # a lone surrogate (sent as the UTF-8 bytes of one)
    "%FF%FE",  # bytes that are no UTF-8 at all (sent as they are)
    "9" * 40,
    "-1",
    "-" + "9" * 25,
    "1e309",
    "2024-13-45",
    "99999-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",  # before the calendar begins, in UTC
    "9999-12-31T12:00:00Z",  # its last day: no day after it to count to
    "9999-12-30",  # no month after it
    "x" * 5000,
    "true",
    "",
    "../..",
    "00000000-0000-0000-0000-000000000000",
]


def url_text(value: str) -> str:
    if value.startswith("%"):
        return value
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def operations(server: Server) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Every route of the OpenAPI schema: method, path, its path and query parameters."""
    with server.client() as c:
        schema = c.get("/openapi.json").json()
    return [
        (method.upper(), path, [p for p in op.get("parameters", []) if p["in"] != "header"])
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    ]


def plausible_path(server: Server, number: str) -> dict[str, str]:
    """A value for each path parameter that names something of the demo desk."""
    return {
        "ticket": number, "account": server.tokens["accounts"]["northwind"],
        "member": "nobody", "product": "Files", "attachment_id": "0" * 64, "article_id": "x",
        "request_ref": "C-7KQ2M9XD", "tier": "standard", "staff": server.tokens["agent_id"],
        "group": "tier-1", "token_id": "00000000-0000-0000-0000-000000000000",
        "rejected_id": "1", "email": "nobody@partner.example",
        "view": "00000000-0000-0000-0000-000000000000",
        "macro": "00000000-0000-0000-0000-000000000000",
        "token": "not-a-survey-link",
    }  # fmt: skip


def with_value(
    path: str,
    params: list[dict[str, Any]],
    target: dict[str, Any],
    value: str,
    known: dict[str, str],
) -> str:
    url = path
    for p in params:
        if p["in"] == "path":
            url = url.replace(
                "{" + p["name"] + "}", url_text(value) if p is target else known[p["name"]]
            )
    if target["in"] == "query":
        url += f"?{target['name']}={url_text(value)}"
    return url


def assert_problem(answer: httpx.Response, where: str) -> None:
    assert answer.status_code < 500, (where, answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json", where
        body = answer.json()
        assert body["type"].startswith("https://docket.example/problems/"), where
        assert body["title"] and body["detail"], where


def test_every_parameter_of_every_read_takes_a_hostile_value_with_a_problem_not_a_500(
    server: Server,
) -> None:
    """NUL bytes, surrogates, bytes that are no UTF-8, huge and negative numbers, bad dates,
    bad UUIDs, very long strings: in each query and path parameter of each GET, for a Docket
    admin (who reaches most reads) and a requester. (A NUL in top-products' topic, a staff
    id, an account or an attachment id answered 500 once.)"""
    known = plausible_path(server, file_ticket(server)["number"])
    reads = [op for op in operations(server) if op[0] == "GET"]
    sent = 0
    for role in ("admin", "requester"):
        with server.client(role) as c:
            for _, path, params in reads:
                for target in params:
                    for value in HOSTILE_VALUES:
                        url = with_value(path, params, target, value, known)
                        assert_problem(c.get(url), f"{role} GET {url[:120]}")
                        sent += 1
    assert sent > 1000, server.log_tail()


def test_a_nul_in_any_path_or_query_parameter_of_any_route_is_refused_naming_it(
    server: Server,
) -> None:
    known = plausible_path(server, file_ticket(server)["number"])
    with server.client("admin") as c:
        for method, path, params in operations(server):
            for target in params:
                url = with_value(path, params, target, "a\x00b", known)
                answer = c.request(method, url, json={})
                assert answer.status_code == 422, (method, url, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.json()["errors"][0]["field"] == target["name"], (method, url)
                assert "remove it" in answer.json()["detail"]


def cursor_fields(cursor: str) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    )
    return fields


def cursor_of(fields: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


def test_a_list_cursor_with_fields_of_the_wrong_type_or_range_is_refused_as_damaged(
    server: Server,
) -> None:
    """The digest in a cursor proves it was made for the same filter, not that its fields
    are what Docket wrote: JSON ``true`` where a number belongs answered 500 once, and a
    snapshot past the list's position answered that position as if it had been read."""
    filed = [file_ticket(server, subject=f"Cursor {i}") for i in range(3)]
    with server.client("agent") as agent:
        for ticket in filed:
            assigned = agent.post(
                f"/v1/tickets/{ticket['number']}/assignment", json={"agent_id": "me"}
            )
            assert assigned.status_code == 200, assigned.text
    wait = assigned.json()["position"]
    lists = [
        ("requester", "/v1/tickets", ("attention", "last_activity", "created", "priority")),
        ("team_admin", f"/v1/accounts/{server.tokens['accounts']['northwind']}/tickets",
         ("last_activity", "created")),
        ("agent", "/v1/inbox", ("attention", "last_activity", "created", "priority", "due")),
        ("agent", f"/v1/staff/{server.tokens['agent_id']}/open-tickets", ("created",)),
    ]  # fmt: skip
    for role, path, sorts in lists:
        with server.client(role) as c:
            for sort in sorts:
                query: dict[str, Any] = {"sort": sort, "limit": 1}
                first = c.get(path, params={**query, "min_position": wait})
                assert first.status_code == 200, (path, first.text)
                real = cursor_fields(first.json()["next_cursor"])
                key = real["k"]
                damaged: list[object] = [
                    {**real, "s": True}, {**real, "s": -1}, {**real, "s": 10**30},
                    {**real, "s": real["s"] + 10**6}, {**real, "s": 1.5}, {**real, "s": "7"},
                    {**real, "k": [True, *key[1:]]}, {**real, "k": [10**30, *key[1:]]},
                    {**real, "k": [-(10**19), *key[1:]]}, {**real, "k": [1.5, *key[1:]]},
                    {**real, "k": [*key[:-1], 5]}, {**real, "k": [*key[:-1], "not-a-uuid"]},
                    {**real, "k": key[:-1]}, {**real, "k": {"a": 1}}, {**real, "r": "yes"},
                    [real],
                ]  # fmt: skip
                for fields in damaged:
                    answer = c.get(path, params={**query, "cursor": cursor_of(fields)})
                    assert answer.status_code == 400, (path, sort, fields, answer.text)
                    assert answer.json()["type"].endswith("/bad-cursor")
                    assert "start again" in answer.json()["detail"]
                follows = c.get(path, params={**query, "cursor": cursor_of(real)})
                assert follows.status_code == 200, (path, sort, follows.text)


def test_a_page_resumed_after_a_position_past_the_log_is_refused_like_min_position(
    server: Server,
) -> None:
    with server.client("admin") as admin:
        head = admin.get("/v1/feed", params={"after": 0, "limit": 1}).json()["position"]
        for path in ("/v1/feed", "/v1/contact-requests"):
            past = admin.get(path, params={"after": head + 10**6})
            waited = admin.get(path, params={"min_position": head + 10**6})
            for answer, field in ((past, "after"), (waited, "min_position")):
                assert answer.status_code == 422, (path, field, answer.text)
                assert answer.json()["type"].endswith("/invalid-field")
                assert answer.json()["errors"][0]["field"] == field
                assert "beyond the end of the log" in answer.json()["detail"]
            assert admin.get(path, params={"after": head}).status_code == 200


def test_a_chunked_body_over_the_limit_is_refused_413_on_every_kind_of_body(
    server: Server,
) -> None:
    """Without a Content-Length the limit is found while the body streams in; FastAPI
    answered 400 for it once."""

    def chunks(count: int, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
        yield head
        for _ in range(count):
            yield b"a" * 65536
        yield tail

    part = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n")  # fmt: skip
    posts = [  # a quarter past each limit (1 MiB; 10 MiB for files and raw email)
        ("requester", "/v1/tickets", "application/json", chunks(20, b'{"subject": "')),
        ("requester", "/v1/attachments", "multipart/form-data; boundary=XX",
         chunks(200, part, b"\r\n--XX--\r\n")),
        ("mail_gateway", "/v1/inbound/email", "message/rfc822", chunks(200, b"Subject: x\r\n\r\n")),
        (None, "/v1/contact", "application/json", chunks(20)),
    ]  # fmt: skip
    for role, path, content_type, body in posts:
        with server.client(role) as c:
            answer = c.post(path, content=body, headers={"Content-Type": content_type})
        assert answer.status_code == 413, (path, answer.status_code, answer.text[:200])
        assert answer.json()["type"].endswith("/body-too-large")
        assert "larger than" in answer.json()["detail"]


def test_a_follow_up_of_another_accounts_ticket_answers_as_one_that_does_not_exist(
    server: Server,
) -> None:
    theirs = file_ticket(server)  # Northwind's requester
    refusals = []
    for ref in (theirs["number"], theirs["id"], "T-999999", str(uuid.uuid4()), "T-0\x00"):
        with server.client("requester_other_account") as stranger:
            answer = stranger.post("/v1/tickets", json={
                "subject": "Again", "description": "Still.", "type": "bug", "follow_up_of": ref,
            })  # fmt: skip
        refusals.append((answer.status_code, answer.text.replace(json.dumps(ref)[1:-1], "REF")))
    assert len(set(refusals)) == 1, refusals
    status, body = refusals[0]
    assert status == 422 and json.loads(body)["errors"][0]["field"] == "follow_up_of"
