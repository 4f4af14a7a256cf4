"""``docket serve --workers 2``: two API processes on one port, one projection process.

A keep-alive connection is answered by one worker for as long as it lives, so each test
pins clients to workers first: a client's ``/metrics`` names the process that answered
(``docket_api_pid``), and the test keeps opening connections until it holds one to each
worker. Everything after that is known to cross processes.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from api.metrics import FLUSH_SECONDS
from bench.harness import Server, docket_server
from store.eventstore import docket_mapper
from store.log import log_rows
from tests.builders import write_while_following


@pytest.fixture(scope="module")
def two_workers(database_url: str) -> Iterator[Server]:
    with docket_server(
        database_url, "--workers", "2", DOCKET_AUTOMATION_SWEEP_SECONDS="0"
    ) as running:
        yield running


def answering_pid(client: httpx.Client) -> int:
    found = re.search(r"^docket_api_pid (\d+)$", client.get("/metrics").text, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def pinned(server: Server, role: str | None = None) -> dict[int, httpx.Client]:
    """A client on each of the two workers (by pid), each on its own keep-alive connection.

    A worker takes connections once it has started, and on a loaded machine the second
    may start well after the first answered: new connections are tried until both have."""
    held: dict[int, httpx.Client] = {}
    deadline = time.monotonic() + 300
    while len(held) < 2 and time.monotonic() < deadline:
        client = server.client(role)
        pid = answering_pid(client)
        if pid in held:
            client.close()
            time.sleep(0.05)
        else:
            held[pid] = client
    assert len(held) == 2, f"every connection reached one worker: {list(held)}"
    return held


def children(pid: int) -> list[tuple[int, str]]:
    """The processes whose parent is ``pid``: (pid, command line)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(stat.parent.name), command))
    return found


def api_worker_pids(server_pid: int) -> list[int]:
    """The API processes uvicorn's supervisor started for the server (spawned, not forked)."""
    return [p for p, command in children(server_pid) if "multiprocessing.spawn" in command]


def http_counts(text: str) -> dict[str, int]:
    """``docket_http_requests_total`` samples by their labels, and per process by pid."""
    found = {}
    for labels, value in re.findall(r"^docket_http_(?:process_)?requests_total\{(.*)\} (\d+)$",
                                    text, re.MULTILINE):  # fmt: skip
        found[labels] = int(value)
    return found


def test_two_workers_answer_on_one_port_and_one_process_keeps_the_views(
    two_workers: Server,
) -> None:
    clients = pinned(two_workers, "requester")
    spawned = children(two_workers.pid)
    projecting = [p for p, command in spawned if "api.cli project" in command]
    assert len(projecting) == 1, spawned  # one projection process for the deployment
    assert set(clients) == set(api_worker_pids(two_workers.pid))  # the API's two workers
    first, second = clients.values()
    filed = first.post("/v1/tickets", json={"subject": "Both", "description": "d", "type": "bug"})
    assert filed.status_code == 201, filed.text
    # the other worker reads it from the views the one projection process keeps
    read = second.get(f"/v1/tickets/{filed.json()['number']}",
                      params={"min_position": filed.json()["position"]})  # fmt: skip
    assert read.status_code == 200, read.text
    assert read.json()["subject"] == "Both"
    for client in clients.values():
        client.close()


def test_the_same_idempotency_key_sent_to_two_workers_files_one_ticket(
    two_workers: Server,
) -> None:
    one, other = pinned(two_workers, "requester").values()
    subject = "Once " + uuid.uuid4().hex
    body = {"subject": subject, "description": "Retried elsewhere.", "type": "bug"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = one.post("/v1/tickets", json=body, headers=key)
    again = other.post("/v1/tickets", json=body, headers=key)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    # and at once on both, racing: one answer, whichever worker decides
    key = {"Idempotency-Key": uuid.uuid4().hex}
    raced = {**body, "subject": subject + " raced"}
    clients = (one, other)
    answers: dict[int, httpx.Response] = {}

    def race(i: int) -> None:
        answers[i] = clients[i].post("/v1/tickets", json=raced, headers=key)

    racers = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    settled = []
    for i, client in enumerate(clients):
        got = answers[i]
        while got.status_code == 409:  # the other worker's first request still runs
            assert got.json()["type"].endswith("idempotency-key-in-flight")
            time.sleep(0.1)
            got = client.post("/v1/tickets", json=raced, headers=key)
        settled.append(got)
    assert settled[0].status_code == settled[1].status_code == 201
    assert settled[0].json() == settled[1].json()
    listed = one.get(
        "/v1/tickets", params={"q": subject, "min_position": settled[0].json()["position"]}
    )
    assert listed.status_code == 200, listed.text
    assert sorted(t["subject"] for t in listed.json()["tickets"]) == [subject, subject + " raced"]
    one.close()
    other.close()


def test_a_token_revoked_through_one_worker_is_refused_at_once_by_the_other(
    two_workers: Server,
) -> None:
    one, other = pinned(two_workers, "admin").values()
    issued = one.post("/v1/tokens", json={"name": "two-workers"})
    assert issued.status_code == 201, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert other.get("/v1/me", headers=bearer).status_code == 200
    assert one.delete(f"/v1/tokens/{issued.json()['id']}").status_code == 204
    refused = other.get("/v1/me", headers=bearer)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    one.close()
    other.close()


def test_metrics_count_the_answers_of_every_worker(two_workers: Server) -> None:
    clients = pinned(two_workers, "requester")
    (pid_a, a), (pid_b, b) = clients.items()
    route = 'method="GET",route="/v1/me",status="200"'
    time.sleep(2 * FLUSH_SECONDS)  # the earlier tests' answers are all written down
    before = http_counts(a.get("/metrics").text)
    for _ in range(3):
        assert a.get("/v1/me").status_code == 200
    for _ in range(5):
        assert b.get("/v1/me").status_code == 200
    deadline = time.monotonic() + 10
    while True:  # the other worker's counts reach the folder within half a second
        seen = {pid: http_counts(c.get("/metrics").text) for pid, c in clients.items()}
        if all(s.get(route, 0) == before.get(route, 0) + 8 for s in seen.values()):
            break
        assert time.monotonic() < deadline, (
            before.get(route),
            {p: s.get(route) for p, s in seen.items()},
        )
        time.sleep(0.2)
    for counts in seen.values():  # each worker's own share is there too
        assert counts.get(f'pid="{pid_a}"', 0) >= 3 and counts.get(f'pid="{pid_b}"', 0) >= 5
    for client in clients.values():
        client.close()


def test_healthz_answers_the_same_views_from_every_worker(two_workers: Server) -> None:
    clients = pinned(two_workers, "requester")
    filed = next(iter(clients.values())).post(
        "/v1/tickets", json={"subject": "Health", "description": "d", "type": "bug"}
    )
    assert filed.status_code == 201
    deadline = time.monotonic() + 30
    while True:
        health = {pid: c.get("/healthz").json() for pid, c in clients.items()}
        caught_up = all(
            h["status"] == "ok" and all(v["lag"] == 0 for v in h["projections"].values())
            for h in health.values()
        )
        if caught_up and len({h["position"] for h in health.values()}) == 1:
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.2)
    one, other = health.values()
    assert one == other  # the same database, the same views: the same answer
    assert one["position"] >= filed.json()["position"]
    for client in clients.values():
        client.close()


def test_appends_through_two_workers_reach_a_follower_of_the_log_exactly_once(
    two_workers: Server,
) -> None:
    """The gap test over HTTP: writers on both workers, a follower tailing the log."""
    schema, url = two_workers.schema, two_workers.env["DOCKET_DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        start = log_rows(conn, schema, 0, 1_000_000)[-1][0]
    acknowledged: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    seen: list[int] = []

    def follow() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            position = start
            while True:
                still = writing.is_set()
                batch = log_rows(conn, schema, position, 50)
                seen.extend(int(row[0]) for row in batch)
                if batch:
                    position = batch[-1][0]
                elif not still:
                    return

    def write(n: int, client: httpx.Client) -> None:
        numbers: list[str] = []
        for i in range(24):
            key = f"gap-{n}-{i}-{uuid.uuid4().hex[:6]}"
            headers = {"Idempotency-Key": key, "X-Request-ID": key}
            if i % 3 == 0 or not numbers:
                body = {"subject": key, "description": "gap", "type": "bug"}
                answer = client.post("/v1/tickets", json=body, headers=headers)
                numbers.append(answer.json()["number"])
            else:
                answer = client.post(f"/v1/tickets/{numbers[-1]}/messages",
                                     json={"body": key}, headers=headers)  # fmt: skip
            assert answer.status_code in (200, 201), answer.text
            with lock:
                acknowledged[key] = answer.json()

    clients = [c for _ in range(3) for c in pinned(two_workers, "requester").values()]
    follower = threading.Thread(target=follow)
    writers = [threading.Thread(target=write, args=(n, c)) for n, c in enumerate(clients)]
    write_while_following(follower, writers, writing)

    mapper = docket_mapper()
    with psycopg.connect(url, autocommit=True) as conn:
        stored = log_rows(conn, schema, start, 1_000_000)
    assert len(seen) == len(set(seen)), "the follower saw an event twice"
    assert seen == [int(row[0]) for row in stored], "the follower skipped an event"
    written: dict[str, int] = {}
    for row in stored:
        event: Any = mapper.to_domain_event(StoredEvent(row[1], row[2], row[3], bytes(row[4])))
        if type(event).__qualname__ in ("Ticket.Opened", "Ticket.MessageAdded"):
            written[event.stamp.causation_id] = written.get(event.stamp.causation_id, 0) + 1
    assert len(acknowledged) == len(clients) * 24
    assert all(written.get(key) == 1 for key in acknowledged), (
        "an acknowledged write is not there once"
    )
    assert {int(a["position"]) for a in acknowledged.values()} <= set(seen)
    for client in clients:
        client.close()
