"""A small HTTP/1.1 load generator on asyncio (uvloop): keep-alive connections, no parsing
beyond the status line and ``content-length``.

A general client (httpx) spends more CPU per request than the server it measures; on a
2-core machine the client would then set the limit. This one costs a few tens of
microseconds per request, so the figures are the server's. It is used for every HTTP
figure (the bare baseline and Docket alike), so their ratio is fair.

* :func:`closed_loop`: ``connections`` clients, each sending its next request when the
  last one is answered, for ``seconds``: the most the server sustains (requests/s).
* :func:`open_loop`: requests started on a fixed schedule at ``rate``/s whatever the
  answers do; a latency is measured from the scheduled instant, so a stall is not
  hidden by requests that were never sent (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile by nearest rank (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str | None = None
    body: Any = None


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request) -> Answer:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{request.method} {request.path} HTTP/1.1", f"host: {self.host}"]
        if request.token:
            head.append(f"authorization: Bearer {request.token}")
        payload = b""
        if request.body is not None:
            payload = json.dumps(request.body).encode()
            head.append("content-type: application/json")
        head.append(f"content-length: {len(payload)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                self.close()
        body = await self.reader.readexactly(length) if length and self.reader else b""
        return Answer(status, body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    """What a load run saw."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def record(self, status: int, ms: float) -> None:
        self.latencies_ms.append(ms)
        self.statuses[status] = self.statuses.get(status, 0) + 1


Next = Callable[[int], Request]
"""The ``i``-th request of a run."""
Seen = Callable[[Request, Answer], None]
"""Told every answer (e.g. to remember a filed ticket)."""


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def _closed_loop(
    base_url: str, next_request: Next, connections: int, seconds: float, seen: Seen | None
) -> Tally:
    host, port = _address(base_url)
    tally = Tally()
    counter = iter(range(1 << 62))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection(host, port)
        try:
            while time.perf_counter() < deadline:
                request = next_request(next(counter))
                began = time.perf_counter()
                answer = await conn.send(request)
                tally.record(answer.status, (time.perf_counter() - began) * 1000)
                if seen is not None:
                    seen(request, answer)
        finally:
            conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    tally.seconds = time.perf_counter() - began
    return tally


async def _open_loop(
    base_url: str,
    next_request: Next,
    rate: float,
    seconds: float,
    seen: Seen | None,
    max_in_flight: int = 64,
) -> Tally:
    host, port = _address(base_url)
    tally = Tally()
    idle: list[Connection] = []
    total = max(1, int(rate * seconds))
    start = time.perf_counter() + 0.05
    pending: set[asyncio.Task[None]] = set()

    # a server that falls behind the schedule is not sent thousands of sockets: requests
    # beyond this many in flight wait their turn (their wait counts in their latency)
    slots = asyncio.Semaphore(max_in_flight)

    async def one(i: int, due: float) -> None:
        async with slots:
            conn = idle.pop() if idle else Connection(host, port)
            request = next_request(i)
            try:
                answer = await conn.send(request)
            except (OSError, asyncio.IncompleteReadError):
                conn.close()
                tally.record(599, (time.perf_counter() - due) * 1000)
                return
            tally.record(answer.status, (time.perf_counter() - due) * 1000)
            idle.append(conn)
        if seen is not None:
            seen(request, answer)

    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    tally.seconds = time.perf_counter() - start
    for conn in idle:
        conn.close()
    return tally


def _run(coroutine: Any) -> Tally:
    import uvloop

    result: Tally = uvloop.run(coroutine)
    return result


def closed_loop(
    base_url: str,
    next_request: Next,
    *,
    connections: int,
    seconds: float,
    seen: Seen | None = None,
) -> Tally:
    """As many requests as ``connections`` clients get answered in ``seconds``."""
    return _run(_closed_loop(base_url, next_request, connections, seconds, seen))


def open_loop(
    base_url: str, next_request: Next, *, rate: float, seconds: float, seen: Seen | None = None
) -> Tally:
    """``rate`` requests/s on a fixed schedule for ``seconds``; latency from the schedule."""
    return _run(_open_loop(base_url, next_request, rate, seconds, seen))


def sequential(base_url: str, requests: list[Request]) -> tuple[list[float], list[Answer]]:
    """Each request alone on one keep-alive connection: round-trip milliseconds, answers."""

    async def go() -> tuple[list[float], list[Answer]]:
        conn = Connection(*_address(base_url))
        took: list[float] = []
        answers: list[Answer] = []
        try:
            for request in requests:
                began = time.perf_counter()
                answers.append(await conn.send(request))
                took.append((time.perf_counter() - began) * 1000)
        finally:
            conn.close()
        return took, answers

    import uvloop

    result: tuple[list[float], list[Answer]] = uvloop.run(go())
    return result
