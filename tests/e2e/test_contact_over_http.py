"""The contact form over HTTP: the same answer for every address, bounded, and worked by agents.

Each test sends from client addresses of its own (``X-Forwarded-For``, which the
server trusts from 127.0.0.1 as uvicorn does behind a local proxy), so the limits
it meets are its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from domain.contact import PER_ADDRESS, PER_EMAIL
from tests.e2e.conftest import Server

KNOWN = "tom@northwind.example"
"""A member of a paid account (the demo's team admin)."""


def address() -> str:
    """A client address no other test sends from."""
    a, b, c = uuid.uuid4().bytes[:3]
    return f"10.{a}.{b}.{c}"


def form(email: str, **fields: str) -> dict[str, str]:
    return {
        "name": "Ada Lovelace",
        "email": email,
        "subject": "I cannot sign in",
        "description": "The reset email never arrives.",
        "product": "Files",
        **fields,
    }


def send(server: Server, email: str, client: str | None = None, **fields: str) -> httpx.Response:
    with server.client() as anonymous:
        return anonymous.post(
            "/v1/contact",
            json=form(email, **fields),
            headers={"X-Forwarded-For": client or address()},
        )


def eventually(read: Callable[[], httpx.Response], ready: Callable[[Any], bool]) -> Any:
    """The first answer of ``read`` that is ``ready`` (the views follow the log in a moment)."""
    deadline = time.monotonic() + 10
    while True:
        response = read()
        if response.status_code == 200 and ready(response.json()):
            return response.json()
        assert time.monotonic() < deadline, response.text
        time.sleep(0.1)


def stranger() -> str:
    return f"nobody-{uuid.uuid4().hex[:10]}@nowhere.example"


def test_a_known_and_an_unknown_address_get_the_same_answer(server: Server) -> None:
    known, unknown = send(server, KNOWN), send(server, stranger())
    assert known.status_code == unknown.status_code == 202
    assert known.headers.keys() == unknown.headers.keys()
    assert known.headers["content-length"] == unknown.headers["content-length"]
    a, b = known.json(), unknown.json()
    assert a.keys() == b.keys() == {"reference", "detail"}
    assert a["detail"] == b["detail"]
    assert a["reference"] != b["reference"]
    assert a["reference"].startswith("C-") and len(a["reference"]) == 10


def test_the_form_needs_no_token_and_checks_its_fields(server: Server) -> None:
    refused = send(server, "not an address")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "email"


def test_one_client_address_is_refused_past_its_limit_and_told_when_to_retry(
    server: Server,
) -> None:
    client = address()
    first_burst = [send(server, stranger(), client).status_code for _ in range(PER_ADDRESS)]
    assert first_burst == [202] * PER_ADDRESS
    second_burst = [send(server, stranger(), client) for _ in range(2)]
    for refused in second_burst:
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/too-many-contact-requests")
        assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert send(server, stranger()).status_code == 202  # another client is not held up


def test_one_email_address_is_refused_past_its_limit_from_any_client(server: Server) -> None:
    email = stranger()
    assert [send(server, email).status_code for _ in range(PER_EMAIL)] == [202] * PER_EMAIL
    refused = send(server, email.upper())
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def queue_holds(reference: str) -> Callable[[Any], bool]:
    return lambda page: reference in [r["reference"] for r in page["requests"]]


def test_agents_find_the_request_in_their_queue_and_answer_it_by_email(server: Server) -> None:
    email = stranger()
    reference = send(server, email, subject="Locked out").json()["reference"]
    with server.client("agent") as agent:
        page = eventually(
            lambda: agent.get("/v1/contact-requests", params={"limit": 100}),
            queue_holds(reference),
        )
        row = next(r for r in page["requests"] if r["reference"] == reference)
        assert (row["state"], row["email"], row["subject"]) == ("waiting", email, "Locked out")
        detail = agent.get(f"/v1/contact-requests/{reference.lower()}")
        assert detail.status_code == 200
        assert detail.json()["accounts"] == []
        answered = agent.post(
            f"/v1/contact-requests/{reference}/answer",
            json={"body": "Here is a new link."},
            headers={"If-Match": '"1"', "Idempotency-Key": f"answer-{reference}"},
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["version"] == 2
        stale = agent.post(
            f"/v1/contact-requests/{reference}/answer",
            json={"body": "Again."},
            headers={"If-Match": '"1"'},
        )
        assert stale.status_code == 412
        position = answered.json()["position"]
        done = agent.get(f"/v1/contact-requests/{reference}", params={"min_position": position})
        assert done.json()["state"] == "answered"
        assert [a["body"] for a in done.json()["answers"]] == ["Here is a new link."]
        assert done.json()["answers"][0]["author"]["name"] == "Alex Agent"
        assert not queue_holds(reference)(agent.get("/v1/contact-requests").json())
    with server.client("admin") as admin:
        mails = eventually(
            lambda: admin.get("/v1/admin/outbox", params={"ticket": reference}),
            lambda page: len(page["emails"]) == 1,
        )["emails"]
    assert mails[0]["recipients"] == [email]
    assert reference in mails[0]["subject"]
    assert "Here is a new link." in mails[0]["body"]


def test_a_members_request_becomes_a_ticket_filed_for_them(server: Server) -> None:
    reference = send(server, "Rita@Northwind.example", subject="Cannot sign in").json()[
        "reference"
    ]
    northwind = server.tokens["accounts"]["northwind"]
    with server.client("agent") as agent:
        detail = eventually(
            lambda: agent.get(f"/v1/contact-requests/{reference}"), lambda d: d["version"] == 1
        )
        assert [(a["account_id"], a["plan"]) for a in detail["accounts"]] == [
            (northwind, "business")
        ]
        filed = agent.post(
            f"/v1/contact-requests/{reference}/ticket",
            json={"account_id": northwind, "type": "technical"},
        )
        assert filed.status_code == 201, filed.text
        number = filed.json()["number"]
        again = agent.post(
            f"/v1/contact-requests/{reference}/ticket", json={"account_id": northwind}
        )
        assert again.status_code == 409
        assert again.json()["type"].endswith("/contact-already-a-ticket")
        assert number in again.json()["detail"]
        answer = agent.post(f"/v1/contact-requests/{reference}/answer", json={"body": "x"})
        assert answer.status_code == 409
        position = filed.json()["position"]
        request = agent.get(f"/v1/contact-requests/{reference}", params={"min_position": position})
        assert (request.json()["state"], request.json()["ticket_number"]) == ("ticket", number)
    with server.client("requester") as rita:
        ticket = rita.get(f"/v1/tickets/{number}", params={"min_position": position})
    assert ticket.status_code == 200, ticket.text
    assert ticket.json()["subject"] == "Cannot sign in"
    assert ticket.json()["type"] == "technical"
    assert ticket.json()["support_group"] == "tier-1"  # routed as any ticket of a Business account
    with server.client("admin") as admin:
        told = admin.get(
            "/v1/admin/outbox", params={"ticket": reference, "min_position": position}
        ).json()["emails"]
    assert [(m["reason"], m["recipients"]) for m in told] == [
        ("contact_ticket", ["Rita@Northwind.example"])
    ]
    assert f"[{number}]" in told[0]["subject"]  # a reply lands in the ticket


def test_a_request_becomes_no_ticket_for_a_stranger_or_on_a_free_plan(server: Server) -> None:
    accounts = server.tokens["accounts"]
    cases = [(stranger(), accounts["northwind"]), ("fran@freebies.example", accounts["freebies"])]
    with server.client("agent") as agent:
        for email, account in cases:
            reference = send(server, email).json()["reference"]
            refused = agent.post(
                f"/v1/contact-requests/{reference}/ticket", json={"account_id": account}
            )
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"].endswith("/contact-not-fileable")
            assert "answer the request by email" in refused.json()["detail"]
