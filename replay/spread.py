"""A rebuild's bulk spread over processes: groups of views, each folded by a process of its own.

Folding, not reading, is what a rebuild spends its time on: over the bench's
log, reading and decoding every event costs about an eighteenth of what the views
then spend folding them and writing their rows (``python -m bench.rebuild``
reports both; docs/scaling.md has the profile). One Python process folds on one
core whatever its threads do, so the views are dealt into groups of about equal
cost (:data:`COST`), and each group is folded by a process of its own, started
afresh for each stretch of the log.

Each process reads and decodes the log itself, only the event classes its own
views handle, rather than taking events decoded once by the parent: handing a
decoded event to another process means pickling and unpickling it, for a saving
no larger than the decode (an eighteenth of the work), and the parent would be
one more process to feed. All the processes fold exactly the same stretch (after ``start``, up to
``target``), each committing its views' batches with their shadow tracking
rows, so the shadows all stand at one position when the stretch is done.

A process that fails or dies stops the others: the rebuild raises
:class:`RebuildInterrupted` naming the views and why, and swaps nothing in. A
process whose rebuild has gone (killed) stops at its next batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

import psycopg

from projections.kit import Tables, View
from replay.shadow_fold import SHADOW, RebuildReport, bulk
from store.eventstore import docket_mapper

COST: dict[str, float] = {
    "audit_feed": 8.8,
    "customer_tickets": 8.2,
    "ticket_detail": 6.2,
    "inbox": 6.1,
    "automations": 4.3,
    "dashboard": 3.2,
    "outbox": 2.5,
    "sla": 2.2,
    "log_seal": 1.9,
    "tag_counts": 0.8,
}
"""Seconds each view took to fold 100,000 events of ``bench.rebuild``'s log on its own
(serially, under cProfile, on this 2-core machine): only their proportions matter. A
view not named costs :data:`SMALL`."""
SMALL = 0.1
POLL_SECONDS = 0.25


class RebuildInterrupted(RuntimeError):
    """A process folding some of the views failed or died: nothing was swapped in."""


def deal(views: Sequence[View], processes: int) -> list[list[View]]:
    """The views in at most ``processes`` groups of about equal cost (costliest first,
    each to the group that costs least so far); no group empty."""
    groups: list[list[View]] = [[] for _ in range(max(1, min(processes, len(views))))]
    costs = [0.0] * len(groups)
    for view in sorted(views, key=lambda v: -COST.get(v.name, SMALL)):
        cheapest = costs.index(min(costs))
        groups[cheapest].append(view)
        costs[cheapest] += COST.get(view.name, SMALL)
    return groups


def bulk_spread(
    url: str,
    schema: str,
    groups: Sequence[Sequence[View]],
    batch_size: int,
    report: RebuildReport,
    show: Callable[[int, int], None],
    *,
    start: int,
    target: int,
) -> int:
    """Fold the log after ``start`` up to ``target`` into every group's shadows, one
    process per group; the position reached. ``show`` is told, now and then, the
    position every group has passed and how many events that is."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    counters = context.Array("q", 2 * len(groups), lock=False)
    pipes = [context.Pipe(duplex=False) for _ in groups]
    me = os.getpid()
    processes = [
        context.Process(
            target=fold_group,
            args=(url, schema, list(group), batch_size, start, target, i, counters, sender, me),
            name=f"docket-rebuild-{i}",
            daemon=True,
        )
        for i, (group, (_, sender)) in enumerate(zip(groups, pipes, strict=True))
    ]
    answers: dict[int, tuple[Any, ...]] = {}
    try:
        for process in processes:
            process.start()
        for _, sender in pipes:
            sender.close()
        while len(answers) < len(processes):
            pending = [i for i in range(len(processes)) if i not in answers]
            wait([pipes[i][0] for i in pending] + [processes[i].sentinel for i in pending],
                 timeout=POLL_SECONDS)  # fmt: skip
            for i in pending:
                answer = receive(pipes[i][0], processes[i])
                if answer is not None:
                    answers[i] = answer
            failed = {i: a[1] for i, a in answers.items() if a[0] == "failed"}
            if failed:
                raise RebuildInterrupted(
                    "; ".join(
                        f"folding {', '.join(v.name for v in groups[i])} failed: {why}"
                        for i, why in sorted(failed.items())
                    )
                    + ". Nothing was swapped in: the live views are as they were."
                )
            reached = [counters[2 * i] for i in range(len(groups))]
            folded = [counters[2 * i + 1] for i in range(len(groups))]
            show(max(start, min(reached)), min(folded))
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for receiver, _ in pipes:
            receiver.close()
    positions = {a[1] for a in answers.values()}
    if len(positions) != 1:  # cannot happen on a log only ever appended to
        raise RebuildInterrupted(
            f"the groups of views reached different positions {sorted(positions)}: the log "
            "changed under the rebuild. Nothing was swapped in."
        )
    for _, _, _, failures, unreadable in answers.values():
        for name, lines in failures.items():
            report.failures[name] += lines
        report.unreadable.update(unreadable)
    report.events += max(a[2] for a in answers.values())
    return int(positions.pop())


def receive(pipe: Connection, process: Any) -> tuple[Any, ...] | None:
    """What a group's process sent, else why it has ended without, else ``None`` (busy)."""
    alive = process.is_alive()  # first: an answer sent just before it ended is read below
    try:
        if pipe.poll():
            answer: tuple[Any, ...] = pipe.recv()
            return answer
    except EOFError:  # closed without a word: it died
        alive = False
    if alive:
        return None
    process.join()
    return ("failed", f"its process ended (exit code {process.exitcode})")


def fold_group(
    url: str,
    schema: str,
    views: list[View],
    batch_size: int,
    start: int,
    target: int,
    index: int,
    counters: Any,
    answer: Connection,
    parent: int,
) -> None:
    """In a process of its own: fold one group's stretch, then send what came of it."""
    report = RebuildReport([v.name for v in views], failures={v.name: [] for v in views})

    def show(position: int) -> None:
        counters[2 * index], counters[2 * index + 1] = position, report.events
        if os.getppid() != parent:  # the rebuild is gone: nobody will swap this in
            raise SystemExit(1)

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            position = bulk(url, conn, schema, views, Tables(schema, SHADOW), batch_size,
                            docket_mapper(), report, show, start=start, target=target)  # fmt: skip
        answer.send(("done", position, report.events, report.failures, report.unreadable))
    except BaseException as error:
        answer.send(("failed", f"{type(error).__name__}: {error}"[:1000]))
    finally:
        answer.close()
