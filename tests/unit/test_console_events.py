"""The console's event stream as text: what it tells, its heartbeats, its end."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api.pages.console import console_events


def run(coroutine: Coroutine[Any, Any, list[str]]) -> list[str]:
    """The coroutine run on an event loop of its own (the browser tests' Playwright keeps
    one running on this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def opened(position: int, number: str) -> dict[str, Any]:
    return {"position": position, "kind": "Ticket.Opened", "ticket_number": number}


class Log:
    """The ticket events a stream reads, arriving as the test says; every ``after`` asked."""

    def __init__(self, batches: list[tuple[list[dict[str, Any]], int]]) -> None:
        self.batches = batches
        self.asked: list[int] = []

    async def read(self, after: int) -> tuple[list[dict[str, Any]], int]:
        self.asked.append(after)
        return self.batches.pop(0) if self.batches else ([], after)


async def everything(
    log: Log, after: int, *, lifetime: float, heartbeat: float, poll: float
) -> list[str]:
    stream = console_events(log.read, after, lifetime=lifetime, heartbeat=heartbeat, poll=poll)
    return [text async for text in stream]


def test_each_event_is_told_with_its_position_as_id_and_only_its_kind_and_number() -> None:
    log = Log([([opened(7, "T-000003"), opened(9, "T-000004")], 12)])
    told = run(everything(log, 5, lifetime=0.05, heartbeat=10, poll=0.01))
    assert told[0] == "retry: 2000\n\n"
    assert told[1:3] == [
        'id: 7\ndata: {"kind": "Ticket.Opened", "number": "T-000003"}\n\n',
        'id: 9\ndata: {"kind": "Ticket.Opened", "number": "T-000004"}\n\n',
    ]
    assert log.asked[:2] == [5, 12]  # on from where the last read ended, not the last id


def test_a_quiet_stream_sends_heartbeats() -> None:
    async def first_three_heartbeats() -> list[str]:
        told: list[str] = []
        stream = console_events(Log([]).read, 0, lifetime=60, heartbeat=0.05, poll=0.01)
        async for text in stream:
            told.append(text)
            if len([t for t in told if t.startswith(":")]) == 3:
                break
        return told

    told = run(asyncio.wait_for(first_three_heartbeats(), 30))
    assert told[0] == "retry: 2000\n\n"
    assert told[1:] == [": heartbeat\n\n"] * 3  # nothing else while the log is quiet


def test_a_quiet_stream_ends_after_its_lifetime() -> None:
    log = Log([])
    told = run(asyncio.wait_for(everything(log, 0, lifetime=0.2, heartbeat=10, poll=0.01), 30))
    assert told == ["retry: 2000\n\n"]  # ended by itself, before the heartbeat was due
    assert len(log.asked) >= 2  # it kept reading while it lived


def test_a_stream_whose_session_ended_stops_at_the_next_heartbeat() -> None:
    asked: list[bool] = []

    async def signed_in() -> bool:
        asked.append(True)
        return len(asked) < 2  # signed out after the first heartbeat

    stream = console_events(
        Log([]).read, 0, lifetime=60, heartbeat=0.02, poll=0.01, signed_in=signed_in
    )
    told = run(asyncio.wait_for(collect(stream), 30))
    assert told == ["retry: 2000\n\n", ": heartbeat\n\n"]
    assert len(asked) == 2


def test_a_busy_stream_whose_session_ended_stops_too() -> None:
    class Busy(Log):
        async def read(self, after: int) -> tuple[list[dict[str, Any]], int]:
            await asyncio.sleep(0.001)
            return [opened(after + 1, "T-000001")], after + 1

    async def signed_out() -> bool:
        return False

    stream = console_events(
        Busy([]).read, 0, lifetime=60, heartbeat=0.05, poll=0.01, signed_in=signed_out
    )
    told = run(asyncio.wait_for(collect(stream), 30))  # ends by itself, long before 60 s
    assert told[0] == "retry: 2000\n\n" and told[1].startswith("id: 1\n")
    assert not [t for t in told if t.startswith(":")]


def test_the_first_read_made_before_the_stream_opened_is_told_first() -> None:
    log = Log([])
    first = ([opened(3, "T-000001")], 3)
    told = run(
        asyncio.wait_for(
            collect(console_events(log.read, 2, first, lifetime=0.02, heartbeat=10, poll=0.01)),
            5,
        )
    )
    assert told[1].startswith("id: 3\n")
    assert log.asked[0] == 3  # the stream reads on after the first read, not again from 2


async def collect(stream: Any) -> list[str]:
    return [text async for text in stream]
