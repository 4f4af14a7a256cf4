"""32 clients write to one ticket at once: every acknowledged write is there exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import httpx

from tests.e2e.conftest import Server, file_ticket

CLIENTS = 32
WRITES_EACH = 4
BUSY_RETRIES = 5
"""How often a client sends a write again that was answered 503 ``ticket-busy`` (the patience
of the desk ran out, which a machine loaded by other work can make happen; the answer
says nothing was changed and to retry after ``Retry-After``)."""
KIND_OF_EVENT = {
    "reply": ("Ticket.MessageAdded",),
    "priority": ("Ticket.PriorityRaised", "Ticket.PriorityLowered"),
    "status": ("Ticket.StatusChanged",),
}


def busy(response: httpx.Response) -> bool:
    return response.status_code == 503 and response.json()["type"].endswith("/ticket-busy")


def test_thirty_two_clients_on_one_ticket_lose_nothing_and_repeat_nothing(server: Server) -> None:
    number = file_ticket(server, subject="Contended")["number"]
    answers: dict[str, tuple[str, int, dict[str, object]]] = {}  # request id -> kind, status, body
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        role = "agent" if n % 2 else "requester"
        with server.client(role) as c:
            start.wait()
            for i in range(WRITES_EACH):
                rid = f"c{n}-w{i}-{uuid.uuid4().hex[:6]}"
                headers = {"X-Request-ID": rid}
                if role == "agent" and i % 2:
                    kind, path, body = (
                        "priority",
                        "priority",
                        {"priority": ("high", "low")[n % 4 // 2]},
                    )
                elif role == "agent" and i == 2:
                    kind, path, body = "status", "status", {"status": "pending"}
                else:
                    kind, path, body = "reply", "messages", {"body": rid}
                for _ in range(BUSY_RETRIES):  # as a client is told to: nothing was written
                    response = c.post(f"/v1/tickets/{number}/{path}", json=body, headers=headers)
                    if not busy(response):
                        break
                    time.sleep(float(response.headers["Retry-After"]))
                with lock:
                    answers[rid] = (kind, response.status_code, response.json())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(answers) == CLIENTS * WRITES_EACH
    assert [a for a in answers.values() if a[1] >= 500] == []
    acknowledged = {rid: kind for rid, (kind, status, _) in answers.items() if status < 300}
    for kind, status, body in answers.values():  # refusals only for changes that change nothing
        if status >= 400:
            assert kind in ("priority", "status") and status == 409, body
    last = max(int(str(body["position"])) for _, status, body in answers.values() if status < 300)

    with server.client("auditor") as auditor:
        history = auditor.get(f"/v1/audit/tickets/{number}/events").json()["events"]
        detail = auditor.get(f"/v1/tickets/{number}", params={"min_position": last}).json()
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))
    by_request: dict[str, list[str]] = {}
    for e in history[1:]:
        by_request.setdefault(e["correlation_id"], []).append(e["kind"])
    assert set(by_request) == set(acknowledged)  # nothing refused or unanswered got in
    for rid, kinds in by_request.items():
        expected = KIND_OF_EVENT[acknowledged[rid]]
        assert len([k for k in kinds if k in expected]) == 1, (rid, kinds)  # exactly once
        others = [k for k in kinds if k not in expected]
        # a requester's reply on a pending ticket also re-opens it, in the same request
        assert others in ([], ["Ticket.StatusChanged"]), (rid, kinds)
    replies = Counter(m["body"] for m in detail["conversation"][1:])
    assert replies == Counter(rid for rid, k in acknowledged.items() if k == "reply")
    assert detail["version"] == len(history)
